import { z } from 'zod';
import { budgetPeriod } from '../../cost/budget-service.js';
import type { MasterStore } from '../../storage/port.js';
import type { TenantManager } from '../../tenants/manager.js';
import type { TenantPool } from '../../tenants/pool.js';
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
export async function tenantUsageRoutes(app: App, deps: { manager: TenantManager; pool: TenantPool; master: MasterStore; now: () => number }) {
  app.get(
    '/api/tenant-usage',
    { config: OPERATOR, schema: { tags: ['tenants'], querystring: TenantUsageQuery, response: { 200: TenantUsage } } },
    async (request) => {
      const period = budgetPeriod(deps.now());
      const data: z.infer<typeof TenantUsage>['data'] = [];
      for (const ref of request.query.ids) {
        const tenant = await deps.manager.getTenant(ref);
        if (!tenant || tenant.status === 'deleted' || tenant.deletedAt !== null) continue;
        const lease = await deps.pool.acquire(tenant.id);
        let spentUsd: number;
        try {
          spentUsd = (await lease.store.budget.get(period)).spentUsd;
        } finally {
          lease.release();
        }
        data.push({ id: tenant.id, spentUsd, liveKeys: await deps.master.keys.countLive(tenant.id) });
      }
      return { period, data };
    },
  );
}
