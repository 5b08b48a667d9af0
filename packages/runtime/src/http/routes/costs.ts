import { CostEventList, CostEventsQuery, CostSummary, CostSummaryQuery } from '@agentik/shared';
import { parseRange } from '../query-range.js';
import type { CostEventRecord } from '../../storage/records.js';
import { iso, presentPage } from '../present.js';
import { TENANT_READ, ctxOf, type App } from '../types.js';

function presentCostEvent(e: CostEventRecord) {
  return { ...e, createdAt: iso(e.createdAt) };
}

/** Spend of the caller's tenant: a summary, and the cost events. */
export async function costRoutes(app: App, deps: { now: () => number }) {
  app.get(
    '/summary',
    { config: TENANT_READ, schema: { tags: ['costs'], querystring: CostSummaryQuery, response: { 200: CostSummary } } },
    async (request) => {
      const range = parseRange(request.query.from, request.query.to, deps.now());
      const summary = await ctxOf(request).store.costs.summary(range, request.query.groupBy);
      return { from: iso(range.from), to: iso(range.to), ...summary };
    },
  );

  app.get(
    '/events',
    { config: TENANT_READ, schema: { tags: ['costs'], querystring: CostEventsQuery, response: { 200: CostEventList } } },
    async (request) => {
      const { from, to, cursor, limit } = request.query;
      const page = await ctxOf(request).store.costs.list({ after: cursor, limit }, parseRange(from, to, deps.now()));
      return presentPage(page, presentCostEvent);
    },
  );
}
