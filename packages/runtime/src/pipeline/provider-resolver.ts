import { AppError } from '../lib/app-error.js';
import type { SecretBox } from '../lib/secret-box.js';
import type { Providers } from '../providers/registry.js';
import type { ProviderResolver } from './deps.js';

/**
 * A tenant's own credentials for a provider win over the platform's; the key is decrypted only
 * here, for the call, and never leaves the process.
 */
export function createProviderResolver(providers: Providers, box: SecretBox): ProviderResolver {
  return {
    async resolve(tenant, name) {
      const own = await tenant.store.providerCredentials.get(name);
      if (own) {
        const apiKey = own.apiKeyCiphertext === null ? undefined : box.open(own.apiKeyCiphertext, tenant.tenant.id);
        try {
          return providers.withCredentials(name, {
            ...(own.baseUrl === null ? {} : { baseUrl: own.baseUrl }),
            ...(apiKey === undefined ? {} : { apiKey }),
          });
        } catch {
          throw new AppError('PROVIDER_UNAVAILABLE', `the ${name} provider has no base URL configured`);
        }
      }
      const platform = providers.get(name);
      if (!platform) throw new AppError('PROVIDER_UNAVAILABLE', `the ${name} provider is not configured on this server`);
      return platform;
    },
  };
}
