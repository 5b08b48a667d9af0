import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Role } from '@agentik/shared';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { buildApp, type BuildAppOptions, type Runtime } from '../http/app.js';
import type { Log } from '../lib/log.js';
import { SseParser, type SseEvent } from '@agentik/shared';

/** A logger that drops everything, for tests that call code taking a Log. */
export const silentLog: Log = { info() {}, warn() {}, error() {}, debug() {} };

export const OPERATOR_KEY = 'agk_test_operator_key_0123456789abcdefghijklmnop';

/** A runtime on a fresh temp data dir, with captured log lines and helpers for common calls. */
export interface TestRuntime extends Runtime {
  /** The parsed config the runtime was built with. */
  config: Config;
  /** The runtime's temp data dir (AGENTIK_DATA_DIR), removed by `close()`. */
  dataDir: string;
  /** Every log line written so far, raw JSON text. */
  logs: string[];
  /** Operator-authenticated headers (the configured operator key), optionally acting inside a tenant. */
  operator(tenant?: string): Record<string, string>;
  /** Creates a tenant through the API and returns its id and slug. */
  createTenant(body: { name: string; slug?: string; owner?: string; plan?: string }): Promise<{ id: string; slug: string }>;
  /** Issues a key for the tenant through the API and returns the secret. */
  createKey(tenantId: string, role?: Role): Promise<string>;
  /** Closes the app and removes the data dir. */
  close(): Promise<void>;
}

/** A test runtime that also listens on 127.0.0.1. */
export interface TestServer extends TestRuntime {
  /** Base URL of the listening server, e.g. `http://127.0.0.1:41234`, without a trailing slash. */
  url: string;
}

export function testConfig(dataDir: string, env: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({
    AGENTIK_DATA_DIR: dataDir,
    AGENTIK_LOG_LEVEL: 'info',
    AGENTIK_OPERATOR_KEY: OPERATOR_KEY,
    ...env,
  });
}

export async function startTestRuntime(
  env: NodeJS.ProcessEnv = {},
  extra: Omit<BuildAppOptions, 'config' | 'logStream'> = {},
): Promise<TestRuntime> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'agentik-test-'));
  const config = testConfig(dataDir, env);
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const runtime = await buildApp({ config, logStream, ...extra });
  // A test may bring its own operator key through `env`; the helpers must then use that one.
  const operatorKey = config.operatorKey ?? OPERATOR_KEY;
  await runtime.manager.ensureOperatorKey(operatorKey);
  const operator = (tenant?: string) => ({
    authorization: `Bearer ${operatorKey}`,
    ...(tenant ? { 'x-tenant-id': tenant } : {}),
  });
  return {
    ...runtime,
    config,
    dataDir,
    logs,
    operator,
    async createTenant(body) {
      const res = await runtime.app.inject({
        method: 'POST',
        url: '/api/tenants',
        headers: operator(),
        payload: { owner: 'owner@example.com', ...body },
      });
      if (res.statusCode !== 201) throw new Error(`create tenant: ${res.statusCode} ${res.body}`);
      return res.json() as { id: string; slug: string };
    },
    async createKey(tenantId, role = 'owner') {
      const res = await runtime.app.inject({
        method: 'POST',
        url: `/api/tenants/${tenantId}/keys`,
        headers: operator(),
        payload: { role },
      });
      if (res.statusCode !== 201) throw new Error(`create key: ${res.statusCode} ${res.body}`);
      return (res.json() as { key: string }).key;
    },
    async close() {
      await runtime.app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * `startTestRuntime`, listening on 127.0.0.1 and a free port, for tests that need real sockets
 * (fetch, raw HTTP, an SDK client). `close()` stops the server and removes the data dir.
 */
export async function startTestServer(
  env: NodeJS.ProcessEnv = {},
  extra: Omit<BuildAppOptions, 'config' | 'logStream'> = {},
): Promise<TestServer> {
  const runtime = await startTestRuntime(env, extra);
  try {
    await runtime.app.listen({ host: '127.0.0.1', port: 0 });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  const address = runtime.app.server.address();
  if (address === null || typeof address === 'string') throw new Error(`unexpected server address ${String(address)}`);
  return { ...runtime, url: `http://127.0.0.1:${address.port}` };
}

/** One event of an SSE response body, its data decoded as JSON. */
export interface TestSseEvent {
  /** The event type (`message` when the event named none). */
  event: string;
  /** The event's data, parsed as JSON. */
  data: unknown;
}

/**
 * Parses an SSE response body with the runtime's own parser and JSON-decodes each event's data.
 * Throws when the body ends inside an event, so a cut-off stream cannot pass for a short one.
 */
export function parseSseBody(body: string): TestSseEvent[] {
  const parser = new SseParser();
  const events = parser.push(body);
  if (parser.end()) throw new Error(`SSE body ends inside an event: ${JSON.stringify(body.slice(-200))}`);
  return events.map((e) => ({ event: e.event, data: JSON.parse(e.data) as unknown }));
}

/** Reads a live SSE response until at least `count` events came (fails when it ends first). */
export async function readSseEvents(body: ReadableStream<Uint8Array>, count: number): Promise<SseEvent[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  const received: SseEvent[] = [];
  while (received.length < count) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended after ${received.length} events`);
    received.push(...parser.push(decoder.decode(value, { stream: true })));
  }
  reader.releaseLock();
  return received;
}

/** Bearer headers for a tenant key. */
export function bearer(key: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${key}`, ...extra };
}

/** Creates an agent through the API with a tenant key and returns its id (fails the test otherwise). */
export async function createAgent(
  runtime: Pick<Runtime, 'app'>,
  key: string,
  agent: { provider: string; model: string; name?: string },
): Promise<string> {
  const res = await runtime.app.inject({
    method: 'POST',
    url: '/api/agents',
    headers: bearer(key),
    payload: { name: 'bot', systemPrompt: 'Be brief.', ...agent },
  });
  if (res.statusCode !== 201) throw new Error(`create agent: ${res.statusCode} ${res.body}`);
  return (res.json() as { id: string }).id;
}
