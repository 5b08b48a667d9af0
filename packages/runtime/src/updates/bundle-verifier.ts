import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { sha256OfFile } from './file-hash.js';
import { UpdateError } from './update-error.js';
import { isVersion } from './versions.js';

/**
 * The Node side of the bundle verification (BUNDLE-FORMAT.md): the same rules as the shell
 * installer's gpgv + sha256sum, so that both accept and refuse the same bundles.
 */

/** One file entry of manifest.json. */
export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  product: string;
  version: string;
  os: string;
  arch: string;
  createdAt: string;
  nodeVersion: string;
  files: ManifestFile[];
}

export interface VerifiedBundle {
  manifest: Manifest;
  /** Fingerprint (upper-case hex) of the trusted primary key that signed the manifest. */
  keyFingerprint: string;
}

const PATH = /^[A-Za-z0-9._+@-]+(\/[A-Za-z0-9._+@-]+)*$/;
const SHA256 = /^[0-9a-f]{64}$/;
/** What the shell verifier accepts as a header value. */
const HEADER_VALUE = /^[0-9A-Za-z:.+-]+$/;

/** The machine's architecture in the bundle's spelling. */
export function bundleArch(nodeArch: string = process.arch): string {
  return nodeArch;
}

/** The bundle file name for a version and arch. */
export function bundleFileName(version: string, arch: string): string {
  return `agentik-os-${version}-linux-${arch}.tar.gz`;
}

/** manifest.json in the canonical layout the builder writes and the shell verifier reads. */
export function canonicalManifest(m: Manifest): string {
  const files = m.files.map((f) => `    {"path": ${JSON.stringify(f.path)}, "size": ${f.size}, "sha256": ${JSON.stringify(f.sha256)}}`);
  return [
    '{',
    `  "product": ${JSON.stringify(m.product)},`,
    `  "version": ${JSON.stringify(m.version)},`,
    `  "os": ${JSON.stringify(m.os)},`,
    `  "arch": ${JSON.stringify(m.arch)},`,
    `  "createdAt": ${JSON.stringify(m.createdAt)},`,
    `  "nodeVersion": ${JSON.stringify(m.nodeVersion)},`,
    '  "files": [',
    files.join(',\n'),
    '  ]',
    '}',
    '',
  ].join('\n');
}

const invalid = (message: string) => new UpdateError('UPDATE_MANIFEST_INVALID', message);

/** Parses manifest.json and checks its shape, paths, duplicates and canonical layout. */
export function parseManifest(bytes: Buffer): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('manifest.json is not valid JSON');
  }
  const m = raw as Partial<Record<keyof Manifest, unknown>>;
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw invalid('manifest.json is not an object');
  for (const key of ['product', 'version', 'os', 'arch', 'createdAt', 'nodeVersion'] as const) {
    if (typeof m[key] !== 'string') throw invalid(`manifest.json: "${key}" is missing or not a string`);
    if (!HEADER_VALUE.test(m[key] as string)) throw invalid(`manifest.json: unexpected value of "${key}"`);
  }
  if (!Array.isArray(m.files) || m.files.length === 0) throw invalid('manifest.json: "files" is missing, not a list, or empty');
  const seen = new Set<string>();
  const files: ManifestFile[] = [];
  for (const entry of m.files as unknown[]) {
    const f = entry as Partial<ManifestFile>;
    if (typeof f !== 'object' || f === null || typeof f.path !== 'string') throw invalid('manifest.json: a file entry has no path');
    if (!PATH.test(f.path) || f.path.split('/').some((s) => s === '.' || s === '..')) {
      throw invalid(`manifest.json: bad path ${JSON.stringify(f.path)}`);
    }
    if (f.path === 'manifest.json' || f.path === 'manifest.json.sig') throw invalid(`manifest.json lists ${f.path}`);
    if (!Number.isSafeInteger(f.size) || (f.size as number) < 0) throw invalid(`manifest.json: bad size for ${f.path}`);
    if (typeof f.sha256 !== 'string' || !SHA256.test(f.sha256)) throw invalid(`manifest.json: bad sha256 for ${f.path}`);
    if (seen.has(f.path)) throw invalid(`manifest.json lists ${f.path} twice`);
    seen.add(f.path);
    files.push({ path: f.path, size: f.size as number, sha256: f.sha256 });
  }
  const manifest = { ...(m as Manifest), files };
  if (!isVersion(manifest.version)) throw invalid(`manifest.json: bad version ${JSON.stringify(manifest.version)}`);
  // The shell verifier reads the manifest line by line: a manifest in any other layout could
  // read differently there, so it is refused here too and both sides give the same verdict.
  if (canonicalManifest(manifest) !== bytes.toString('utf8')) {
    throw invalid('manifest.json is not in the canonical layout (keys in order, one file per line, sorted by path)');
  }
  const sorted = [...files].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  if (sorted.some((f, i) => f !== files[i])) throw invalid('manifest.json: files are not sorted by path');
  return manifest;
}

async function readKeyFile(file: string): Promise<openpgp.Key[]> {
  const bytes = readFileSync(file);
  try {
    return bytes.toString('latin1').includes('-----BEGIN PGP')
      ? await openpgp.readKeys({ armoredKeys: bytes.toString('utf8') })
      : await openpgp.readKeys({ binaryKeys: new Uint8Array(bytes) });
  } catch (error) {
    throw new UpdateError('UPDATE_NO_TRUSTED_KEYS', `cannot read the trusted key ${file}: ${(error as Error).message}`);
  }
}

/** Every public key in the files of `dir` (armored or binary). */
export async function loadTrustedKeys(dir: string): Promise<openpgp.Key[]> {
  const files = existsSync(dir) ? readdirSync(dir).sort().filter((f) => lstatSync(path.join(dir, f)).isFile()) : [];
  const keys: openpgp.Key[] = [];
  for (const file of files) keys.push(...(await readKeyFile(path.join(dir, file))));
  if (keys.length === 0) throw new UpdateError('UPDATE_NO_TRUSTED_KEYS', `no trusted key in ${dir}`);
  return keys;
}

/**
 * Checks that `signatureBytes` is a valid detached signature of `data` by one of `keys`, and
 * returns that key's fingerprint.
 */
export async function verifySignature(data: Buffer, signatureBytes: Buffer, keys: openpgp.Key[]): Promise<string> {
  let signature: openpgp.Signature;
  try {
    signature = signatureBytes.toString('latin1').includes('-----BEGIN PGP SIGNATURE')
      ? await openpgp.readSignature({ armoredSignature: signatureBytes.toString('utf8') })
      : await openpgp.readSignature({ binarySignature: new Uint8Array(signatureBytes) });
  } catch (error) {
    throw new UpdateError('UPDATE_SIGNATURE_INVALID', `manifest.json.sig is not an OpenPGP signature: ${(error as Error).message}`);
  }
  const message = await openpgp.createMessage({ binary: new Uint8Array(data) });
  const result = await openpgp.verify({ message, signature, verificationKeys: keys, format: 'binary' });
  const reasons: string[] = [];
  for (const sig of result.signatures) {
    try {
      await sig.verified;
      const key = keys.find((k) => k.getKeys(sig.keyID).length > 0);
      if (key) return key.getFingerprint().toUpperCase();
    } catch (error) {
      reasons.push((error as Error).message);
    }
  }
  throw new UpdateError(
    'UPDATE_SIGNATURE_INVALID',
    `manifest.json is not signed by a trusted key${reasons.length > 0 ? ` (${reasons.join('; ')})` : ''}`,
  );
}

function listFiles(root: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(root, rel));
    else out.push(rel);
  }
  return out;
}

export interface VerifyOptions {
  /** The folder of trusted public keys (`<install-root>/etc/agentik-os/trusted-keys`). */
  trustedKeysDir: string;
  /** The machine's arch in the bundle's spelling (default: this process's). */
  arch?: string;
  /** The top-level folder name the archive had (checked against version and arch). */
  top: string;
}

/**
 * Verifies an extracted bundle folder: the signature over manifest.json with a trusted key only,
 * product, os, arch, the folder's name, and every file's presence, size and sha256; a file that
 * is not listed is refused as well.
 */
export async function verifyBundle(root: string, options: VerifyOptions): Promise<VerifiedBundle> {
  const manifestPath = path.join(root, 'manifest.json');
  const sigPath = path.join(root, 'manifest.json.sig');
  if (!existsSync(manifestPath)) throw new UpdateError('UPDATE_FILE_MISSING', 'the bundle has no manifest.json');
  if (!existsSync(sigPath)) throw new UpdateError('UPDATE_SIGNATURE_INVALID', 'the bundle has no manifest.json.sig');
  const keys = await loadTrustedKeys(options.trustedKeysDir);
  const bytes = readFileSync(manifestPath);
  const keyFingerprint = await verifySignature(bytes, readFileSync(sigPath), keys);
  const manifest = parseManifest(bytes);
  const arch = options.arch ?? bundleArch();
  const mismatch = (what: string) => new UpdateError('UPDATE_BUNDLE_MISMATCH', what);
  if (manifest.product !== 'agentik-os') throw mismatch(`the bundle is for product "${manifest.product}", not agentik-os`);
  if (manifest.os !== 'linux') throw mismatch(`the bundle is for os "${manifest.os}", not linux`);
  if (manifest.arch !== arch) throw mismatch(`the bundle is for arch "${manifest.arch}", this machine is ${arch}`);
  const expectedTop = `agentik-os-${manifest.version}-linux-${manifest.arch}`;
  if (options.top !== expectedTop) throw mismatch(`the bundle's folder is ${options.top}, its manifest says ${expectedTop}`);

  const listed = new Map(manifest.files.map((f) => [f.path, f]));
  for (const rel of listFiles(root)) {
    if (rel === 'manifest.json' || rel === 'manifest.json.sig') continue;
    if (!listed.has(rel)) throw new UpdateError('UPDATE_FILE_UNLISTED', `the bundle holds ${rel}, which manifest.json does not list`);
  }
  for (const f of manifest.files) {
    const file = path.join(root, ...f.path.split('/'));
    const stat = existsSync(file) ? lstatSync(file) : undefined;
    if (!stat?.isFile()) throw new UpdateError('UPDATE_FILE_MISSING', `${f.path} is listed in manifest.json but not in the bundle`);
    if (stat.size !== f.size) throw new UpdateError('UPDATE_FILE_MISMATCH', `${f.path}: size ${stat.size}, manifest.json says ${f.size}`);
    if ((await sha256OfFile(file)) !== f.sha256) throw new UpdateError('UPDATE_FILE_MISMATCH', `${f.path}: sha256 does not match manifest.json`);
  }
  return { manifest, keyFingerprint };
}
