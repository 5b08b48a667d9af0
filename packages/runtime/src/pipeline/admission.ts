import { limitValues } from '@agentik/shared';
import { AppError } from '../lib/app-error.js';
import { limitAllows } from '../tenants/manager.js';
import type { PipelineContext } from './context.js';
import type { PipelineDeps } from './deps.js';

/**
 * The guard the orchestrator runs before the stages: the tenant's request rate, then one of its
 * concurrent model-call slots, held in `ctx.leases` until the run ends (the orchestrator releases
 * it). A refused run reaches no stage and leaves nothing to book or release.
 */
export async function admit(ctx: PipelineContext, deps: PipelineDeps): Promise<void> {
  const { tenant } = ctx.tenant;
  const limits = limitValues(tenant.plan, tenant.limitOverrides);
  const decision = await deps.rateLimiter.take(tenant.id, limits.requestsPerMinute);
  if (!decision.allowed) {
    throw new AppError('RATE_LIMITED', limitAllows(tenant, 'requestsPerMinute', 'requests per minute'), {
      'retry-after': String(decision.retryAfterSeconds),
    });
  }
  const lease = await deps.concurrency.acquire(tenant.id, limits.maxConcurrentCalls);
  if (!lease) throw concurrencyLimited(limitAllows(tenant, 'maxConcurrentCalls', 'model calls at once'));
  ctx.leases.push(lease);
}

/** 429 for a call over a concurrency limit: a slot is usually free again within a second. */
export function concurrencyLimited(message: string): AppError {
  return new AppError('RATE_LIMITED', message, { 'retry-after': '1' });
}
