import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../lib/ids.js';
import { defaultMigrationsRoot, loadMigrationSets } from '../../storage/migrations.js';
import type { StorageBackend } from '../../storage/port.js';
import { openSqliteBackend } from '../../storage/sqlite/backend.js';
import { DatabaseRateLimiter } from './db-rate-limiter.js';

/** The shared limiter's rules over a real master store (Postgres runs them in test/replicas). */
let dir: string;
let backend: StorageBackend;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'agentik-rl-'));
  backend = openSqliteBackend({ dataDir: dir, migrations: loadMigrationSets(defaultMigrationsRoot('sqlite')) });
});
afterAll(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('DatabaseRateLimiter', () => {
  const MINUTE = 60_000 * 29_000_000;

  it('allows perMinute requests in a minute, refuses the next without counting it, per tenant', async () => {
    let now = MINUTE + 30_000;
    const limiter = new DatabaseRateLimiter(backend.master.rateWindows, () => now);
    const t = newId('tenant');
    const results = await Promise.all(Array.from({ length: 8 }, () => limiter.take(t, 5)));
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
    expect(results.find((r) => !r.allowed)).toEqual({ allowed: false, retryAfterSeconds: 30 });
    expect((await limiter.take(newId('tenant'), 5)).allowed).toBe(true);
    // Refusals were not counted: half-way through the next minute the previous 5 weigh 2.5.
    now = MINUTE + 60_000 + 30_000;
    const next = await Promise.all(Array.from({ length: 4 }, () => limiter.take(t, 5)));
    expect(next.filter((r) => r.allowed)).toHaveLength(2);
    // Two minutes on, the window is empty again and old minutes were pruned.
    now = MINUTE + 3 * 60_000;
    expect((await limiter.take(t, 1)).allowed).toBe(true);
    expect(await backend.master.rateWindows.increment(t, Math.floor(MINUTE / 60_000))).toEqual({ current: 1, previous: 0 });
  });
});
