import { priceOfCall } from '../../cost/pricing.js';
import { need } from '../context.js';
import type { Stage } from './stage.js';

/**
 * Stage 4: the provider (tenant credentials or platform default) and the call's price, which
 * depends on the endpoint too: the operator's paid endpoint is never priced at 0 by default.
 */
export const modelSelect: Stage = async (ctx, deps) => {
  const agent = need(ctx.agent, 'agent');
  const { provider, endpoint } = await deps.providers.resolve(ctx.tenant, agent.provider);
  ctx.provider = provider;
  ctx.price = priceOfCall(deps.pricing, { provider: agent.provider, model: agent.model, endpoint, platformOpenAiFree: deps.platformOpenAiFree });
};
