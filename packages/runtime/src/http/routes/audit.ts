import { AuditList, AuditListQuery } from '@agentik/shared';
import { presentAudit, presentPage } from '../present.js';
import { TENANT_ADMIN, ctxOf, type App } from '../types.js';

/** The tenant's own audit log, paginated: oldest first, or newest first with `order=desc`. */
export async function auditRoutes(app: App) {
  app.get(
    '',
    { config: TENANT_ADMIN, schema: { tags: ['audit'], querystring: AuditListQuery, response: { 200: AuditList } } },
    async (request) => {
      const { cursor, limit, order } = request.query;
      return presentPage(await ctxOf(request).store.audit.list({ after: cursor, limit }, order), presentAudit);
    },
  );
}
