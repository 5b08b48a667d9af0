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

/** The limits an operator can override per tenant. */
export const LIMIT_NAMES = ['requestsPerMinute', 'maxAgents', 'maxKeys', 'maxConcurrentCalls'] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

/** A tenant's overrides of its plan's limits; a missing name takes the plan's value. */
export type LimitOverrides = Partial<Record<LimitName, number>>;

/** Where an effective limit comes from. */
export const LimitSource = z.enum(['plan', 'override']);
export type LimitSource = z.infer<typeof LimitSource>;

export const EffectiveLimit = z.object({ value: z.number().int(), source: LimitSource });
export type EffectiveLimit = z.infer<typeof EffectiveLimit>;

/** The limits a tenant runs under: each one its override, else its plan's. */
export const EffectiveLimits = z.object({
  maxAgents: EffectiveLimit,
  maxKeys: EffectiveLimit,
  requestsPerMinute: EffectiveLimit,
  maxConcurrentCalls: EffectiveLimit,
});
export type EffectiveLimits = z.infer<typeof EffectiveLimits>;

/** The value of each limit for a plan and a tenant's overrides. */
export function limitValues(plan: Plan, overrides: LimitOverrides = {}): PlanLimits {
  const base = PLAN_LIMITS[plan];
  return {
    maxAgents: overrides.maxAgents ?? base.maxAgents,
    maxKeys: overrides.maxKeys ?? base.maxKeys,
    requestsPerMinute: overrides.requestsPerMinute ?? base.requestsPerMinute,
    maxConcurrentCalls: overrides.maxConcurrentCalls ?? base.maxConcurrentCalls,
  };
}

/** The effective limits with their source, as the API shows them. */
export function effectiveLimits(plan: Plan, overrides: LimitOverrides = {}): EffectiveLimits {
  const values = limitValues(plan, overrides);
  const one = (name: LimitName): EffectiveLimit => ({
    value: values[name],
    source: overrides[name] === undefined ? 'plan' : 'override',
  });
  return {
    maxAgents: one('maxAgents'),
    maxKeys: one('maxKeys'),
    requestsPerMinute: one('requestsPerMinute'),
    maxConcurrentCalls: one('maxConcurrentCalls'),
  };
}

/** The largest value an override may take. */
export const MAX_LIMIT_OVERRIDE = 1_000_000_000;

/** One override in a request: a positive whole number, or null to go back to the plan's value. */
const LimitOverride = z.number().int().min(1).max(MAX_LIMIT_OVERRIDE).nullable().optional();

/** `PATCH /api/tenants/:id` (operator only). */
export const UpdateTenantBody = z.strictObject({
  plan: Plan.optional(),
  limits: z
    .strictObject({
      requestsPerMinute: LimitOverride,
      maxAgents: LimitOverride,
      maxKeys: LimitOverride,
      maxConcurrentCalls: LimitOverride,
    })
    .optional(),
});
export type UpdateTenantBody = z.input<typeof UpdateTenantBody>;

/** A tenant as the API shows it. */
export const Tenant = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  /** The owner's handle (an email address or user name). */
  owner: z.string(),
  plan: Plan,
  /** The limits the tenant runs under, each with its source (the plan, or an operator's override). */
  limits: EffectiveLimits,
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
