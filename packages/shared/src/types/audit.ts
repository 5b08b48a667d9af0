import { z } from 'zod';
import { IsoDate, ListQuery, listOf } from './common.js';

/** One audit entry. It names who did what to which resource; it never holds a secret. */
export const AuditEvent = z.object({
  id: z.string(),
  at: IsoDate,
  /** `operator`, `key:<keyId>` or `cli`. */
  actor: z.string(),
  /** Dotted verb, e.g. `agent.created`, `key.revoked`. */
  action: z.string(),
  /** `<kind>:<id>` of the resource acted on, when there is one. */
  target: z.string().nullable(),
  /** Small, non-secret details. */
  details: z.record(z.string(), z.unknown()),
});
export type AuditEvent = z.infer<typeof AuditEvent>;

export const AuditList = listOf(AuditEvent);
export type AuditList = z.infer<typeof AuditList>;

/** `GET /api/audit`: a list page, oldest first (`asc`, the default) or newest first (`desc`); the cursor continues in the same order. */
export const AuditListQuery = ListQuery.extend({ order: z.enum(['asc', 'desc']).default('asc') });
export type AuditListQuery = z.infer<typeof AuditListQuery>;
