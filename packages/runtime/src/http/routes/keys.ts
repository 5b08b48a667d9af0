import { z } from 'zod';
import { CreateKeyBody, CreatedKey, IdParams, KeyList, ListQuery, roleAtLeast } from '@agentik/shared';
import { AppError, notFound } from '../../lib/app-error.js';
import type { KeyService } from '../../tenants/key-service.js';
import { presentCreatedKey, presentKey, presentPage } from '../present.js';
import { TENANT_ADMIN, ctxOf, type App } from '../types.js';

/** The tenant's own keys: list, issue and revoke (owner/admin, never above the caller's role; the last owner key stays). */
export async function keyRoutes(app: App, deps: { keys: KeyService }) {
  const { keys } = deps;

  app.get(
    '',
    { config: TENANT_ADMIN, schema: { tags: ['keys'], querystring: ListQuery, response: { 200: KeyList } } },
    async (request) => {
      const ctx = ctxOf(request);
      const page = await keys.list(ctx.tenant.id, { after: request.query.cursor, limit: request.query.limit });
      return presentPage(page, presentKey);
    },
  );

  app.post(
    '',
    { config: TENANT_ADMIN, schema: { tags: ['keys'], body: CreateKeyBody, response: { 201: CreatedKey } } },
    async (request, reply) => {
      const ctx = ctxOf(request);
      if (!roleAtLeast(ctx.role, request.body.role)) {
        throw new AppError('FORBIDDEN', `a ${ctx.role} cannot issue a ${request.body.role} key`);
      }
      const issued = await keys.issue(ctx.tenant.id, request.body.role, request.body.name ?? null, ctx.principal, ctx.store);
      return reply.code(201).send(presentCreatedKey(issued, request.body.role));
    },
  );

  app.delete(
    '/:id',
    { config: TENANT_ADMIN, schema: { tags: ['keys'], params: IdParams, response: { 204: z.null() } } },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const byRole = ctx.principal.kind === 'operator' ? undefined : ctx.role;
      if (!(await keys.revoke(request.params.id, ctx.tenant.id, ctx.principal, byRole, ctx.store))) throw notFound('key');
      return reply.code(204).send(null);
    },
  );
}
