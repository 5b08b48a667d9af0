import { z } from 'zod';
import { IsoDate, listOf, text } from './common.js';

/** Roles inside one tenant, strongest first. */
export const Role = z.enum(['owner', 'admin', 'member', 'viewer']);
export type Role = z.infer<typeof Role>;

const RANK: Record<Role, number> = { owner: 4, admin: 3, member: 2, viewer: 1 };

/** True when `role` is at least as strong as `needed`. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/** `POST /api/tenants/:id/keys` and `POST /api/keys` */
export const CreateKeyBody = z.strictObject({
  role: Role,
  name: text(100).min(1).optional(),
});
export type CreateKeyBody = z.input<typeof CreateKeyBody>;

/** The answer to a key creation: the only time the secret is shown. */
export const CreatedKey = z.object({
  id: z.string(),
  key: z.string(),
  role: Role,
  name: z.string().nullable(),
  createdAt: IsoDate,
});
export type CreatedKey = z.infer<typeof CreatedKey>;

/** A key as listed: never the secret, only its first characters. */
export const KeySummary = z.object({
  id: z.string(),
  name: z.string().nullable(),
  role: Role,
  prefix: z.string(),
  createdAt: IsoDate,
  lastUsedAt: IsoDate.nullable(),
  revokedAt: IsoDate.nullable(),
});
export type KeySummary = z.infer<typeof KeySummary>;

export const KeyList = listOf(KeySummary);
export type KeyList = z.infer<typeof KeyList>;
