import http from 'node:http';
import { createRequire } from 'node:module';

/** autocannon is a devDependency of `packages/runtime`, not of the root, so it resolves from there. */
const requireFromRuntime = createRequire(new URL('../../packages/runtime/package.json', import.meta.url));

/** The subset of autocannon's result the benchmarks print. */
export interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}

export interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
  method?: string;
  body?: string;
}

export function autocannon(options: AutocannonOptions): Promise<AutocannonResult> {
  const run = requireFromRuntime('autocannon') as (
    opts: AutocannonOptions,
    cb: (error: Error | null, result: AutocannonResult) => void,
  ) => unknown;
  return new Promise((resolve, reject) => {
    run(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** A request with an optional JSON body that must succeed (status below 300): its text, headers and parsed body. */
export async function callHttp(url: string, method: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return { text, json: () => JSON.parse(text) as Record<string, unknown>, headers: res.headers };
}

/** `callHttp`, returning the parsed response body. */
export async function callJson(url: string, method: string, headers: Record<string, string>, body?: unknown): Promise<Record<string, unknown>> {
  return (await callHttp(url, method, headers, body)).json();
}

/**
 * A GET client over one kept-alive loopback connection (node:http), so that a timed request
 * measures the server and not connection setup.
 */
export function keepAliveClient(baseUrl: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const base = new URL(baseUrl);
  return {
    get(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const req = http.request({ host: base.hostname, port: base.port, path, method: 'GET', headers, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
    },
    close: () => agent.destroy(),
  };
}
