import { AppError } from '../lib/app-error.js';
import type { SecretBox } from '../lib/secret-box.js';
import type { Providers } from '../providers/types.js';
import type { ProviderResolver } from './deps.js';

/**
 * A tenant's own credentials for a provider (the caller reads them with the run's other reads)
 * win over the platform's; the key is decrypted only here, for the call, and never leaves the
 * process. A setting with a base URL of the tenant's
 * own counts only while the operator allows tenant URLs (`tenantUrls`): stored under `allow`, it
 * is ignored as a whole once the server runs with `deny`. Its key belongs to that URL, so it is
 * not sent to the platform's server either.
 */
export function createProviderResolver(providers: Providers, box: SecretBox, tenantUrls: 'deny' | 'allow'): ProviderResolver {
  return {
    resolve(tenant, name, own) {
      if (own && (own.baseUrl === null || tenantUrls === 'allow')) {
        const apiKey = own.apiKeyCiphertext === null ? undefined : box.open(own.apiKeyCiphertext, tenant.tenant.id);
        try {
          const provider = providers.withCredentials(name, {
            ...(own.baseUrl === null ? {} : { baseUrl: own.baseUrl }),
            ...(apiKey === undefined ? {} : { apiKey }),
          });
          // Without a URL of its own the tenant's key goes to the operator's endpoint: priced as such.
          return { provider, endpoint: own.baseUrl === null ? 'platform' : 'tenant' };
        } catch {
          throw new AppError('PROVIDER_UNAVAILABLE', `the ${name} provider has no base URL configured`);
        }
      }
      const platform = providers.get(name);
      if (!platform) throw new AppError('PROVIDER_UNAVAILABLE', `the ${name} provider is not configured on this server`);
      return { provider: platform, endpoint: 'platform' };
    },
  };
}
