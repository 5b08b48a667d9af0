import { z } from 'zod';
import { SLUG_REGEX } from '../ids.js';
import { IsoDate, listOf, text } from './common.js';

/** The plans a tenant can be on. */
export const Plan = z.enum(['free', 'pro', 'enterprise']);
export type Plan = z.infer<typeof Plan>;

/** What each plan allows. */
export interface PlanLimits {
  /** Most agents the tenant may have at once. */
  maxAgents: number;
  /** Most API keys the tenant may have at once (revoked keys do not count). */
  maxKeys: number;
  /** Requests per minute to the model endpoints. */
  requestsPerMinute: number;
  /** Model calls (messages, chat completions) in flight at once; more get 429 RATE_LIMITED. */
  maxConcurrentCalls: number;
}

export const PLAN_LIMITS: Readonly<Record<Plan, PlanLimits>> = {
  free: { maxAgents: 10, maxKeys: 10, requestsPerMinute: 60, maxConcurrentCalls: 4 },
  pro: { maxAgents: 100, maxKeys: 100, requestsPerMinute: 600, maxConcurrentCalls: 16 },
  enterprise: { maxAgents: 10_000, maxKeys: 1_000, requestsPerMinute: 60_000, maxConcurrentCalls: 64 },
};

export const TenantStatus = z.enum(['active', 'suspended', 'deleted']);
export type TenantStatus = z.infer<typeof TenantStatus>;

export const PlanLimitsSchema = z.object({
  maxAgents: z.number().int(),
  maxKeys: z.number().int(),
  requestsPerMinute: z.number().int(),
  maxConcurrentCalls: z.number().int(),
});

/** A tenant as the API shows it. */
export const Tenant = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  /** The owner's handle (an email address or user name). */
  owner: z.string(),
  plan: Plan,
  limits: PlanLimitsSchema,
  status: TenantStatus,
  createdAt: IsoDate,
  deletedAt: IsoDate.nullable(),
});
export type Tenant = z.infer<typeof Tenant>;

export const Slug = z
  .string()
  .min(1)
  .max(63)
  .regex(SLUG_REGEX, 'lowercase letters, digits and inner hyphens, at most 63 characters');

/** `POST /api/tenants` */
export const CreateTenantBody = z.strictObject({
  name: text(200).min(1),
  slug: Slug.optional(),
  owner: text(320).min(1),
  plan: Plan.default('free'),
});
export type CreateTenantBody = z.input<typeof CreateTenantBody>;

export const TenantList = listOf(Tenant);
export type TenantList = z.infer<typeof TenantList>;

export const TenantListQuery = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  status: TenantStatus.optional(),
});
