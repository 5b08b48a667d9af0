import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  folderEntries,
  makeBundleFolder,
  makeSigner,
  packBundle,
  writeManifest,
  writeRawTar,
  type TestSigner,
} from '../test-support/update-bundles.js';
import { canonicalManifest, loadTrustedKeys, parseManifest, verifyBundle, type Manifest } from './bundle-verifier.js';
import { extractBundle } from './safe-extract.js';
import type { UpdateError } from './update-error.js';

let work: string;
let trusted: TestSigner;
let other: TestSigner;
let keysDir: string;
let n = 0;

const PAYLOAD = {
  'bin/agentik': '#!/bin/sh\necho agentik\n',
  LICENSE: 'Apache-2.0\n',
  'backends/sqlite/migrations/master/0001_init.sql': 'select 1;\n',
};

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'agentik-verify-'));
  trusted = makeSigner();
  other = makeSigner('Someone Else');
  keysDir = path.join(work, 'trusted-keys');
  mkdirSync(keysDir);
  trusted.exportKey(path.join(keysDir, 'release.asc'));
});

afterAll(() => {
  trusted.remove();
  other.remove();
  rmSync(work, { recursive: true, force: true });
});

function fresh(): string {
  n += 1;
  const dir = path.join(work, `case-${n}`);
  mkdirSync(dir);
  return dir;
}

/** A signed bundle folder ready to tamper with. */
function folder(version = '1.0.0', files: Record<string, string> = PAYLOAD, arch = process.arch): string {
  return makeBundleFolder(fresh(), version, trusted, files, arch);
}

/** Packs, extracts and verifies, the way `apply` does. */
async function check(archive: string, dir = keysDir) {
  const dest = fresh();
  const extracted = await extractBundle(archive, dest);
  return verifyBundle(extracted.root, { trustedKeysDir: dir, top: extracted.top });
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as UpdateError | undefined;
  expect(error, 'expected a refusal').toBeDefined();
  return { code: error!.code, message: error!.message };
}

const resign = (root: string, signer = trusted) => signer.sign(path.join(root, 'manifest.json'), path.join(root, 'manifest.json.sig'));

describe('bundle verification', () => {
  it('accepts a bundle packed by GNU tar and signed by the trusted key, with its fingerprint', async () => {
    const root = folder();
    const result = await check(packBundle(root, fresh()));
    expect(result.keyFingerprint).toBe(trusted.fingerprint);
    expect(result.manifest.version).toBe('1.0.0');
    expect(result.manifest.files.map((f) => f.path)).toEqual(['LICENSE', 'backends/sqlite/migrations/master/0001_init.sql', 'bin/agentik']);
  });

  it('keeps the execute bit of bin/ files and nothing else of the archive modes', async () => {
    const dest = fresh();
    const extracted = await extractBundle(packBundle(folder(), fresh()), dest);
    expect(statSync(path.join(extracted.root, 'bin/agentik')).mode & 0o777).toBe(0o755);
    expect(statSync(path.join(extracted.root, 'LICENSE')).mode & 0o777).toBe(0o644);
  });

  it('accepts a binary trusted key and an armored signature', async () => {
    const dir = path.join(fresh(), 'keys');
    mkdirSync(dir);
    trusted.exportKey(path.join(dir, 'release.gpg'), false);
    const root = folder();
    trusted.sign(path.join(root, 'manifest.json'), path.join(root, 'manifest.json.sig'), true);
    expect((await check(packBundle(root, fresh()), dir)).keyFingerprint).toBe(trusted.fingerprint);
  });

  it('refuses one byte changed in a payload file', async () => {
    const root = folder();
    const file = path.join(root, 'LICENSE');
    const bytes = readFileSync(file);
    bytes[0] = bytes[0]! ^ 1;
    writeFileSync(file, bytes);
    expect(await refusal(check(packBundle(root, fresh())))).toEqual({ code: 'UPDATE_FILE_MISMATCH', message: 'LICENSE: sha256 does not match manifest.json' });
  });

  it('refuses a file whose size differs from the manifest', async () => {
    const root = folder();
    appendFileSync(path.join(root, 'LICENSE'), 'more');
    expect((await refusal(check(packBundle(root, fresh())))).code).toBe('UPDATE_FILE_MISMATCH');
  });

  it('refuses an unlisted extra file', async () => {
    const root = folder();
    writeFileSync(path.join(root, 'extra.sh'), 'echo hi\n');
    expect(await refusal(check(packBundle(root, fresh())))).toEqual({
      code: 'UPDATE_FILE_UNLISTED',
      message: 'the bundle holds extra.sh, which manifest.json does not list',
    });
  });

  it('refuses a listed file that is missing', async () => {
    const root = folder();
    rmSync(path.join(root, 'LICENSE'));
    expect((await refusal(check(packBundle(root, fresh())))).code).toBe('UPDATE_FILE_MISSING');
  });

  it('refuses a manifest edited without re-signing', async () => {
    const root = folder();
    writeFileSync(path.join(root, 'LICENSE'), 'changed\n');
    writeManifest(root, '1.0.0');
    expect((await refusal(check(packBundle(root, fresh())))).code).toBe('UPDATE_SIGNATURE_INVALID');
  });

  it('refuses a bundle signed by another key, even one that it carries inside', async () => {
    const root = folder();
    other.exportKey(path.join(root, 'trusted-key.asc'));
    writeManifest(root, '1.0.0');
    resign(root, other);
    expect((await refusal(check(packBundle(root, fresh())))).code).toBe('UPDATE_SIGNATURE_INVALID');
  });

  it('refuses a bundle whose signature was removed, or is not a signature', async () => {
    const root = folder();
    rmSync(path.join(root, 'manifest.json.sig'));
    expect((await refusal(check(packBundle(root, fresh()))))).toEqual({ code: 'UPDATE_SIGNATURE_INVALID', message: 'the bundle has no manifest.json.sig' });
    writeFileSync(path.join(root, 'manifest.json.sig'), 'garbage');
    expect((await refusal(check(packBundle(root, fresh())))).code).toBe('UPDATE_SIGNATURE_INVALID');
  });

  it('refuses a bundle without a manifest', async () => {
    const root = folder();
    rmSync(path.join(root, 'manifest.json'));
    expect((await refusal(check(packBundle(root, fresh())))).code).toBe('UPDATE_FILE_MISSING');
  });

  it('refuses to verify without a trusted key, and says which key file is unreadable', async () => {
    const archive = packBundle(folder(), fresh());
    expect((await refusal(check(archive, path.join(work, 'no-such-dir')))).code).toBe('UPDATE_NO_TRUSTED_KEYS');
    const bad = path.join(fresh(), 'keys');
    mkdirSync(bad);
    writeFileSync(path.join(bad, 'junk.asc'), '-----BEGIN PGP PUBLIC KEY BLOCK-----\nnope\n');
    expect((await refusal(loadTrustedKeys(bad))).code).toBe('UPDATE_NO_TRUSTED_KEYS');
  });

  it('refuses another arch, another product, another os, and a folder that does not match', async () => {
    const arch = process.arch === 'x64' ? 'arm64' : 'x64';
    expect((await refusal(check(packBundle(folder('1.0.0', PAYLOAD, arch), fresh())))).message).toMatch(/arch/);
    for (const extra of [{ product: 'other' }, { os: 'darwin' }] as Partial<Manifest>[]) {
      const root = folder();
      writeManifest(root, '1.0.0', process.arch, extra);
      resign(root);
      expect((await refusal(check(packBundle(root, fresh())))).code).toBe('UPDATE_BUNDLE_MISMATCH');
    }
    const root = folder();
    writeManifest(root, '1.0.1');
    resign(root);
    expect((await refusal(check(packBundle(root, fresh())))).message).toMatch(/folder is agentik-os-1\.0\.0/);
  });

  it('refuses a signed manifest with a duplicate, an escaping path, or another layout', async () => {
    const root = folder();
    const m = parseManifest(readFileSync(path.join(root, 'manifest.json')));
    const cases: string[] = [
      canonicalManifest({ ...m, files: [m.files[0]!, m.files[0]!, ...m.files.slice(1)] }),
      canonicalManifest({ ...m, files: [...m.files, { path: '../escape', size: 0, sha256: m.files[0]!.sha256 }] }),
      canonicalManifest({ ...m, files: [...m.files].reverse() }),
      JSON.stringify(m),
      '{"product": 1}',
      'not json',
      canonicalManifest({ ...m, version: '1.0' }),
      canonicalManifest({ ...m, files: [{ ...m.files[0]!, sha256: 'ABC' }] }),
      canonicalManifest({ ...m, files: [{ ...m.files[0]!, size: -1 }] }),
      canonicalManifest({ ...m, files: [{ ...m.files[0]!, path: 'manifest.json' }] }),
    ];
    for (const text of cases) {
      writeFileSync(path.join(root, 'manifest.json'), text);
      resign(root);
      expect((await refusal(check(packBundle(root, fresh())))).code, text.slice(0, 80)).toBe('UPDATE_MANIFEST_INVALID');
    }
  });
});

describe('safe extraction', () => {
  const paxRecord = (key: string, value: string) => {
    const body = ` ${key}=${value}\n`;
    let len = body.length + 1;
    while (`${len}${body}`.length !== len) len += 1;
    return `${len}${body}`;
  };
  const top = `agentik-os-1.0.0-linux-${process.arch}`;
  const archive = (entries: Parameters<typeof writeRawTar>[1], terminate = true) => writeRawTar(path.join(fresh(), 'b.tar.gz'), entries, terminate);
  const unsafe = async (entries: Parameters<typeof writeRawTar>[1]) => refusal(extractBundle(archive(entries), fresh()));

  it('refuses "..", absolute paths, links, devices, fifos and entries outside the top folder', async () => {
    const cases: [Parameters<typeof writeRawTar>[1], RegExp][] = [
      [[{ name: `${top}/../evil`, data: 'x' }], /"\.\." in an archive path/],
      [[{ name: '/etc/passwd', data: 'x' }], /absolute path/],
      [[{ name: `${top}/link`, type: '2', linkname: '/etc/shadow' }], /symbolic link/],
      [[{ name: `${top}/hard`, type: '1', linkname: `${top}/LICENSE` }], /hard link/],
      [[{ name: `${top}/dev`, type: '3' }], /character device/],
      [[{ name: `${top}/fifo`, type: '6' }], /fifo/],
      [[{ name: `${top}/a`, data: 'x' }, { name: 'other/b', data: 'y' }], /outside the top-level folder/],
      [[{ name: `${top}/a`, data: 'x' }, { name: `${top}/a`, data: 'y' }], /twice/],
      [[{ name: 'toplevel-file', data: 'x' }], /top level/],
      [[{ name: `${top}/we ird`, data: 'x' }], /bad archive path/],
      [[{ name: `${top}/x`, type: 'x', data: paxRecord('linkpath', '/etc/shadow') }], /linkpath/],
      [[{ name: 'g', type: 'g', data: paxRecord('path', '/etc/xyz') }], /global pax header/],
      [[{ name: `${top}/s`, type: 'S' }], /sparse file/],
      [[{ name: `${top}/q`, type: 'Q' }], /type "Q"/],
    ];
    for (const [entries, message] of cases) {
      const r = await unsafe(entries);
      expect(r.code, String(message)).toBe('UPDATE_ARCHIVE_UNSAFE');
      expect(r.message).toMatch(message);
    }
  });

  it('reads GNU long names and pax paths', async () => {
    const long = `${top}/${'d'.repeat(60)}/${'f'.repeat(80)}`;
    const entries = [
      { name: '././@LongLink', type: 'L', data: `${long}\0` },
      { name: 'ignored', data: 'long' },
      { name: 'pax', type: 'x', data: paxRecord('path', `${top}/pax-file`) },
      { name: 'ignored-too', data: 'pax' },
    ];
    const dest = fresh();
    const extracted = await extractBundle(archive(entries), dest);
    expect(extracted.files.sort()).toEqual([`${'d'.repeat(60)}/${'f'.repeat(80)}`, 'pax-file']);
    expect(readFileSync(path.join(extracted.root, 'pax-file'), 'utf8')).toBe('pax');
  });

  it('refuses archives that are not tar, truncated, unterminated or empty', async () => {
    const notTar = path.join(fresh(), 'x.tar.gz');
    writeFileSync(notTar, 'plain text, not gzip');
    expect((await refusal(extractBundle(notTar, fresh()))).code).toBe('UPDATE_ARCHIVE_CORRUPT');
    expect((await refusal(extractBundle(archive([{ name: `${top}/a`, data: 'x' }], false), fresh()))).message).toMatch(/end-of-archive/);
    expect((await refusal(extractBundle(archive([]), fresh()))).message).toMatch(/empty/);
    const garbage = path.join(fresh(), 'g.tar.gz');
    writeRawTar(garbage, [{ name: `${top}/a`, data: 'x' }]);
    const { gunzipSync, gzipSync } = await import('node:zlib');
    const raw = gunzipSync(readFileSync(garbage));
    raw[0] = raw[0]! ^ 0xff;
    writeFileSync(garbage, gzipSync(raw));
    expect((await refusal(extractBundle(garbage, fresh()))).message).toMatch(/checksum/);
    writeFileSync(garbage, gzipSync(gunzipSync(readFileSync(archive([{ name: `${top}/a`, data: 'x'.repeat(2000) }]))).subarray(0, 1024)));
    expect((await refusal(extractBundle(garbage, fresh()))).message).toMatch(/ends in the middle/);
  });

  it('stops at the byte and entry limits', async () => {
    const entries = folderEntries(folder());
    expect((await refusal(extractBundle(archive(entries), fresh(), { maxBytes: 10, maxEntries: 100 }))).message).toMatch(/more than 10 bytes/);
    expect((await refusal(extractBundle(archive(entries), fresh(), { maxBytes: 1e6, maxEntries: 2 }))).message).toMatch(/more than 2 entries/);
  });
});
