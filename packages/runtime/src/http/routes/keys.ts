import { z } from 'zod';
import { CreateKeyBody, CreatedKey, IdParams, KeyList, ListQuery, roleAtLeast } from '@agentik/shared';
import { AppError, notFound } from '../../lib/app-error.js';
import { actorOf, auditEntry, type TenantContext } from '../../tenants/context.js';
import type { TenantManager } from '../../tenants/manager.js';
import { presentCreatedKey, presentKey, presentPage } from '../present.js';
import { TENANT_ADMIN, ctxOf, type App } from '../types.js';

function auditInTenant(ctx: TenantContext, action: string, keyId: string, details: Record<string, unknown>) {
  return ctx.store.audit.append(auditEntry(ctx.principal, Date.now(), action, `key:${keyId}`, details));
}

/** The tenant's own keys: list, issue and revoke (owner/admin, never above the caller's role; the last owner key stays). */
export async function keyRoutes(app: App, deps: { manager: TenantManager }) {
  const { manager } = deps;

  app.get(
    '',
    { config: TENANT_ADMIN, schema: { tags: ['keys'], querystring: ListQuery, response: { 200: KeyList } } },
    async (request) => {
      const ctx = ctxOf(request);
      const page = await manager.listKeys(ctx.tenant.id, { after: request.query.cursor, limit: request.query.limit });
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
      const { record, secret } = await manager.createKey(
        ctx.tenant.id,
        request.body.role,
        request.body.name ?? null,
        actorOf(ctx.principal),
      );
      await auditInTenant(ctx, 'key.created', record.id, { role: record.role, name: record.name });
      return reply.code(201).send(presentCreatedKey({ record, secret }, request.body.role));
    },
  );

  app.delete(
    '/:id',
    { config: TENANT_ADMIN, schema: { tags: ['keys'], params: IdParams, response: { 204: z.null() } } },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const byRole = ctx.principal.kind === 'operator' ? undefined : ctx.role;
      if (!(await manager.revokeKey(request.params.id, ctx.tenant.id, actorOf(ctx.principal), byRole))) throw notFound('key');
      await auditInTenant(ctx, 'key.revoked', request.params.id, {});
      return reply.code(204).send(null);
    },
  );
}
