import { effectiveLimits, type Agent, type AuditEvent, type CreatedKey, type KeySummary, type Role, type Tenant } from '@agentik/shared';
import { remainingUsd } from '../cost/budget-rules.js';
import type { IssuedKey } from '../tenants/manager.js';
import type { AgentRecord, ApiKeyRecord, AuditRecord, BudgetRecord, Page, TenantRecord } from '../storage/records.js';

/** Renders records as the API shows them: ISO dates, no secrets. */

export const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export function presentTenant(t: TenantRecord): Tenant {
  return {
    id: t.id,
    slug: t.slug,
    name: t.name,
    owner: t.owner,
    plan: t.plan,
    limits: effectiveLimits(t.plan, t.limitOverrides),
    status: t.status,
    createdAt: iso(t.createdAt),
    deletedAt: isoOrNull(t.deletedAt),
  };
}

export function presentKey(k: ApiKeyRecord): KeySummary {
  return {
    id: k.id,
    name: k.name,
    role: k.role as Role,
    prefix: k.prefix,
    createdAt: iso(k.createdAt),
    lastUsedAt: isoOrNull(k.lastUsedAt),
    revokedAt: isoOrNull(k.revokedAt),
  };
}

/** A key as created: the one answer that carries the secret. */
export function presentCreatedKey(issued: IssuedKey, role: Role): CreatedKey {
  const { record, secret } = issued;
  return { id: record.id, key: secret, role, name: record.name, createdAt: iso(record.createdAt) };
}

export function presentAgent(a: AgentRecord): Agent {
  return {
    id: a.id,
    name: a.name,
    description: a.description,
    systemPrompt: a.systemPrompt,
    provider: a.provider,
    model: a.model,
    temperature: a.temperature,
    maxTokens: a.maxTokens,
    tools: a.tools,
    contextTokens: a.contextTokens,
    createdAt: iso(a.createdAt),
    updatedAt: iso(a.updatedAt),
  };
}

export function presentAudit(e: AuditRecord): AuditEvent {
  return { id: e.id, at: iso(e.at), actor: e.actor, action: e.action, target: e.target, details: e.details };
}

export function presentPage<R, T>(page: Page<R>, map: (r: R) => T): { data: T[]; nextCursor: string | null } {
  return { data: page.items.map(map), nextCursor: page.nextCursor };
}

/** The budget as the API shows it. */
export function presentBudget(b: BudgetRecord) {
  return {
    monthlyLimitUsd: b.monthlyLimitUsd,
    hard: b.hard,
    thresholds: b.thresholds,
    period: b.period,
    spentUsd: b.spentUsd,
    reservedUsd: b.reservedUsd,
    remainingUsd: remainingUsd(b.monthlyLimitUsd ?? undefined, b.spentUsd, b.reservedUsd) ?? null,
  };
}
