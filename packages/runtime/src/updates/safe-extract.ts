import { closeSync, createReadStream, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { UpdateError } from './update-error.js';

/**
 * A small tar reader for the offline bundle: plain files and folders under one top-level folder,
 * nothing else. We read the archive ourselves rather than hand it to a general extractor so that
 * every refusal is decided before a byte of the entry reaches the disk: links, devices, fifos,
 * absolute paths, `..`, entries outside the top folder and duplicates are all refused, and the
 * archive's owners and modes are ignored (files get 0644, or 0755 when any execute bit is set).
 */

/** What a bundle path segment may contain (BUNDLE-FORMAT.md). */
const SEGMENT = /^[A-Za-z0-9._+@-]+$/;
const BLOCK = 512;

export interface ExtractLimits {
  /** Largest total of file bytes written (a guard against decompression bombs). */
  maxBytes: number;
  /** Most entries accepted. */
  maxEntries: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = { maxBytes: 8 * 1024 ** 3, maxEntries: 200_000 };

export interface Extracted {
  /** The one top-level folder's name. */
  top: string;
  /** Its absolute path under the destination. */
  root: string;
  /** Paths of the regular files written, relative to `root`. */
  files: string[];
}

const unsafe = (message: string) => new UpdateError('UPDATE_ARCHIVE_UNSAFE', message);
const corrupt = (message: string) => new UpdateError('UPDATE_ARCHIVE_CORRUPT', message);

/** Pulls exact byte counts out of a stream of chunks. */
class ByteReader {
  private buffered: Buffer[] = [];
  private length = 0;
  private done = false;
  constructor(private readonly source: AsyncIterator<Buffer>) {}

  /** Up to `n` bytes (fewer only at the end of the stream). */
  async read(n: number): Promise<Buffer> {
    while (this.length < n && !this.done) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else {
        this.buffered.push(next.value);
        this.length += next.value.length;
      }
    }
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    const out = all.subarray(0, Math.min(n, all.length));
    const rest = all.subarray(out.length);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return out;
  }

  async exactly(n: number): Promise<Buffer> {
    const out = await this.read(n);
    if (out.length !== n) throw corrupt('the archive ends in the middle of an entry');
    return out;
  }
}

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function numeric(header: Buffer, offset: number, length: number): number {
  const raw = header.subarray(offset, offset + length);
  if (raw[0]! & 0x80) {
    // GNU base-256 for values that do not fit in octal; a negative value is never valid here.
    if (raw[0]! & 0x40) throw corrupt('negative number in a tar header');
    let value = raw[0]! & 0x3f;
    for (let i = 1; i < length; i += 1) value = value * 256 + raw[i]!;
    return value;
  }
  const text = raw.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw corrupt(`bad number "${text}" in a tar header`);
  return parseInt(text, 8);
}

function checksumOk(header: Buffer): boolean {
  const stored = numeric(header, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 32 : header[i]!;
  return sum === stored;
}

/** Parses pax extended header records (`<len> key=value\n`). */
function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number(data.subarray(at, space).toString('latin1'));
    if (!Number.isInteger(length) || length <= 0 || at + length > data.length) throw corrupt('bad pax header record');
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

/** Splits an entry name into segments, refusing anything that could escape or is not a plain name. */
export function entrySegments(name: string): string[] {
  if (name.startsWith('/')) throw unsafe(`absolute path in the archive: ${name}`);
  // Only a folder's trailing slash is dropped; "./top/..." is refused, as the shell verifier does.
  const trimmed = name.replace(/\/$/, '');
  const segments = trimmed.split('/');
  for (const s of segments) {
    if (s === '..') throw unsafe(`".." in an archive path: ${name}`);
    if (s === '' || s === '.' || !SEGMENT.test(s)) throw unsafe(`bad archive path: ${JSON.stringify(name)}`);
  }
  return segments;
}

const TYPE_NAMES: Record<string, string> = {
  '1': 'hard link',
  '2': 'symbolic link',
  '3': 'character device',
  '4': 'block device',
  '6': 'fifo',
  '7': 'contiguous file',
  K: 'long link name',
  S: 'sparse file',
  V: 'volume header',
};

/**
 * Extracts the gzip-compressed tar `archive` into `dest` (which must exist and be empty),
 * refusing the whole archive at the first unsafe or malformed entry. On a refusal, whatever was
 * written stays in `dest`: the caller owns that staging folder and removes it.
 */
export async function extractBundle(archive: string, dest: string, limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS): Promise<Extracted> {
  const gunzip = createReadStream(archive).pipe(createGunzip());
  const source = gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const reader = new ByteReader(source);
  const seen = new Set<string>();
  const files: string[] = [];
  let top: string | undefined;
  let total = 0;
  let entries = 0;
  let longName: string | undefined;
  let pax = new Map<string, string>();
  try {
    for (;;) {
      const header = await reader.read(BLOCK);
      if (header.length === 0) throw corrupt('the archive has no end-of-archive marker');
      if (header.length < BLOCK) throw corrupt('the archive ends in the middle of a header');
      if (header.every((b) => b === 0)) break;
      if (!checksumOk(header)) throw corrupt('a tar header has a bad checksum (not a tar archive, or damaged)');
      const type = String.fromCharCode(header[156]!);
      const size = numeric(header, 124, 12);
      const padded = Math.ceil(size / BLOCK) * BLOCK;

      if (type === 'L' || type === 'x' || type === 'g') {
        if (size > 1024 * 1024) throw corrupt('oversized tar metadata entry');
        const data = (await reader.exactly(padded)).subarray(0, size);
        if (type === 'L') longName = data.toString('utf8').replace(/\0+$/, '');
        else {
          const records = paxRecords(data);
          for (const key of ['linkpath', 'GNU.sparse.major', 'GNU.sparse.name']) {
            if (records.has(key)) throw unsafe(`pax header "${key}" is not allowed in a bundle`);
          }
          if (type === 'g' && records.has('path')) throw unsafe('a global pax header sets a path');
          if (type === 'x') pax = records;
        }
        continue;
      }

      const prefix = field(header, 345, 155);
      const name = pax.get('path') ?? longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
      longName = undefined;
      pax = new Map();
      entries += 1;
      if (entries > limits.maxEntries) throw unsafe(`more than ${limits.maxEntries} entries in the archive`);

      if (type !== '0' && type !== '\0' && type !== '5') {
        throw unsafe(`${TYPE_NAMES[type] ?? `entry of type "${type}"`} in the archive: ${name}`);
      }
      const segments = entrySegments(name);
      if (top === undefined) top = segments[0];
      else if (segments[0] !== top) throw unsafe(`entry outside the top-level folder ${top}/: ${name}`);
      const relative = segments.slice(1).join('/');
      if (seen.has(relative)) throw unsafe(`the archive holds ${name} twice`);
      seen.add(relative);
      const target = path.join(dest, ...segments);

      if (type === '5') {
        mkdirSync(target, { recursive: true, mode: 0o755 });
        if (size > 0) await reader.exactly(padded);
        continue;
      }
      if (segments.length < 2) throw unsafe(`a file at the top level of the archive: ${name}`);
      total += size;
      if (total > limits.maxBytes) throw unsafe(`the archive unpacks to more than ${limits.maxBytes} bytes`);
      mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
      const mode = numeric(header, 100, 8) & 0o111 ? 0o755 : 0o644;
      // 'wx': never follow or replace anything that is already there.
      const fd = openSync(target, 'wx', mode);
      try {
        let left = size;
        while (left > 0) {
          const chunk = await reader.exactly(Math.min(left, 1024 * 1024));
          writeSync(fd, chunk);
          left -= chunk.length;
        }
      } finally {
        closeSync(fd);
      }
      if (padded > size) await reader.exactly(padded - size);
      files.push(relative);
    }
  } catch (error) {
    gunzip.destroy();
    if (error instanceof UpdateError) throw error;
    throw corrupt(`cannot read the archive: ${(error as Error).message}`);
  }
  gunzip.destroy();
  if (top === undefined) throw corrupt('the archive is empty');
  return { top, root: path.join(dest, top), files };
}
