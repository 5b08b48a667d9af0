import { AuditList, ListQuery } from '@agentik/shared';
import { presentAudit, presentPage } from '../present.js';
import { TENANT_ADMIN, ctxOf, type App } from '../types.js';

/** The tenant's own audit log, oldest first, paginated. */
export async function auditRoutes(app: App) {
  app.get(
    '',
    { config: TENANT_ADMIN, schema: { tags: ['audit'], querystring: ListQuery, response: { 200: AuditList } } },
    async (request) => {
      const page = await ctxOf(request).store.audit.list({ after: request.query.cursor, limit: request.query.limit });
      return presentPage(page, presentAudit);
    },
  );
}
