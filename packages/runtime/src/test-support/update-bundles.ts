import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { canonicalManifest, type Manifest } from '../updates/bundle-verifier.js';

/** A throwaway gpg home with one signing key, made by the real gpg. */
export interface TestSigner {
  home: string;
  fingerprint: string;
  /** Writes the public key to `file` (armored or binary). */
  exportKey(file: string, armored?: boolean): void;
  /** A detached signature of `file` written to `out`. */
  sign(file: string, out: string, armored?: boolean): void;
  remove(): void;
}

export function makeSigner(name = 'Agentik Test Release'): TestSigner {
  const home = mkdtempSync(path.join(tmpdir(), 'agentik-gpg-'));
  const gpg = (...args: string[]) => execFileSync('gpg', ['--homedir', home, '--batch', '--quiet', ...args], { stdio: 'pipe' });
  gpg('--passphrase', '', '--quick-gen-key', `${name} <release@example.invalid>`, 'ed25519', 'sign', 'never');
  const listing = gpg('--with-colons', '--list-keys').toString();
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(listing)![1]!;
  return {
    home,
    fingerprint,
    exportKey: (file, armored = true) => writeFileSync(file, gpg(...(armored ? ['--armor'] : []), '--export', fingerprint)),
    sign: (file, out, armored = false) => {
      rmSync(out, { force: true });
      gpg('--local-user', fingerprint, ...(armored ? ['--armor'] : []), '--output', out, '--detach-sign', file);
    },
    remove: () => rmSync(home, { recursive: true, force: true }),
  };
}

/** Lists every regular file under `root` (sorted in byte order, as the builder does). */
function filesUnder(root: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, prefix))) {
    const rel = prefix ? `${prefix}/${name}` : name;
    if (statSync(path.join(root, rel)).isDirectory()) out.push(...filesUnder(root, rel));
    else out.push(rel);
  }
  return out.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** Writes manifest.json for the files of `root` (all but the manifest and its signature). */
export function writeManifest(root: string, version: string, arch = process.arch, extra: Partial<Manifest> = {}): Manifest {
  const files = filesUnder(root)
    .filter((f) => f !== 'manifest.json' && f !== 'manifest.json.sig')
    .map((f) => {
      const bytes = readFileSync(path.join(root, f));
      return { path: f, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    });
  const manifest: Manifest = {
    product: 'agentik-os',
    version,
    os: 'linux',
    arch,
    createdAt: '2026-12-07T15:00:00Z',
    nodeVersion: '24.22.3',
    files,
    ...extra,
  };
  writeFileSync(path.join(root, 'manifest.json'), canonicalManifest(manifest));
  return manifest;
}

/**
 * Lays out a small bundle folder `<parent>/agentik-os-<version>-linux-<arch>/` with `files`
 * (relative path -> content; a `bin/` file is made executable), signs its manifest, and returns
 * the folder. Tamper with it, then pack it with {@link packBundle}.
 */
export function makeBundleFolder(
  parent: string,
  version: string,
  signer: TestSigner,
  files: Record<string, string | Buffer>,
  arch = process.arch,
): string {
  const root = path.join(parent, `agentik-os-${version}-linux-${arch}`);
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content, { mode: rel.startsWith('bin/') ? 0o755 : 0o644 });
  }
  writeManifest(root, version, arch);
  signer.sign(path.join(root, 'manifest.json'), path.join(root, 'manifest.json.sig'));
  return root;
}

/** Packs a bundle folder with the system's GNU tar, the way the builder does. */
export function packBundle(folder: string, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, `${path.basename(folder)}.tar.gz`);
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-C', path.dirname(folder), '-czf', out, path.basename(folder)]);
  return out;
}

/** One entry of a hand-made tar archive (for the unsafe ones GNU tar would not write). */
export interface RawTarEntry {
  name: string;
  /** '0' file, '5' folder, '1' hard link, '2' symbolic link, '3' char device, '6' fifo, 'L', 'x', 'g' */
  type?: string;
  data?: string | Buffer;
  mode?: number;
  linkname?: string;
}

function header(entry: RawTarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (text: string, offset: number, length: number) => h.write(text.slice(0, length), offset, length, 'utf8');
  const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, '0');
  put(entry.name, 0, 100);
  put(octal(entry.mode ?? 0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  h.fill(0x20, 148, 156);
  put(entry.type ?? '0', 156, 1);
  put(entry.linkname ?? '', 157, 100);
  put('ustar\u000000', 257, 8);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8);
  return h;
}

/** A gzip'd tar archive holding exactly `entries`, written to `file`. */
export function writeRawTar(file: string, entries: RawTarEntry[], terminate = true): string {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.data ?? '');
    blocks.push(header(entry, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  if (terminate) blocks.push(Buffer.alloc(1024));
  writeFileSync(file, gzipSync(Buffer.concat(blocks)));
  return file;
}

/** The entries of a bundle folder as raw tar entries (to repack it with additions). */
export function folderEntries(folder: string): RawTarEntry[] {
  const top = path.basename(folder);
  const entries: RawTarEntry[] = [{ name: `${top}/`, type: '5', mode: 0o755 }];
  for (const rel of filesUnder(folder)) {
    entries.push({ name: `${top}/${rel}`, data: readFileSync(path.join(folder, rel)), mode: statSync(path.join(folder, rel)).mode & 0o777 });
  }
  return entries;
}
