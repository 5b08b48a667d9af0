import { z } from 'zod';
import { CreateKeyBody, CreateTenantBody, CreatedKey, IdParams, Tenant, TenantList, TenantListQuery, UpdateTenantBody } from '@agentik/shared';
import { AppError } from '../../lib/app-error.js';
import { actorOf } from '../../tenants/context.js';
import type { KeyService } from '../../tenants/key-service.js';
import type { TenantManager } from '../../tenants/manager.js';
import { presentCreatedKey, presentPage, presentTenant } from '../present.js';
import { OPERATOR, type App } from '../types.js';

/** Operator routes: the tenant lifecycle and keys for a tenant. */
export async function tenantRoutes(app: App, deps: { manager: TenantManager; keys: KeyService }) {
  const { manager, keys } = deps;
  const actor = (request: { principal: Parameters<typeof actorOf>[0] | null }) =>
    request.principal ? actorOf(request.principal) : 'unknown';
  const found = async (id: string) => {
    const tenant = await manager.getTenant(id);
    if (!tenant) throw new AppError('TENANT_NOT_FOUND', 'tenant not found');
    return tenant;
  };

  app.post(
    '',
    { config: OPERATOR, schema: { tags: ['tenants'], body: CreateTenantBody, response: { 201: Tenant } } },
    async (request, reply) => {
      const tenant = await manager.createTenant(request.body, actor(request));
      return reply.code(201).send(presentTenant(tenant));
    },
  );

  app.get(
    '',
    { config: OPERATOR, schema: { tags: ['tenants'], querystring: TenantListQuery, response: { 200: TenantList } } },
    async (request) => {
      const { cursor, limit, status } = request.query;
      const page = await manager.listTenants({ after: cursor, limit }, status);
      return presentPage(page, presentTenant);
    },
  );

  app.get(
    '/:id',
    { config: OPERATOR, schema: { tags: ['tenants'], params: IdParams, response: { 200: Tenant } } },
    async (request) => presentTenant(await found(request.params.id)),
  );

  app.patch(
    '/:id',
    { config: OPERATOR, schema: { tags: ['tenants'], params: IdParams, body: UpdateTenantBody, response: { 200: Tenant } } },
    async (request) => {
      const tenant = await found(request.params.id);
      return presentTenant(await manager.updateTenant(tenant.id, request.body, actor(request)));
    },
  );

  app.delete(
    '/:id',
    { config: OPERATOR, schema: { tags: ['tenants'], params: IdParams, response: { 204: z.null() } } },
    async (request, reply) => {
      const tenant = await found(request.params.id);
      if (!(await manager.deleteTenant(tenant.id, actor(request)))) {
        throw new AppError('TENANT_NOT_FOUND', 'tenant not found');
      }
      return reply.code(204).send(null);
    },
  );

  for (const verb of ['suspend', 'resume'] as const) {
    app.post(
      `/:id/${verb}`,
      { config: OPERATOR, schema: { tags: ['tenants'], params: IdParams, response: { 200: Tenant } } },
      async (request) => {
        const tenant = await found(request.params.id);
        const changed =
          verb === 'suspend'
            ? await manager.suspendTenant(tenant.id, actor(request))
            : await manager.resumeTenant(tenant.id, actor(request));
        return presentTenant(changed);
      },
    );
  }

  app.post(
    '/:id/keys',
    {
      config: OPERATOR,
      schema: { tags: ['tenants'], params: IdParams, body: CreateKeyBody, response: { 201: CreatedKey } },
    },
    async (request, reply) => {
      const tenant = await found(request.params.id);
      const issued = await keys.issue(tenant.id, request.body.role, request.body.name ?? null, request.principal!);
      return reply.code(201).send(presentCreatedKey(issued, request.body.role));
    },
  );
}
