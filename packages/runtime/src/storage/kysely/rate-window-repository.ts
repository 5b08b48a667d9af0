import type { Kysely } from 'kysely';
import type { RateWindowRepository } from '../port.js';
import { compileOnce, kyselyRunner, type QueryRunner } from './compiled-query.js';
import type { MasterDb } from './tables.js';

/**
 * Shared per-minute request counters. `increment` is one statement in both dialects:
 * INSERT ... ON CONFLICT DO UPDATE ... RETURNING, with the previous minute read by a subquery in
 * the RETURNING list, so concurrent callers on any replica each see a distinct count.
 */
const incrementWindow = compileOnce((db: Kysely<MasterDb>, tenantId: string, minute: number, previousMinute: number) =>
  db
    .insertInto('rate_windows')
    .values({ tenant_id: tenantId, minute, count: 1 })
    .onConflict((oc) => oc.columns(['tenant_id', 'minute']).doUpdateSet((eb) => ({ count: eb('rate_windows.count', '+', 1) })))
    .returning((eb) => [
      'count',
      eb
        .selectFrom('rate_windows as p')
        .select('p.count')
        .where('p.tenant_id', '=', tenantId)
        .where('p.minute', '=', previousMinute)
        .as('previous'),
    ]),
);

export function createRateWindowRepository(db: Kysely<MasterDb>, runner: QueryRunner = kyselyRunner): RateWindowRepository {
  return {
    async increment(tenantId, minute) {
      const {
        rows: [row],
      } = await runner.write(db, incrementWindow(db, tenantId, minute, minute - 1));
      if (row === undefined) throw new Error('the rate window insert returned no row');
      return { current: Number(row.count), previous: row.previous === null ? 0 : Number(row.previous) };
    },
    async decrement(tenantId, minute) {
      await db
        .updateTable('rate_windows')
        .set((eb) => ({ count: eb('count', '-', 1) }))
        .where('tenant_id', '=', tenantId)
        .where('minute', '=', minute)
        .where('count', '>', 0)
        .execute();
    },
    async prune(tenantId, beforeMinute) {
      await db.deleteFrom('rate_windows').where('tenant_id', '=', tenantId).where('minute', '<', beforeMinute).execute();
    },
  };
}
