import type { CallEndpoint, PricingTable } from '../cost/pricing.js';
import type { ConcurrencyLimiter } from '../limits/concurrency-limiter.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { Log } from '../lib/log.js';
import type { ProviderName } from '@agentik/shared';
import type { LlmProvider } from '../providers/types.js';
import type { TenantContext } from '../tenants/context.js';
import type { ProviderCredentialRecord } from '../storage/records.js';
import type { ModelUsage } from '../observability/metrics.js';

/** A provider ready for one call, and whose endpoint it calls (which decides its price). */
export interface ResolvedProvider {
  provider: LlmProvider;
  /** `platform`: the operator's configured endpoint; `tenant`: a base URL the tenant set itself. */
  endpoint: CallEndpoint;
}

/** Finds the provider to use for a tenant: its own credentials if it set some, else the platform's. */
export interface ProviderResolver {
  /** `own`: the tenant's stored credentials for `name`, if it has any. */
  resolve(tenant: TenantContext, name: ProviderName, own: ProviderCredentialRecord | undefined): ResolvedProvider;
}

/** A budget threshold crossing, for the operator's webhook. */
export interface BudgetNotice {
  tenantId: string;
  tenantSlug: string;
  thresholdPct: number;
  spentUsd: number;
  limitUsd: number;
  period: string;
  at: string;
}

/** Where threshold crossings go besides the audit log (an operator webhook). */
export interface BudgetNotifier {
  notify(notice: BudgetNotice): void;
}

/** Everything the stages need from outside. */
export interface PipelineDeps {
  providers: ProviderResolver;
  pricing: PricingTable;
  /** The operator declared its OpenAI-compatible endpoint free (AGENTIK_OPENAI_FREE=true). */
  platformOpenAiFree: boolean;
  rateLimiter: RateLimiter;
  /** Model calls in flight per tenant (shared by replicas when Redis is set). */
  concurrency: ConcurrencyLimiter;
  /** A tenant's share of each upstream origin's sockets in this process. */
  upstreamShare: { limiter: ConcurrencyLimiter; perTenant: number };
  notifier: BudgetNotifier;
  log: Log;
  now: () => number;
  observeStage: (stage: string, seconds: number) => void;
  /** Counts a booked model call into the cost and token metrics. */
  recordUsage: (usage: ModelUsage) => void;
  /** Output bound when an agent sets none. */
  defaultMaxTokens: number;
  /** Context budget when an agent sets none. */
  defaultContextTokens: number;
  /** Most model calls one message may take in the tool loop. */
  maxToolIterations: number;
  /** Longest one tool call may run (ms). */
  toolTimeoutMs: number;
}
