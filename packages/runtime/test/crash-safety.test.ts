import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm } from '../src/test-support/fake-llm.js';
import { killServeChildren, REPO_ROOT, spawnServe, type ServeChild } from '../src/test-support/spawn-runtime.js';

/**
 * The real `agentik serve` in a child process: killed with SIGKILL in the middle of a stream of
 * writes it must come back with every write it acknowledged; stopped with SIGTERM it must finish
 * the requests in flight and exit 0.
 */

const OPERATOR_KEY = 'agk_crash_test_operator_key_0123456789abcdef';

/** The restarted server of the first test, reused by the second to save a start-up. */
let survivor: { child: ServeChild; dataDir: string } | undefined;
const dirs: string[] = [];

const startChild = (dataDir: string): Promise<ServeChild> =>
  spawnServe({ AGENTIK_DATA_DIR: dataDir, AGENTIK_HOST: '127.0.0.1', AGENTIK_OPERATOR_KEY: OPERATOR_KEY, AGENTIK_LOG_LEVEL: 'info' });

async function post<T>(url: string, key: string, body: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

async function setupTenant(child: ServeChild, slug: string): Promise<string> {
  const tenant = await post<{ id: string }>(`${child.url}/api/tenants`, OPERATOR_KEY, {
    name: slug,
    slug,
    owner: 'ops@example.test',
    plan: 'enterprise',
  });
  expect(tenant.status).toBe(201);
  const key = await post<{ key: string }>(`${child.url}/api/tenants/${tenant.body.id}/keys`, OPERATOR_KEY, { role: 'owner' });
  expect(key.status).toBe(201);
  return key.body.key;
}

async function allAgents(url: string, key: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${cursor}` : '';
    const res = await fetch(`${url}/api/agents?limit=200${query}`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { data: Array<{ id: string; name: string }>; nextCursor: string | null };
    for (const a of page.data) found.set(a.id, a.name);
    cursor = page.nextCursor;
  } while (cursor);
  return found;
}

const agent = (name: string) => ({ name, systemPrompt: `prompt of ${name}`, provider: 'ollama', model: 'llama3' });

beforeAll(() => {
  if (!existsSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'))) throw new Error('tsx is not installed at the repo root');
});

afterAll(() => {
  killServeChildren();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('crash safety of the real server process', () => {
  it('finds every acknowledged write after a SIGKILL in the middle of a stream of writes', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'agentik-crash-'));
    dirs.push(dataDir);
    const first = await startChild(dataDir);
    const key = await setupTenant(first, 'crash');

    const acked = new Map<string, string>();
    let attempted = 0;
    let failedAfterKill = 0;
    let killed = false;
    const KILL_AFTER = 80;
    const writer = async (w: number) => {
      for (let i = 0; ; i++) {
        const name = `w${w}-${i}`;
        attempted += 1;
        try {
          const res = await post<{ id: string; name: string }>(`${first.url}/api/agents`, key, agent(name));
          if (res.status >= 200 && res.status < 300) acked.set(res.body.id, res.body.name);
          // Before the kill every write must succeed; after it nothing may be acknowledged wrongly.
          else if (!killed) throw new Error(`write ${name} got ${res.status}`);
        } catch (error) {
          if (!killed) throw error;
          failedAfterKill += 1;
          return;
        }
        if (!killed && acked.size >= KILL_AFTER) {
          killed = true;
          first.proc.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(killed).toBe(true);
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER);
    // Requests were still going when the process died.
    expect(failedAfterKill).toBeGreaterThan(0);
    expect(attempted).toBeGreaterThan(acked.size);

    const second = await startChild(dataDir);
    const stored = await allAgents(second.url, key);
    const missing = [...acked.keys()].filter((id) => stored.get(id) !== acked.get(id));
    expect(missing).toEqual([]);
    // Nothing appears that was never sent.
    for (const name of stored.values()) expect(name).toMatch(/^w[0-7]-\d+$/);
    expect(stored.size).toBeLessThanOrEqual(attempted);

    // The restarted server keeps accepting writes.
    const after = await post<{ id: string }>(`${second.url}/api/agents`, key, agent('after-restart'));
    expect(after.status).toBe(201);
    survivor = { child: second, dataDir };
  }, 60_000);

  it('on SIGTERM finishes requests in flight, exits 0, and keeps the data', async () => {
    let dataDir: string;
    let child: ServeChild;
    if (survivor) ({ child, dataDir } = survivor);
    else {
      dataDir = mkdtempSync(path.join(tmpdir(), 'agentik-term-'));
      dirs.push(dataDir);
      child = await startChild(dataDir);
    }
    const key = await setupTenant(child, 'drain');
    const port = Number(new URL(child.url).port);

    // A request whose body is only half sent when the signal arrives: it is in flight for sure.
    const body = Buffer.from(JSON.stringify(agent('in-flight')));
    let finishBody = () => {};
    const inFlight = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/agents',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': body.length },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.flushHeaders();
      req.write(body.subarray(0, 10));
      finishBody = () => req.end(body.subarray(10));
    });
    // And a burst of ordinary writes racing the signal.
    const burst = Array.from({ length: 16 }, (_, i) =>
      post<{ id: string; name: string }>(`${child.url}/api/agents`, key, agent(`burst-${i}`)).then(
        (res) => res,
        () => ({ status: 0, body: { id: '', name: '' } }),
      ),
    );
    // A round trip sent after the half request: once it is back, the server has routed that one.
    await new Promise((r) => setTimeout(r, 50));
    expect((await fetch(`${child.url}/health`)).status).toBe(200);
    child.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    finishBody();

    const finished = await inFlight;
    expect(finished.status).toBe(201);
    const inFlightAgent = JSON.parse(finished.text) as { id: string; name: string };
    expect(inFlightAgent.name).toBe('in-flight');
    const results = await Promise.all(burst);
    // Each write was either done (2xx) or turned away cleanly; none failed inside the server.
    for (const r of results) expect([0, 201, 503]).toContain(r.status);

    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.output.join('')).toContain('shutting down');

    const again = await startChild(dataDir);
    const stored = await allAgents(again.url, key);
    expect(stored.get(inFlightAgent.id)).toBe('in-flight');
    for (const r of results) if (r.status === 201) expect(stored.get(r.body.id)).toBe(r.body.name);
    again.proc.kill('SIGTERM');
    expect(await again.exited).toEqual({ code: 0, signal: null });
  }, 60_000);
  it('on SIGTERM after answering messages (background indexing and checkpoints running) exits 0 and leaves no WAL', async () => {
    const llm = await startFakeLlm({ instant: true });
    try {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'agentik-term-messages-'));
      dirs.push(dataDir);
      const child = await spawnServe({
        AGENTIK_DATA_DIR: dataDir,
        AGENTIK_HOST: '127.0.0.1',
        AGENTIK_OPERATOR_KEY: OPERATOR_KEY,
        AGENTIK_OLLAMA_URL: llm.url,
      });
      const key = await setupTenant(child, 'talker');
      const created = await post<{ id: string }>(`${child.url}/api/agents`, key, agent('talker'));
      expect(created.status).toBe(201);
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) => post<{ conversationId: string }>(`${child.url}/api/agents/${created.body.id}/messages`, key, { content: `question ${i}` })),
      );
      for (const r of replies) expect(r.status).toBe(200);
      // Long enough for the background full-text indexing and the WAL checkpoint to have run.
      await new Promise((r) => setTimeout(r, 500));
      child.proc.kill('SIGTERM');
      expect(await child.exited).toEqual({ code: 0, signal: null });
      const left = readdirSync(path.join(dataDir, 'tenants'));
      expect(left.filter((f) => f.endsWith('-wal') || f.endsWith('-shm'))).toEqual([]);

      // Everything answered is there after the restart, and searchable.
      const again = await startChild(dataDir);
      const search = await fetch(`${again.url}/api/conversations/search?q=question`, { headers: { authorization: `Bearer ${key}` } });
      expect(((await search.json()) as { data: unknown[] }).data).toHaveLength(20);
      again.proc.kill('SIGTERM');
      expect(await again.exited).toEqual({ code: 0, signal: null });
    } finally {
      await llm.close();
    }
  }, 60_000);
});
