import { PLAN_LIMITS } from '@agentik/shared';
import { AppError } from '../../lib/app-error.js';
import type { Stage } from './stage.js';

/** Stage 1: enforce the plan's request rate, then clean the user's text (NFC, no blank turns). */
export const normalize: Stage = async (ctx, deps) => {
  const { tenant } = ctx.tenant;
  const decision = await deps.rateLimiter.take(tenant.id, PLAN_LIMITS[tenant.plan].requestsPerMinute);
  if (!decision.allowed) {
    throw new AppError('RATE_LIMITED', `the ${tenant.plan} plan allows ${PLAN_LIMITS[tenant.plan].requestsPerMinute} requests per minute`, {
      'retry-after': String(decision.retryAfterSeconds),
    });
  }
  const content = ctx.input.content.normalize('NFC');
  if (content.trim() === '') throw new AppError('VALIDATION_FAILED', 'content: must not be empty');
  ctx.content = content;
};
