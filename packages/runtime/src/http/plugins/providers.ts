import fp from 'fastify-plugin';
import { createProviders, type ProvidersOptions } from '../../adapters/providers/registry.js';
import type { Providers } from '../../providers/types.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The LLM provider adapters and their upstream connection pools, closed on shutdown. */
    providers: Providers;
  }
}

/** `app.providers`: built from the given options; their connections close with the app. */
export const providersPlugin = fp<{ options: ProvidersOptions }>(
  async (app, opts) => {
    const providers = createProviders(opts.options);
    app.decorate('providers', providers);
    app.addHook('onClose', () => providers.close());
  },
  { name: 'agentik-providers' },
);
