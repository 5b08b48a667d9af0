import { z } from 'zod';
import { budgetPeriod } from '../../cost/budget-service.js';
import type { TenantManager } from '../../tenants/manager.js';
import { idList } from './id-list.js';
import { OPERATOR, type App } from '../types.js';

/** `GET /api/tenant-usage?ids=t1,t2`: up to 100 tenant ids or slugs, comma-separated. */
export const TenantUsageQuery = z.strictObject({
  ids: idList(100),
});

export const TenantUsage = z.object({
  /** The budget month (UTC) the spend is of, e.g. `2026-12`. */
  period: z.string(),
  data: z.array(z.object({ id: z.string(), spentUsd: z.number(), liveKeys: z.number().int() })),
});

/**
 * Operators: spend of the month and live key count of each listed tenant, for the tenants table
 * (suspended tenants included; deleted and unknown ones are left out). The spend is the budget's
 * month total, the same figure the tenant's Costs page shows.
 */
export async function tenantUsageRoutes(app: App, deps: { manager: TenantManager; now: () => number }) {
  app.get(
    '/api/tenant-usage',
    { config: OPERATOR, schema: { tags: ['tenants'], querystring: TenantUsageQuery, response: { 200: TenantUsage } } },
    async (request) => {
      const period = budgetPeriod(deps.now());
      return { period, data: await deps.manager.usage(request.query.ids, period) };
    },
  );
}
