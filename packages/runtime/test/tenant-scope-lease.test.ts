import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeLlm } from '../src/test-support/fake-llm.js';
import { bearer, createAgent, readSseEvents, type TestServer } from '../src/test-support/harness.js';
import { startPostgresTestServer, type PostgresTestServer } from '../src/test-support/postgres-server.js';

/**
 * The lease of a request's tenant scope lasts until both its response has closed and its handler
 * has finished. On Postgres a closed tenant handle refuses every query, so a run whose client went
 * away while another request evicted its store would lose its write if the lease ended with the
 * response.
 */
let pg: PostgresTestServer;
let llm: FakeLlm;
let server: TestServer;

beforeAll(async () => {
  // One open tenant store: any request of another tenant evicts the first one's.
  pg = await startPostgresTestServer({ AGENTIK_TENANT_POOL_SIZE: '1' });
  ({ llm, server } = pg);
});

afterAll(async () => {
  await pg?.close();
});

describe('a tenant scope on Postgres', () => {
  it('keeps its store for a run still writing after its client disconnected, while another tenant evicts the store', async () => {
    const a = await server.createTenant({ name: 'Leaver', plan: 'pro' });
    const aKey = await server.createKey(a.id);
    const agent = await createAgent(server, aKey, { provider: 'ollama', model: 'llama3.2' });
    const b = await server.createTenant({ name: 'Evictor' });
    const bKey = await server.createKey(b.id);

    llm.enqueue({ tokens: Array.from({ length: 60 }, (_, i) => `word${i} `), tokenDelayMs: 25 });
    const upstreamAborted = llm.nextClientAbort();
    const controller = new AbortController();
    const res = await fetch(`${server.url}/api/agents/${agent}/messages`, {
      method: 'POST',
      headers: { ...bearer(aKey), accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'Tell me a long story' }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    await readSseEvents(res.body!, 2);

    // B's request evicts A's store from the pool while A's run holds it.
    expect((await server.app.inject({ method: 'GET', url: '/api/agents', headers: bearer(bKey) })).statusCode).toBe(200);
    expect(server.pool.stats().evictions).toBeGreaterThanOrEqual(1);
    controller.abort();
    expect((await upstreamAborted).clientClosedEarly).toBe(true);

    // The aborted run books its call and stores its turn in A's (evicted, still leased) store.
    const events = async () =>
      (await server.app.inject({ method: 'GET', url: '/api/costs/events', headers: bearer(aKey) })).json() as { data: { outcome: string }[] };
    let booked = await events();
    for (let i = 0; i < 100 && booked.data.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      booked = await events();
    }
    expect(booked.data.map((e) => e.outcome)).toEqual(['aborted']);
    const conversations = (await server.app.inject({ method: 'GET', url: '/api/conversations', headers: bearer(aKey) })).json() as { data: unknown[] };
    expect(conversations.data).toHaveLength(1);
    expect(server.logs.filter((l) => l.includes('handle is closed'))).toEqual([]);
  });
});
