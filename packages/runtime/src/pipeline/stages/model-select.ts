import { priceOf } from '../../cost/pricing.js';
import { need } from '../context.js';
import type { Stage } from './stage.js';

/** Stage 4: the provider (tenant credentials or platform default) and the model's price. */
export const modelSelect: Stage = async (ctx, deps) => {
  const agent = need(ctx.agent, 'agent');
  ctx.provider = await deps.providers.resolve(ctx.tenant, agent.provider);
  ctx.price = priceOf(deps.pricing, agent.provider, agent.model);
};
