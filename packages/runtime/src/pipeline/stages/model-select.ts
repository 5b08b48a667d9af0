import { priceOf } from '../../cost/pricing.js';
import { need } from '../context.js';
import type { Stage } from './stage.js';

/** Stage 4: the provider (tenant credentials or platform default), the model, its price, the output bound. */
export const modelSelect: Stage = async (ctx, deps) => {
  const agent = need(ctx.agent, 'agent');
  ctx.provider = await deps.providers.resolve(ctx.tenant, agent.provider);
  ctx.price = priceOf(deps.pricing, agent.provider, agent.model);
  ctx.maxTokens = agent.maxTokens ?? deps.defaultMaxTokens;
};
