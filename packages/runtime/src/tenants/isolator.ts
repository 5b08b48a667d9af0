import { roleAtLeast, type Role } from '@agentik/shared';
import { AppError } from '../lib/app-error.js';
import type { Log } from '../lib/log.js';
import type { MasterStore } from '../storage/port.js';
import type { ApiKeyRecord, TenantRecord } from '../storage/records.js';
import { bearerToken, hashApiKey } from './api-keys.js';
import type { Principal, TenantContext } from './context.js';
import type { TenantManager } from './manager.js';
import type { TenantPool } from './pool.js';
import { TenantScope } from './scope.js';

/**
 * Who may call a route: anyone (`public`), the operator only (`operator`), any valid key
 * (`authenticated`), or a caller acting inside one tenant (`tenant`), optionally with a least role.
 */
export interface RouteAccess {
  scope: 'public' | 'authenticated' | 'operator' | 'tenant';
  /** For tenant routes: the weakest role allowed (default viewer). */
  minRole?: Role;
}

/**
 * The parts of a request the isolator reads and writes. Kept structural so that this module does
 * not depend on the HTTP framework; a Fastify request satisfies it.
 */
export interface IsolatedRequest {
  headers: Record<string, string | string[] | undefined>;
  routeOptions: { config: unknown };
  principal: Principal | null;
  tenantContext: TenantContext | null;
}

/** The response side: the tenant scope learns from it when the response closes. */
export interface IsolatedReply {
  raw: { once(event: 'close', listener: () => void): unknown };
}

export interface IsolatorDeps {
  master: MasterStore;
  manager: TenantManager;
  pool: TenantPool;
  log: Log;
  now?: () => number;
  /** How often at most a key's last-used time is written (ms). */
  touchIntervalMs?: number;
}

const TENANT_NOT_FOUND = () => new AppError('TENANT_NOT_FOUND', 'tenant not found or not accessible with this key');

export function accessOf(config: unknown): RouteAccess {
  const access = (config as { access?: RouteAccess } | null)?.access;
  // Routes that declare nothing (404s, framework routes) are public: they touch no data.
  return access ?? { scope: 'public' };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * Builds the `onRequest` hook that turns a request into a principal and, for tenant routes, a
 * tenant context. A key naming another tenant, an unknown, suspended or deleted tenant, and a
 * malformed tenant reference all get the same TENANT_NOT_FOUND, so answers reveal nothing about
 * which tenants exist. The route then runs inside the tenant context, whose store is the only way
 * to tenant data.
 */
export function createIsolator(deps: IsolatorDeps) {
  const now = deps.now ?? Date.now;
  const touchInterval = deps.touchIntervalMs ?? 60_000;
  const lastTouch = new Map<string, number>();

  const touch = (key: ApiKeyRecord) => {
    const at = now();
    const last = lastTouch.get(key.id) ?? key.lastUsedAt ?? 0;
    if (at - last < touchInterval) return;
    lastTouch.set(key.id, at);
    if (lastTouch.size > 100_000) lastTouch.clear();
    deps.master.keys.touch(key.id, at).catch((error: unknown) => {
      deps.log.warn({ err: error, keyId: key.id }, 'could not record key use');
    });
  };

  const authenticate = async (request: IsolatedRequest): Promise<{ principal: Principal; key: ApiKeyRecord }> => {
    const secret = bearerToken(request.headers.authorization);
    if (!secret) throw new AppError('UNAUTHENTICATED', 'missing or malformed Authorization: Bearer <key> header');
    const key = await deps.master.keys.findByHash(hashApiKey(secret));
    if (!key || key.revokedAt !== null) throw new AppError('UNAUTHENTICATED', 'unknown or revoked API key');
    touch(key);
    const principal: Principal =
      key.role === 'operator' || key.tenantId === null
        ? { kind: 'operator', keyId: key.id }
        : { kind: 'member', keyId: key.id, tenantId: key.tenantId, role: key.role, userId: key.userId };
    return { principal, key };
  };

  const resolveTenant = async (principal: Principal, ref: string | undefined): Promise<TenantRecord> => {
    if (principal.kind === 'operator') {
      if (ref === undefined || ref === '') {
        throw new AppError('TENANT_REQUIRED', 'operator keys must name a tenant with the X-Tenant-ID header');
      }
      const tenant = await deps.manager.getActiveTenant(ref);
      if (!tenant) throw TENANT_NOT_FOUND();
      return tenant;
    }
    const tenant = await deps.manager.getActiveTenant(principal.tenantId);
    if (!tenant) throw TENANT_NOT_FOUND();
    if (ref !== undefined && ref !== tenant.id && ref !== tenant.slug) throw TENANT_NOT_FOUND();
    if (principal.userId !== null && !(await deps.master.memberships.isMember(principal.userId, tenant.id))) {
      throw TENANT_NOT_FOUND();
    }
    return tenant;
  };

  const isolate = async (request: IsolatedRequest, reply: IsolatedReply): Promise<void> => {
    request.principal = null;
    request.tenantContext = null;
    const access = accessOf(request.routeOptions.config);
    if (access.scope === 'public') return;
    const { principal } = await authenticate(request);
    request.principal = principal;
    if (access.scope === 'authenticated') return;
    if (access.scope === 'operator') {
      if (principal.kind !== 'operator') throw new AppError('FORBIDDEN', 'this route needs an operator key');
      return;
    }
    const tenant = await resolveTenant(principal, headerValue(request.headers['x-tenant-id']));
    const role: Role = principal.kind === 'operator' ? 'owner' : principal.role;
    if (!roleAtLeast(role, access.minRole ?? 'viewer')) {
      throw new AppError('FORBIDDEN', `this needs the ${access.minRole} role or stronger`);
    }
    const scope = new TenantScope(tenant, principal, role, await deps.pool.acquire(tenant.id));
    reply.raw.once('close', () => scope.responseClosed());
    request.tenantContext = scope;
  };

  return {
    /** The `onRequest` hook; handlers read the context from `request.tenantContext`. */
    onRequest(request: IsolatedRequest, reply: IsolatedReply, done: (error?: Error) => void): void {
      isolate(request, reply).then(
        () => done(),
        (error: unknown) => done(error as Error),
      );
    },
    /**
     * Wraps the handler of a tenant route so that the request's tenant scope holds its store until
     * the handler has finished as well as the response.
     */
    scopedHandler<S, R extends { tenantContext: TenantContext | null }, A extends unknown[], T>(
      handler: (this: S, request: R, ...rest: A) => T,
    ): (this: S, request: R, ...rest: A) => Promise<Awaited<T>> {
      return function (this: S, request: R, ...rest: A) {
        const scope = request.tenantContext as TenantScope;
        return scope.runHandler(() => handler.call(this, request, ...rest)) as Promise<Awaited<T>>;
      };
    },
    /** For the `onSend` hook: a reply sent before a tenant route's handler ran means it will not run. */
    replying(request: { tenantContext: TenantContext | null }): void {
      if (request.tenantContext instanceof TenantScope) request.tenantContext.replying();
    },
  };
}
