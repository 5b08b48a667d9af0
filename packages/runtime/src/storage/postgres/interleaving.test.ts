import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test-support/postgres.js';
import { createPgPool } from './pool.js';
import { scopeStatements, tenantRole, tenantSchema } from './identifiers.js';
import { createScopedKysely, type ScopedKysely } from './scoped-driver.js';
import { provisionTenantSchema } from './tenant-schemas.js';

/**
 * Units of work of two tenants interleaving on ONE pooled connection: every statement of a unit
 * runs under that unit's tenant role and schema, whatever ran on the connection before it (a
 * committed unit, a failed one, one whose scope could not be set), and the connection goes back
 * to the pool as the login role.
 */

type Db = Record<string, never>;
interface Seen {
  role: string;
  path: string;
  marker: string;
  pid: number;
}

let db: TestDatabase;
let pool: pg.Pool;
const handles: Array<ScopedKysely<Db>> = [];
/** Roles are cluster-wide: random ids keep concurrent test runs apart. */
const run = randomBytes(4).toString('hex');
const ids = [`ilv_${run}_alpha`, `ilv_${run}_beta`] as const;
let alpha: Kysely<Db>;
let beta: Kysely<Db>;

/** What a statement of a unit sees: role, search_path, the schema's marker row, the backend. */
async function seen(k: Kysely<Db>): Promise<Seen> {
  const { rows } = await sql<Seen>`SELECT current_user AS role, current_setting('search_path') AS path, (SELECT tenant FROM marker) AS marker, pg_backend_pid() AS pid`.execute(k);
  return rows[0]!;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function expectScoped(s: Seen, tenantId: string): void {
  expect({ role: s.role, path: s.path.replace(/"/g, ''), marker: s.marker }).toEqual({ role: tenantRole(tenantId), path: tenantSchema(tenantId), marker: tenantId });
}

async function errorOf(run: () => Promise<unknown>): Promise<{ code?: string }> {
  try {
    await run();
  } catch (error) {
    return error as { code?: string };
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  db = await createTestDatabase();
  // One connection: every unit of both tenants runs on the same server backend.
  pool = createPgPool({ databaseUrl: db.url, poolSize: 1 });
  for (const id of ids) {
    await provisionTenantSchema(pool, id, []);
    const h = createScopedKysely<Db>(pool, scopeStatements(id));
    handles.push(h);
    await sql`CREATE TABLE marker AS SELECT ${sql.lit(id)}::text AS tenant`.execute(h.db);
  }
  [alpha, beta] = handles.map((h) => h.db) as [Kysely<Db>, Kysely<Db>];
});

afterAll(async () => {
  for (const h of handles) await h.close();
  await pool?.end();
  await db?.drop();
});

describe('tenant units interleaving on one pooled connection (Postgres)', () => {
  it("never runs a statement of tenant A's unit under tenant B's role or schema", async () => {
    const pids = new Set<number>();
    const unit = async (k: Kysely<Db>, id: string, i: number) => {
      if (i % 2 === 0) {
        // A single statement outside a transaction: scope and statement travel together.
        const s = await seen(k);
        expectScoped(s, id);
        pids.add(s.pid);
        return;
      }
      await k.transaction().execute(async (tx) => {
        for (let n = 0; n < 3; n++) {
          const s = await seen(tx);
          expectScoped(s, id);
          pids.add(s.pid);
          // The other tenant's units are queued for this very connection meanwhile.
          await turn();
        }
      });
    };
    await Promise.all(Array.from({ length: 40 }, (_, i) => [unit(alpha, ids[0], i), unit(beta, ids[1], i)]).flat());
    expect(pids.size).toBe(1);
  });

  it('keeps the next unit on the connection in its own scope after a unit failed, in or outside a transaction', async () => {
    const failingTx = errorOf(() =>
      alpha.transaction().execute(async (tx) => {
        expectScoped(await seen(tx), ids[0]);
        await sql`SELECT * FROM no_such_table`.execute(tx);
      }),
    );
    const failingStatement = errorOf(() => sql`SELECT * FROM no_such_table`.execute(alpha));
    const next = Promise.all([seen(beta), beta.transaction().execute((tx) => seen(tx)), seen(alpha)]);
    expect((await failingTx).code).toBe('42P01');
    expect((await failingStatement).code).toBe('42P01');
    const [b1, b2, a1] = await next;
    expectScoped(b1, ids[1]);
    expectScoped(b2, ids[1]);
    expectScoped(a1, ids[0]);
  });

  it('refuses a unit whose role cannot be set, and runs nothing of it', async () => {
    const gone = createScopedKysely<Db>(pool, { role: `agentik_t_ilv_${run}_missing`, searchPath: `"t_ilv_${run}_missing"`, sql: '' });
    try {
      const error = await errorOf(() => gone.db.transaction().execute(async (tx) => sql`SELECT 1`.execute(tx)));
      expect(error.code).toBe('22023');
      expectScoped(await seen(beta), ids[1]);
    } finally {
      await gone.close();
    }
  });

  it("sends one handle's concurrent reads in one pipeline, each with its own answer or error", async () => {
    let acquired = 0;
    const count = () => acquired++;
    pool.on('acquire', count);
    try {
      const reads = await Promise.allSettled([seen(alpha), sql`SELECT * FROM no_such_table`.execute(alpha), seen(alpha), seen(alpha)]);
      expect(reads.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect(((reads[1] as PromiseRejectedResult).reason as { code?: string }).code).toBe('42P01');
      for (const r of [reads[0], reads[2], reads[3]]) expectScoped((r as PromiseFulfilledResult<Seen>).value, ids[0]);
      // One connection for the pipeline, one for each read skipped after the failure and run again.
      expect(acquired).toBe(3);
      acquired = 0;
      const numbered = await Promise.all(Array.from({ length: 8 }, (_, i) => sql<{ n: number; tenant: string }>`SELECT ${i}::int AS n, tenant FROM marker`.execute(beta)));
      expect(numbered.map((r) => r.rows)).toEqual(Array.from({ length: 8 }, (_, i) => [{ n: i, tenant: ids[1] }]));
      expect(acquired).toBe(1);
    } finally {
      pool.off('acquire', count);
    }
  });

  it('prepares a statement once per connection and runs it anew after it failed or its table changed shape', async () => {
    const divide = (n: number) => sql<{ q: number }>`SELECT 10 / ${n}::int AS q FROM marker`.execute(alpha);
    // Parsed, then failed while running: the next use prepares it again (no "already exists").
    expect((await errorOf(() => divide(0))).code).toBe('22012');
    expect((await divide(2)).rows).toEqual([{ q: 5 }]);
    // Prepared under alpha's scope, run under beta's: Postgres parses it again for beta's schema.
    const read = (k: Kysely<Db>) => sql<Record<string, unknown>>`SELECT * FROM marker`.execute(k);
    expect((await read(alpha)).rows).toEqual([{ tenant: ids[0] }]);
    expect((await read(beta)).rows).toEqual([{ tenant: ids[1] }]);
    // The table changed shape under the prepared statement ("cached plan must not change result type").
    await sql`ALTER TABLE marker ADD COLUMN added int DEFAULT 7`.execute(alpha);
    expect((await read(alpha)).rows).toEqual([{ tenant: ids[0], added: 7 }]);
    await sql`ALTER TABLE marker DROP COLUMN added`.execute(alpha);
  });

  it('returns the connection to the pool as the login role, with its own search_path', async () => {
    await Promise.all([seen(alpha), alpha.transaction().execute((tx) => seen(tx)), seen(beta)]);
    const { rows } = await pool.query<{ role: string; path: string }>(`SELECT current_user AS role, current_setting('search_path') AS path`);
    expect(rows[0]!.role).not.toMatch(/^agentik_t_/);
    expect(rows[0]!.path).toBe('agentik');
    const unscoped = await errorOf(() => pool.query('SELECT * FROM marker'));
    expect(unscoped.code).toBe('42P01');
  });
});
