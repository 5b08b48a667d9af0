import http from 'node:http';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { agentBody, operatorHeaders } from './setup.js';

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

/** One POST target: URL, headers and a JSON body. */
export interface Target {
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/** autocannon's result with the counts the persistence checks need. */
export interface LoadResult extends AutocannonResult {
  '2xx': number;
  requests: AutocannonResult['requests'] & { sent: number };
}

/** autocannon POSTing `target` with `connections` connections for `seconds`. */
export async function load(target: Target, connections: number, seconds: number): Promise<LoadResult> {
  const options: AutocannonOptions & Record<string, unknown> = {
    url: target.url,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { ...target.headers, 'content-type': 'application/json' },
    body: JSON.stringify(target.body),
  };
  return (await autocannon(options)) as LoadResult;
}

/** Throws when a load run saw a non-2xx answer, an error or a timeout. */
export function checkLoad(label: string, r: LoadResult): void {
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) {
    throw new Error(`${label}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
  }
}

/**
 * POSTs over one kept-alive loopback connection (node:http) and times, with performance.now(),
 * the first body byte and the end of the response.
 */
export function timedClient(baseUrl: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const base = new URL(baseUrl);
  return {
    post(target: Target): Promise<{ status: number; ttfb: number; total: number; body: string }> {
      const payload = JSON.stringify(target.body);
      const pathname = new URL(target.url).pathname;
      return new Promise((resolve, reject) => {
        const started = performance.now();
        let ttfb = Number.NaN;
        const req = http.request(
          {
            host: base.hostname,
            port: base.port,
            path: pathname,
            method: 'POST',
            agent,
            headers: { ...target.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => {
              if (chunks.length === 0) ttfb = performance.now() - started;
              chunks.push(c);
            });
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, ttfb, total: performance.now() - started, body: Buffer.concat(chunks).toString('utf8') }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
    close: () => agent.destroy(),
  };
}

/** A benchmark tenant: its id, a member key's headers and one agent. */
export interface BenchTenant {
  id: string;
  headers: Record<string, string>;
  agentId: string;
  agentName: string;
}

/** An enterprise tenant on the runtime at `url` with a member key and one agent (`agentBody('bench')`, Ollama). */
export async function createTenant(url: string, name: string): Promise<BenchTenant> {
  const tenant = (await callHttp(`${url}/api/tenants`, 'POST', operatorHeaders(), { name, owner: 'bench@example.com', plan: 'enterprise' })).json();
  const id = String(tenant.id);
  const { key } = (await callHttp(`${url}/api/tenants/${id}/keys`, 'POST', operatorHeaders(), { role: 'member' })).json() as { key: string };
  const agent = (await callHttp(`${url}/api/agents`, 'POST', operatorHeaders(id), agentBody('bench'))).json();
  return { id, headers: { authorization: `Bearer ${key}` }, agentId: String(agent.id), agentName: String(agent.name) };
}

/**
 * Counts the answered (2xx) and sent requests per tenant, and checks afterwards through
 * `GET /api/costs/summary` that every answered request was persisted: the cost event is written
 * in the same transaction as the conversation and its messages. autocannon stops with up to
 * `connections` requests in flight that the server still completes (and records), so the count
 * must lie between the answered and the sent requests.
 */
export class PersistedCount {
  private readonly counts = new Map<string, { answered: number; sent: number }>();

  count(t: BenchTenant, answered: number, sent: number): void {
    const c = this.counts.get(t.id) ?? { answered: 0, sent: 0 };
    c.answered += answered;
    c.sent += sent;
    this.counts.set(t.id, c);
  }

  /** One table row per tenant, and whether all of them were complete. */
  async check(url: string, tenants: ReadonlyArray<readonly [string, BenchTenant]>): Promise<{ ok: boolean; rows: Array<Record<string, string | number>> }> {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const from = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const rows: Array<Record<string, string | number>> = [];
    let ok = true;
    for (const [name, t] of tenants) {
      const summary = (await callHttp(`${url}/api/costs/summary?from=${from}`, 'GET', t.headers)).json() as { calls: number };
      const c = this.counts.get(t.id) ?? { answered: 0, sent: 0 };
      const complete = summary.calls >= c.answered && summary.calls <= c.sent;
      ok &&= complete;
      rows.push({ tenant: name, 'requests answered (2xx)': c.answered, 'requests sent': c.sent, 'cost events (calls)': summary.calls, check: complete ? 'ok' : 'MISSING' });
    }
    return { ok, rows };
  }
}
