import { sql, type Kysely } from 'kysely';
import type { MasterDb } from '../kysely/tables.js';
import type { RateWindowCounts, RateWindowRepository } from '../port.js';

interface Waiter {
  resolve: (counts: RateWindowCounts) => void;
  reject: (error: unknown) => void;
}

/**
 * Per-minute request counters where the increments of one tenant and minute issued in the same
 * turn of the event loop become ONE upsert adding their number: every request of a tenant
 * updates the same row, so one statement per request queues them on its row lock, one round trip
 * and one lock wait after the other. The callers of a group get the counts they would have got
 * one after the other (the group's first sees the count before the group plus one, and so on),
 * so each still sees a distinct count and the limit holds exactly. Decrements and pruning are
 * those of `rows`.
 */
export function createGroupedRateWindows(db: Kysely<MasterDb>, rows: RateWindowRepository): RateWindowRepository {
  const pending = new Map<string, { tenantId: string; minute: number; waiters: Waiter[] }>();

  const flush = async (group: { tenantId: string; minute: number; waiters: Waiter[] }) => {
    const n = group.waiters.length;
    try {
      const { rows: result } = await sql<{ count: number; previous: number | null }>`
        INSERT INTO rate_windows (tenant_id, minute, count) VALUES (${group.tenantId}, ${group.minute}, ${n})
        ON CONFLICT (tenant_id, minute) DO UPDATE SET count = rate_windows.count + EXCLUDED.count
        RETURNING count, (SELECT p.count FROM rate_windows p WHERE p.tenant_id = ${group.tenantId} AND p.minute = ${group.minute - 1}) AS previous`.execute(db);
      const { count, previous } = result[0]!;
      group.waiters.forEach((w, i) => w.resolve({ current: Number(count) - n + 1 + i, previous: previous === null ? 0 : Number(previous) }));
    } catch (error) {
      for (const w of group.waiters) w.reject(error);
    }
  };

  return {
    increment(tenantId, minute) {
      return new Promise((resolve, reject) => {
        const key = `${tenantId} ${minute}`;
        let group = pending.get(key);
        if (!group) {
          group = { tenantId, minute, waiters: [] };
          pending.set(key, group);
          const g = group;
          setImmediate(() => {
            pending.delete(key);
            void flush(g);
          });
        }
        group.waiters.push({ resolve, reject });
      });
    },
    decrement: (tenantId, minute) => rows.decrement(tenantId, minute),
    prune: (tenantId, beforeMinute) => rows.prune(tenantId, beforeMinute),
  };
}
