import type { Kysely } from 'kysely';
import type { TenantAuditRepository } from '../port.js';
import type { AuditRecord } from '../records.js';
import { toPage } from './paging.js';
import type { AuditTable, TenantDb } from './tables.js';

export function auditFromRow(r: AuditTable): AuditRecord {
  return {
    id: r.id,
    at: Number(r.at),
    actor: r.actor,
    action: r.action,
    target: r.target,
    details: JSON.parse(r.details) as Record<string, unknown>,
  };
}

/** A tenant's own audit log: appended inside the transaction of what it records, paged by id either way. */
export function createTenantAuditRepository(db: Kysely<TenantDb>): TenantAuditRepository {
  return {
    async append(e) {
      await db
        .insertInto('audit_events')
        .values({
          id: e.id,
          at: e.at,
          actor: e.actor,
          action: e.action,
          target: e.target,
          details: JSON.stringify(e.details),
        })
        .execute();
    },
    async list(page, order = 'asc') {
      let q = db.selectFrom('audit_events').selectAll().orderBy('id', order).limit(page.limit + 1);
      if (page.after !== undefined) q = q.where('id', order === 'asc' ? '>' : '<', page.after);
      return toPage(await q.execute(), page, auditFromRow);
    },
  };
}
