import { Budget, BudgetBody } from '@agentik/shared';
import { getBudget, setBudget } from '../../cost/budget-service.js';
import { presentBudget } from '../present.js';
import { TENANT_ADMIN, TENANT_READ, ctxOf, type App } from '../types.js';

/** The caller's tenant's monthly budget: anyone may read it, admins set it. */
export async function budgetRoutes(app: App, deps: { now: () => number }) {
  app.get(
    '',
    { config: TENANT_READ, schema: { tags: ['costs'], response: { 200: Budget } } },
    async (request) => presentBudget(await getBudget(ctxOf(request), deps.now())),
  );

  app.put(
    '',
    { config: TENANT_ADMIN, schema: { tags: ['costs'], body: BudgetBody, response: { 200: Budget } } },
    async (request) => presentBudget(await setBudget(ctxOf(request), request.body, deps.now())),
  );
}
