import { limitValues } from '@agentik/shared';
import { AppError } from '../../lib/app-error.js';
import { limitAllows } from '../../tenants/manager.js';
import type { Stage } from './stage.js';

/**
 * Stage 1: enforce the tenant's request rate and concurrent calls (the slot is held until the run
 * ends), then clean the user's text (NFC, no blank turns).
 */
export const normalize: Stage = async (ctx, deps) => {
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
  const content = ctx.input.content.normalize('NFC');
  if (content.trim() === '') throw new AppError('VALIDATION_FAILED', 'content: must not be empty');
  ctx.content = content;
};

/** 429 for a call over a concurrency limit: a slot is usually free again within a second. */
export function concurrencyLimited(message: string): AppError {
  return new AppError('RATE_LIMITED', message, { 'retry-after': '1' });
}
