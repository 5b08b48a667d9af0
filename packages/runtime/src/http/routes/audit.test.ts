import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestRuntime, type TestRuntime } from '../../test-support/harness.js';

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime();
});

afterAll(async () => {
  await rt?.close();
});

interface AuditPage {
  data: { id: string; action: string; target: string | null }[];
  nextCursor: string | null;
}

const get = (key: string, query: string) => rt.app.inject({ method: 'GET', url: `/api/audit?${query}`, headers: bearer(key) });

/** Every event, page by page (`limit` at a time), following the cursor. */
async function walk(key: string, query: string, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await get(key, `${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json() as AuditPage;
    expect(page.data.length).toBeLessThanOrEqual(limit);
    ids.push(...page.data.map((e) => e.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

describe('GET /api/audit?order=', () => {
  it('pages newest first with order=desc, through the same cursor scheme; oldest first stays the default', async () => {
    const t = await rt.createTenant({ name: 'Audit order', plan: 'enterprise' });
    const key = await rt.createKey(t.id);
    for (let i = 0; i < 7; i++) {
      const res = await rt.app.inject({ method: 'POST', url: '/api/agents', headers: bearer(key), payload: { name: `bot-${i}`, systemPrompt: '', provider: 'ollama', model: 'llama3.2' } });
      expect(res.statusCode, res.body).toBe(201);
    }
    const all = (await get(key, 'limit=200')).json() as AuditPage;
    const created = all.data.filter((e) => e.action === 'agent.created');
    expect(created).toHaveLength(7);
    const oldestFirst = all.data.map((e) => e.id);
    expect([...oldestFirst].sort()).toEqual(oldestFirst);

    expect(await walk(key, 'order=asc', 3)).toEqual(oldestFirst);
    expect(await walk(key, 'order=desc', 3)).toEqual([...oldestFirst].reverse());
    // The newest page first: the last agent created leads.
    const newest = (await get(key, 'order=desc&limit=1')).json() as AuditPage;
    expect(newest.data.map((e) => e.action)).toEqual(['agent.created']);
    expect(newest.data[0]!.id).toBe(created.at(-1)!.id);
    expect(newest.nextCursor).toBe(newest.data[0]!.id);
  });

  it('refuses any other order with VALIDATION_FAILED', async () => {
    const t = await rt.createTenant({ name: 'Audit bad order' });
    const key = await rt.createKey(t.id);
    for (const q of ['order=newest', 'order=DESC', 'order=', 'order=asc&order=desc', 'order=desc&sort=id']) {
      const res = await get(key, q);
      expect(res.statusCode, q).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    }
  });
});
