import { z } from 'zod';
import { ProviderCredential, ProviderCredentialBody, ProviderCredentialList, ProviderParams } from '@agentik/shared';
import { AppError, notFound } from '../../lib/app-error.js';
import type { SecretBox } from '../../lib/secret-box.js';
import { AddressNotAllowedError, HostNotFoundError, type AddressGuard } from '../../adapters/providers/address-guard.js';
import type { ProviderCredentialRecord } from '../../storage/records.js';
import { auditEntry } from '../../tenants/context.js';
import { TENANT_ADMIN, ctxOf, type App } from '../types.js';

/**
 * Refuses a tenant URL whose host does not resolve, or resolves to an address tenants may not
 * reach (loopback, private, link-local, this server's own) unless the operator allowed it. The
 * same check runs again on every connection, since DNS answers change.
 */
async function checkReachable(guard: AddressGuard, baseUrl: string): Promise<void> {
  try {
    const url = new URL(baseUrl);
    await guard.resolve(url.hostname, Number(url.port) || (url.protocol === 'https:' ? 443 : 80));
  } catch (error) {
    if (error instanceof AddressNotAllowedError) {
      throw new AppError(
        'VALIDATION_FAILED',
        "baseUrl: the host is a loopback, private, link-local or this server's own address, which tenant provider URLs may not reach",
      );
    }
    if (error instanceof HostNotFoundError) throw new AppError('VALIDATION_FAILED', 'baseUrl: the host name does not resolve');
    throw error;
  }
}

function present(c: ProviderCredentialRecord) {
  return {
    provider: c.provider as z.infer<typeof ProviderCredential>['provider'],
    baseUrl: c.baseUrl,
    hasApiKey: c.apiKeyCiphertext !== null,
    updatedAt: new Date(c.updatedAt).toISOString(),
  };
}

/**
 * A tenant's own provider credentials (owner/admin). Keys are encrypted before they reach the
 * store and are never returned; a base URL of the tenant's own needs the operator's consent
 * (AGENTIK_TENANT_PROVIDER_URLS=allow), since it makes the server call that URL.
 */
export async function providerRoutes(app: App, deps: { box: SecretBox; tenantUrls: 'deny' | 'allow'; guard: AddressGuard; now: () => number }) {
  app.get(
    '',
    { config: TENANT_ADMIN, schema: { tags: ['providers'], response: { 200: ProviderCredentialList } } },
    async (request) => ({ data: (await ctxOf(request).store.providerCredentials.list()).map(present) }),
  );

  app.put(
    '/:name',
    {
      config: TENANT_ADMIN,
      schema: { tags: ['providers'], params: ProviderParams, body: ProviderCredentialBody, response: { 200: ProviderCredential } },
    },
    async (request) => {
      const ctx = ctxOf(request);
      const { name } = request.params;
      const { baseUrl, apiKey } = request.body;
      if (baseUrl && deps.tenantUrls !== 'allow') {
        throw new AppError('FORBIDDEN', 'this server does not let tenants choose provider URLs');
      }
      if (baseUrl) await checkReachable(deps.guard, baseUrl);
      const at = deps.now();
      // Read and write in one transaction: two concurrent PUTs each keep what the other left alone.
      const record = await ctx.store.transaction(async (tx) => {
        const current = await tx.providerCredentials.get(name);
        const next: ProviderCredentialRecord = {
          provider: name,
          baseUrl: baseUrl === undefined ? (current?.baseUrl ?? null) : baseUrl,
          apiKeyCiphertext:
            apiKey === undefined ? (current?.apiKeyCiphertext ?? null) : apiKey === null ? null : deps.box.seal(apiKey, ctx.tenant.id),
          updatedAt: at,
        };
        await tx.providerCredentials.put(next);
        const details = { baseUrl: next.baseUrl, hasApiKey: next.apiKeyCiphertext !== null };
        await tx.audit.append(auditEntry(ctx.principal, at, 'provider.updated', `provider:${name}`, details));
        return next;
      });
      return present(record);
    },
  );

  app.delete(
    '/:name',
    { config: TENANT_ADMIN, schema: { tags: ['providers'], params: ProviderParams, response: { 204: z.null() } } },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const { name } = request.params;
      const deleted = await ctx.store.transaction(async (tx) => {
        if (!(await tx.providerCredentials.delete(name))) return false;
        await tx.audit.append(auditEntry(ctx.principal, deps.now(), 'provider.deleted', `provider:${name}`));
        return true;
      });
      if (!deleted) throw notFound('provider setting');
      return reply.code(204).send(null);
    },
  );
}
