import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PipelinedQuery, type PipelineStatement } from '../src/storage/postgres/pipelined-query.js';
import { bearer, createAgent, type TestServer } from '../src/test-support/harness.js';
import { startPostgresTestServer, type PostgresTestServer } from '../src/test-support/postgres-server.js';

/**
 * The reads a message needs before its model call (agent, conversation, recent turns, provider
 * credentials, budget) go to Postgres together, in one pipeline under the tenant's scope, rather
 * than one round trip per stage.
 */
let pg: PostgresTestServer;
let server: TestServer;

beforeAll(async () => {
  pg = await startPostgresTestServer();
  server = pg.server;
});

afterAll(async () => {
  await pg?.close();
});

const runOriginal = PipelinedQuery.run.bind(PipelinedQuery);
const settledOriginal = PipelinedQuery.runSettled.bind(PipelinedQuery);

/** The statements of every pipeline sent while `action` runs. */
async function pipelinesDuring(action: () => Promise<unknown>): Promise<string[][]> {
  const sent: string[][] = [];
  const record = (statements: readonly PipelineStatement[]) => void sent.push(statements.map((s) => s.text));
  const run = vi.spyOn(PipelinedQuery, 'run').mockImplementation((client, statements) => {
    record(statements);
    return runOriginal(client, statements);
  });
  const settled = vi.spyOn(PipelinedQuery, 'runSettled').mockImplementation((client, statements) => {
    record(statements);
    return settledOriginal(client, statements);
  });
  try {
    await action();
  } finally {
    run.mockRestore();
    settled.mockRestore();
  }
  return sent;
}

const reads = (statements: string[]) => statements.filter((s) => /^select \* from "(agents|conversations|messages|provider_credentials|budget)"/i.test(s));

describe('the reads of a message on Postgres', () => {
  it('go out in one pipeline, scoped, for a new and for a continued conversation', async () => {
    const t = await server.createTenant({ name: 'Reader', plan: 'pro' });
    const key = await server.createKey(t.id);
    const agent = await createAgent(server, key, { provider: 'ollama', model: 'llama3.2' });
    const send = async (body: object) => {
      const res = await server.app.inject({ method: 'POST', url: `/api/agents/${agent}/messages`, headers: bearer(key), payload: body });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { conversationId: string };
    };
    // The first message of the process prepares everything once; measure the next ones.
    const { conversationId } = await send({ content: 'Hello' });

    const fresh = await pipelinesDuring(() => send({ content: 'Hello again' }));
    const withReads = fresh.filter((p) => reads(p).length > 0);
    expect(withReads).toHaveLength(1);
    expect(withReads[0]![0]).toMatch(/set_config\('role'/);
    expect(reads(withReads[0]!).map((s) => s.match(/from "(\w+)"/)![1])).toEqual(['agents', 'provider_credentials', 'budget']);

    const continued = await pipelinesDuring(() => send({ content: 'And now?', conversationId }));
    const continuedReads = continued.filter((p) => reads(p).length > 0);
    expect(continuedReads).toHaveLength(1);
    expect(reads(continuedReads[0]!).map((s) => s.match(/from "(\w+)"/)![1])).toEqual([
      'agents',
      'conversations',
      'messages',
      'provider_credentials',
      'budget',
    ]);
  });
});
