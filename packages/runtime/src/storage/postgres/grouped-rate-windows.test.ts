import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test-support/postgres.js';
import { defaultMigrationsRoot, loadMigrationSets } from '../migrations.js';
import type { StorageBackend } from '../port.js';
import { openPostgresBackend } from './backend.js';

/** The rate-window counters of the Postgres backend, whose concurrent increments are grouped. */

let db: TestDatabase;
let backend: StorageBackend;

beforeAll(async () => {
  db = await createTestDatabase();
  backend = await openPostgresBackend({ databaseUrl: db.url, poolSize: 4, migrations: loadMigrationSets(defaultMigrationsRoot('postgres')) });
});

afterAll(async () => {
  await backend?.close();
  await db?.drop();
});

describe('grouped rate-window increments (Postgres)', () => {
  it('gives concurrent increments distinct counts, in order, with the previous minute', async () => {
    const windows = backend.master.rateWindows;
    await windows.increment('t_a', 99);
    await windows.increment('t_a', 99);
    const first = await Promise.all(Array.from({ length: 20 }, () => windows.increment('t_a', 100)));
    expect(first.map((c) => c.current)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(first.every((c) => c.previous === 2)).toBe(true);
    // Another tenant's and another minute's counts are their own, even in the same turn.
    const [more, other, later] = await Promise.all([windows.increment('t_a', 100), windows.increment('t_b', 100), windows.increment('t_a', 101)]);
    expect(more).toEqual({ current: 21, previous: 2 });
    expect(other).toEqual({ current: 1, previous: 0 });
    expect(later).toEqual({ current: 1, previous: 21 });
    await windows.decrement('t_a', 100);
    expect(await windows.increment('t_a', 100)).toEqual({ current: 21, previous: 2 });
  });
});
