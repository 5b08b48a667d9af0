import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../test-support/spawn-runtime.js';
import { folderEntries, makeBundleFolder, makeSigner, packBundle, writeManifest, writeRawTar, type TestSigner } from '../test-support/update-bundles.js';
import { canonicalManifest, parseManifest, verifyBundle } from './bundle-verifier.js';
import { extractBundle } from './safe-extract.js';

/**
 * The installer's shell verifier (gpgv, awk, sha256sum) and the updater's Node verifier must
 * accept and refuse the same bundles: each case goes through both.
 */

const SHELL_VERIFIER = path.join(REPO_ROOT, 'installer', 'lib', 'bundle-verify.sh');
const ARCH = process.arch;
let work: string;
let trusted: TestSigner;
let other: TestSigner;
let keyFile: string;
let n = 0;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'agentik-parity-'));
  trusted = makeSigner();
  other = makeSigner('Someone Else');
  mkdirSync(path.join(work, 'keys'));
  keyFile = path.join(work, 'keys', 'release.asc');
  trusted.exportKey(keyFile);
});

afterAll(() => {
  trusted.remove();
  other.remove();
  rmSync(work, { recursive: true, force: true });
});

const fresh = () => {
  n += 1;
  const dir = path.join(work, `c${n}`);
  mkdirSync(dir);
  return dir;
};

const PAYLOAD = { 'bin/agentik': '#!/bin/sh\necho agentik\n', LICENSE: 'Apache-2.0\n', 'schema/master.sql': 'create table t (x);\n' };
const folder = (version = '1.2.0', arch = ARCH) => makeBundleFolder(fresh(), version, trusted, PAYLOAD, arch);
const resign = (root: string, signer = trusted) => signer.sign(path.join(root, 'manifest.json'), path.join(root, 'manifest.json.sig'));

function shellVerdict(tarball: string): string {
  const dir = fresh();
  const r = spawnSync('bash', ['-c', '. "$1" && bundle_verify "$2" "$3" "$4"', 'verify', SHELL_VERIFIER, tarball, keyFile, dir], { encoding: 'utf8' });
  return r.status === 0 ? 'accepted' : `refused (${r.stderr.trim().split('\n').at(-1)})`;
}

async function nodeVerdict(tarball: string): Promise<string> {
  try {
    const extracted = await extractBundle(tarball, fresh());
    await verifyBundle(extracted.root, { trustedKeysDir: path.dirname(keyFile), top: extracted.top });
    return 'accepted';
  } catch (error) {
    return `refused (${(error as Error).message})`;
  }
}

const manifestOf = (root: string) => parseManifest(readFileSync(path.join(root, 'manifest.json')));

/** Each case: a name and how to make its tarball. */
const CASES: [string, boolean, () => string][] = [
  ['a good bundle', true, () => packBundle(folder(), fresh())],
  ['one byte changed in a payload file', false, () => {
    const root = folder();
    const f = path.join(root, 'LICENSE');
    const b = readFileSync(f);
    b[0] = b[0]! ^ 1;
    writeFileSync(f, b);
    return packBundle(root, fresh());
  }],
  ['an unlisted extra file', false, () => {
    const root = folder();
    writeFileSync(path.join(root, 'extra'), 'x');
    return packBundle(root, fresh());
  }],
  ['a listed file missing', false, () => {
    const root = folder();
    rmSync(path.join(root, 'schema/master.sql'));
    return packBundle(root, fresh());
  }],
  ['a manifest edited without re-signing', false, () => {
    const root = folder();
    writeFileSync(path.join(root, 'LICENSE'), 'other\n');
    writeManifest(root, '1.2.0');
    return packBundle(root, fresh());
  }],
  ['a bundle signed by another key', false, () => {
    const root = folder();
    resign(root, other);
    return packBundle(root, fresh());
  }],
  ['a bundle signed by another key that it carries inside', false, () => {
    const root = folder();
    other.exportKey(path.join(root, 'trusted.asc'));
    writeManifest(root, '1.2.0');
    resign(root, other);
    return packBundle(root, fresh());
  }],
  ['the signature removed', false, () => {
    const root = folder();
    rmSync(path.join(root, 'manifest.json.sig'));
    return packBundle(root, fresh());
  }],
  ['an armored signature', true, () => {
    const root = folder();
    trusted.sign(path.join(root, 'manifest.json'), path.join(root, 'manifest.json.sig'), true);
    return packBundle(root, fresh());
  }],
  ['a tar entry with ..', false, () => {
    const root = folder();
    return writeRawTar(path.join(fresh(), 'b.tar.gz'), [...folderEntries(root), { name: `${path.basename(root)}/../evil`, data: 'x' }]);
  }],
  ['a symlink pointing out of the bundle', false, () => {
    const root = folder();
    symlinkSync('/etc/passwd', path.join(root, 'passwd'));
    return packBundle(root, fresh());
  }],
  ['a hard link', false, () => {
    const root = folder();
    return writeRawTar(path.join(fresh(), 'b.tar.gz'), [...folderEntries(root), { name: `${path.basename(root)}/hard`, type: '1', linkname: `${path.basename(root)}/LICENSE` }]);
  }],
  ['another arch', false, () => packBundle(folder('1.2.0', ARCH === 'x64' ? 'arm64' : 'x64'), fresh())],
  ['entries named ./top/...', false, () => {
    const root = folder();
    return writeRawTar(path.join(fresh(), 'b.tar.gz'), folderEntries(root).map((e) => ({ ...e, name: `./${e.name}` })));
  }],
  ['a second top-level folder', false, () => {
    const root = folder();
    return writeRawTar(path.join(fresh(), 'b.tar.gz'), [...folderEntries(root), { name: 'other/x', data: 'x' }]);
  }],
  ['a signed manifest listing a path twice', false, () => {
    const root = folder();
    const m = manifestOf(root);
    writeFileSync(path.join(root, 'manifest.json'), canonicalManifest({ ...m, files: [m.files[0]!, ...m.files] }));
    resign(root);
    return packBundle(root, fresh());
  }],
  ['a signed manifest in another layout', false, () => {
    const root = folder();
    writeFileSync(path.join(root, 'manifest.json'), `${JSON.stringify(manifestOf(root), null, 2)}\n`);
    resign(root);
    return packBundle(root, fresh());
  }],
  ['a signed manifest with unsorted entries', false, () => {
    const root = folder();
    const m = manifestOf(root);
    writeFileSync(path.join(root, 'manifest.json'), canonicalManifest({ ...m, files: [...m.files].reverse() }));
    resign(root);
    return packBundle(root, fresh());
  }],
  ['a signed manifest for another product', false, () => {
    const root = folder();
    writeManifest(root, '1.2.0', ARCH, { product: 'other-os' });
    resign(root);
    return packBundle(root, fresh());
  }],
  ['a folder name that does not match the manifest', false, () => {
    const root = folder();
    writeManifest(root, '1.2.1');
    resign(root);
    return packBundle(root, fresh());
  }],
];

describe('the shell and Node verifiers give the same verdicts', () => {
  for (const [name, accepted, make] of CASES) {
    it(name, async () => {
      const tarball = make();
      const shell = shellVerdict(tarball);
      const node = await nodeVerdict(tarball);
      expect(shell.startsWith('accepted'), `shell: ${shell}`).toBe(accepted);
      expect(node.startsWith('accepted'), `node: ${node}`).toBe(accepted);
    });
  }
});
