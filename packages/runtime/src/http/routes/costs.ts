import { Budget, BudgetBody, CostEventList, CostEventsQuery, CostSummary, CostSummaryQuery } from '@agentik/shared';
import { getBudget, parseRange, presentBudget, setBudget } from '../../cost/budget-service.js';
import type { CostEventRecord } from '../../storage/records.js';
import { iso, presentPage } from '../present.js';
import { TENANT_ADMIN, TENANT_READ, ctxOf, type App } from '../types.js';


function presentCostEvent(e: CostEventRecord) {
  return { ...e, createdAt: iso(e.createdAt) };
}

/** Spend of the caller's tenant (summary, events) and its budget. */
export function costRoutes(app: App) {
  app.get(
    '/api/costs/summary',
    { config: TENANT_READ, schema: { tags: ['costs'], querystring: CostSummaryQuery, response: { 200: CostSummary } } },
    async (request) => {
      const range = parseRange(request.query.from, request.query.to, Date.now());
      const summary = await ctxOf(request).store.costs.summary(range, request.query.groupBy);
      return { from: iso(range.from), to: iso(range.to), ...summary };
    },
  );

  app.get(
    '/api/costs/events',
    { config: TENANT_READ, schema: { tags: ['costs'], querystring: CostEventsQuery, response: { 200: CostEventList } } },
    async (request) => {
      const { from, to, cursor, limit } = request.query;
      const page = await ctxOf(request).store.costs.list({ after: cursor, limit }, parseRange(from, to, Date.now()));
      return presentPage(page, presentCostEvent);
    },
  );

  app.get(
    '/api/budget',
    { config: TENANT_READ, schema: { tags: ['costs'], response: { 200: Budget } } },
    async (request) => presentBudget(await getBudget(ctxOf(request))),
  );

  app.put(
    '/api/budget',
    { config: TENANT_ADMIN, schema: { tags: ['costs'], body: BudgetBody, response: { 200: Budget } } },
    async (request) => presentBudget(await setBudget(ctxOf(request), request.body)),
  );
}
