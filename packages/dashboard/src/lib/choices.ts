import type { LimitName, Plan, ProviderName, Role } from '@agentik/shared';

/** The plans a tenant can be on, in the order the tenant form offers them. */
export const PLANS = ['free', 'pro', 'enterprise'] as const satisfies readonly Plan[];

/** The roles a key can have, from the most to the least powerful. */
export const ROLES = ['owner', 'admin', 'member', 'viewer'] as const satisfies readonly Role[];

/** The providers an agent can use, in the order the agent form offers them. */
export const PROVIDERS = ['ollama', 'openai', 'openai-compatible', 'anthropic'] as const satisfies readonly ProviderName[];

/** The limits an operator can override per tenant, with the label the tenant page shows. */
export const LIMITS = [
  ['requestsPerMinute', 'Requests per minute'],
  ['maxConcurrentCalls', 'Concurrent model calls'],
  ['maxAgents', 'Agents'],
  ['maxKeys', 'API keys'],
] as const satisfies readonly (readonly [LimitName, string])[];
