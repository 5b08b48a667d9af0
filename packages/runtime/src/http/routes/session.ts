import { z } from 'zod';
import { ProviderName, Role, TenantStatus } from '@agentik/shared';
import type { Providers } from '../../providers/types.js';
import type { TenantManager } from '../../tenants/manager.js';
import { TENANT_READ, ctxOf, type App } from '../types.js';

/** `GET /api/session`: who the key is, so a client can follow its role without probing routes. */
export const SessionInfo = z.object({
  kind: z.enum(['operator', 'member']),
  /** The key's role; `operator` for the operator key. */
  role: z.union([Role, z.literal('operator')]),
  keyId: z.string(),
  /** The key's own tenant (member keys), whatever its status, so a client can say it is suspended. */
  tenant: z.object({ id: z.string(), slug: z.string(), name: z.string(), status: TenantStatus }).nullable(),
});

/** `GET /api/providers/available`: the providers an agent of this tenant can use. */
export const AvailableProviders = z.object({
  data: z.array(z.object({ name: ProviderName, source: z.enum(['platform', 'tenant']) })),
});

/**
 * Small routes the dashboard needs: the signed-in key's identity (any valid key, so a tenant key
 * no longer has to be told FORBIDDEN by an operator route to find out what it is) and the
 * providers configured on this server or by the tenant.
 */
export async function sessionRoutes(app: App, deps: { manager: TenantManager; providers: Pick<Providers, 'names'> }) {
  app.get(
    '/api/session',
    { config: { access: { scope: 'authenticated' } }, schema: { tags: ['keys'], response: { 200: SessionInfo } } },
    async (request) => {
      const principal = request.principal;
      if (!principal || principal.kind === 'operator') {
        return { kind: 'operator' as const, role: 'operator' as const, keyId: principal?.keyId ?? '', tenant: null };
      }
      const t = await deps.manager.getTenant(principal.tenantId);
      const tenant = t && t.deletedAt === null ? { id: t.id, slug: t.slug, name: t.name, status: t.status } : null;
      return { kind: 'member' as const, role: principal.role, keyId: principal.keyId, tenant };
    },
  );

  app.get(
    '/api/providers/available',
    { config: TENANT_READ, schema: { tags: ['providers'], response: { 200: AvailableProviders } } },
    async (request) => {
      const platform = deps.providers.names();
      const own = (await ctxOf(request).store.providerCredentials.list()).map((c) => c.provider as ProviderName);
      const data = [
        ...platform.map((name) => ({ name, source: 'platform' as const })),
        ...own.filter((name) => !platform.includes(name)).map((name) => ({ name, source: 'tenant' as const })),
      ];
      return { data };
    },
  );
}
