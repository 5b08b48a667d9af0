import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bearer, startTestRuntime, testConfig } from '../../test-support/harness.js';
import { buildApp } from '../app.js';

/** Replaces `target[key]` with a function that records `name`, then calls the original. */
function record<T extends object>(order: string[], name: string, target: T, key: keyof T & string): void {
  const original = (target[key] as (...args: unknown[]) => Promise<unknown>).bind(target);
  Object.assign(target, { [key]: async (...args: unknown[]) => (order.push(name), original(...args)) });
}

describe('resource plugins', () => {
  it('close themselves on shutdown, the users of a resource before the resource', async () => {
    // Redis, so that the limiters hold connections of their own to close.
    const rt = await startTestRuntime({ AGENTIK_REDIS_URL: 'redis://127.0.0.1:6379/0', AGENTIK_LOG_LEVEL: 'silent' });
    const tenant = await rt.createTenant({ name: 'Closing' });
    const key = await rt.createKey(tenant.id);
    expect((await rt.app.inject({ method: 'GET', url: '/api/agents', headers: bearer(key) })).statusCode).toBe(200);
    expect(rt.pool.stats().size).toBe(1);

    const order: string[] = [];
    record(order, 'notifier', rt.app.notifier, 'idle');
    record(order, 'pool', rt.app.pool, 'closeAll');
    record(order, 'providers', rt.app.providers, 'close');
    record(order, 'limiters', rt.app.limiters, 'close');
    record(order, 'backend', rt.app.backend, 'close');
    expect(rt.app.poolUsable()).toBe(true);
    await rt.close();

    // Pending webhooks first, then the tenant stores, the upstream connections, Redis, and last
    // the backend that the tenant stores belong to.
    expect(order).toEqual(['notifier', 'pool', 'providers', 'limiters', 'backend']);
    expect(rt.pool.stats().size).toBe(0);
    expect(rt.app.poolUsable()).toBe(false);
  });

  it('close what they opened when the app cannot be built (a missing pricing file after the store opened)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'agentik-plugins-'));
    try {
      const config = testConfig(dir, { AGENTIK_PRICING_FILE: path.join(dir, 'missing.json'), AGENTIK_LOG_LEVEL: 'silent' });
      await expect(buildApp({ config })).rejects.toThrow(/missing\.json/);
      // The master store was opened and migrated; a clean close checkpoints and removes its WAL.
      expect(existsSync(path.join(dir, 'master.db'))).toBe(true);
      expect(readdirSync(dir).filter((f) => f.endsWith('-wal') || f.endsWith('-shm'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
