import { priceOfCall } from '../../cost/pricing.js';
import { need } from '../context.js';
import { concurrencyLimited } from '../admission.js';
import type { Stage } from './stage.js';

/**
 * Stage 4: the provider (tenant credentials or platform default) and the call's price, which
 * depends on the endpoint too: the operator's paid endpoint is never priced at 0 by default.
 * The tenant takes one slot of its share of that provider's upstream sockets, so a busy tenant
 * cannot occupy the pool every other tenant's calls to the same server go through.
 */
export const modelSelect: Stage = async (ctx, deps) => {
  const agent = need(ctx.agent, 'agent');
  const own = (await ctx.reads.credentials).find((c) => c.provider === agent.provider);
  const { provider, endpoint } = deps.providers.resolve(ctx.tenant, agent.provider, own);
  if (provider.origin !== undefined) {
    const { limiter, perTenant } = deps.upstreamShare;
    const lease = await limiter.acquire(`${ctx.tenant.tenant.id} ${provider.origin}`, perTenant);
    if (!lease) throw concurrencyLimited(`a tenant may hold ${perTenant} connections to one provider server at once`);
    ctx.leases.push(lease);
  }
  ctx.provider = provider;
  ctx.price = priceOfCall(deps.pricing, { provider: agent.provider, model: agent.model, endpoint, platformOpenAiFree: deps.platformOpenAiFree });
};
