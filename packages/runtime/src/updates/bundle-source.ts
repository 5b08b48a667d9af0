import { createWriteStream, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { UpdateError } from './update-error.js';
import { compareVersions } from './versions.js';

export interface SourceLimits {
  /** Largest bundle accepted over HTTP. */
  maxBytes: number;
  /** Time allowed for the whole download. */
  timeoutMs: number;
}

export const DEFAULT_SOURCE_LIMITS: SourceLimits = { maxBytes: 4 * 1024 ** 3, timeoutMs: 30 * 60_000 };

const NAME = /^agentik-os-(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)-linux-([a-z0-9]+)\.tar\.gz$/;

/**
 * The bundle in a folder (a mounted USB stick): the one `agentik-os-<version>-linux-<arch>.tar.gz`
 * for this arch, the newest when there are several. A path to a file is taken as it is.
 */
export function bundleInFolder(source: string, arch: string): string {
  if (!existsSync(source)) throw new UpdateError('UPDATE_SOURCE_NOT_FOUND', `${source} does not exist`);
  if (statSync(source).isFile()) return source;
  const candidates = readdirSync(source)
    .map((name) => ({ name, match: NAME.exec(name) }))
    .filter((c) => c.match !== null && c.match[2] === arch && statSync(path.join(source, c.name)).isFile())
    .sort((a, b) => compareVersions(a.match![1]!, b.match![1]!));
  const newest = candidates.at(-1);
  if (!newest) throw new UpdateError('UPDATE_SOURCE_NOT_FOUND', `no agentik-os-<version>-linux-${arch}.tar.gz in ${source}`);
  return path.join(source, newest.name);
}

/** A plain HTTP GET of `url` into `file`, refused past the size cap or the timeout. */
export function download(url: string, file: string, limits: SourceLimits = DEFAULT_SOURCE_LIMITS): Promise<void> {
  const fail = (message: string) => new UpdateError('UPDATE_DOWNLOAD_FAILED', `${url}: ${message}`);
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let response: http.IncomingMessage | undefined;
    const out = createWriteStream(file, { mode: 0o600 });
    const done = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        response?.unpipe(out);
        request.destroy();
        out.destroy();
        rmSync(file, { force: true });
        reject(error);
      } else resolve();
    };
    out.on('error', (error) => done(fail(error.message)));
    const timer = setTimeout(() => done(fail(`not downloaded within ${Math.round(limits.timeoutMs / 1000)} s`)), limits.timeoutMs);
    const request = http.get(url, (res) => {
      response = res;
      if (res.statusCode !== 200) {
        res.resume();
        done(fail(`HTTP ${res.statusCode}`));
        return;
      }
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > limits.maxBytes) {
        done(fail(`${declared} bytes is more than the ${limits.maxBytes} allowed`));
        return;
      }
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > limits.maxBytes) done(fail(`more than the ${limits.maxBytes} bytes allowed`));
      });
      res.on('error', (error) => done(fail(error.message)));
      res.pipe(out);
      out.on('finish', () => done());
    });
    request.on('error', (error) => done(fail(error.message)));
  });
}

/**
 * Resolves `--source` to a local bundle file: a folder or file as it is, an `http://` URL
 * downloaded into `downloadDir`.
 */
export async function fetchBundle(source: string, arch: string, downloadDir: string, limits?: SourceLimits): Promise<string> {
  if (/^https?:\/\//.test(source)) {
    if (!source.startsWith('http://')) throw new UpdateError('UPDATE_USAGE', '--source URLs are plain http:// (the bundle is verified by its signature, not by the transport)');
    const file = path.join(downloadDir, 'download.tar.gz');
    await download(source, file, limits);
    return file;
  }
  return bundleInFolder(source, arch);
}
