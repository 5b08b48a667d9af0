import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Principal, TenantContext } from '../tenants/context.js';
import type { RouteAccess } from '../tenants/isolator.js';

/** The Fastify instance type of this app, with zod schemas as the type provider. */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the isolator on every authenticated request. */
    principal: Principal | null;
    /** Set by the isolator on tenant routes. */
    tenantContext: TenantContext | null;
  }
  interface FastifyContextConfig {
    /** Who may call the route; see {@link RouteAccess}. */
    access?: RouteAccess;
  }
}

/** The tenant context of a tenant route; the isolator guarantees it is there. */
export function ctxOf(request: { tenantContext: TenantContext | null }): TenantContext {
  if (!request.tenantContext) throw new Error('tenant route without tenant context');
  return request.tenantContext;
}

export const OPERATOR: { access: RouteAccess } = { access: { scope: 'operator' } };
export const TENANT_READ: { access: RouteAccess } = { access: { scope: 'tenant', minRole: 'viewer' } };
export const TENANT_WRITE: { access: RouteAccess } = { access: { scope: 'tenant', minRole: 'member' } };
export const TENANT_ADMIN: { access: RouteAccess } = { access: { scope: 'tenant', minRole: 'admin' } };
