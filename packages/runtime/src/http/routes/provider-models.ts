import { z } from 'zod';
import { ProviderParams } from '@agentik/shared';
import { AppError } from '../../lib/app-error.js';
import { OllamaProvider } from '../../adapters/providers/ollama.js';
import { OpenAiCompatibleProvider } from '../../adapters/providers/openai-compatible.js';
import { ProviderError } from '../../providers/provider-error.js';
import type { Providers } from '../../providers/types.js';
import { TENANT_READ, type App } from '../types.js';

/** `GET /api/providers/:name/models`: the models the server's provider offers. */
export const ProviderModels = z.object({ data: z.array(z.object({ name: z.string() })) });

/**
 * The models the server's provider offers, for the agent form's model list and its "test
 * connection" button: Ollama's installed models (`/api/tags`), OpenAI's and an OpenAI-compatible
 * server's (`{baseUrl}/models`, with the platform key). Anthropic answers VALIDATION_FAILED (it
 * has no listing the form uses); an unconfigured provider or an unreachable server PROVIDER_UNAVAILABLE.
 */
export async function providerModelRoutes(app: App, deps: { providers: Pick<Providers, 'get'> }) {
  app.get(
    '/api/providers/:name/models',
    { config: TENANT_READ, schema: { tags: ['providers'], params: ProviderParams, response: { 200: ProviderModels } } },
    async (request) => {
      const { name } = request.params;
      if (name === 'anthropic') {
        throw new AppError('VALIDATION_FAILED', 'name: listing the models of anthropic is not supported; type the model name (ollama, openai and openai-compatible list theirs)');
      }
      const provider = deps.providers.get(name);
      if (!(provider instanceof OllamaProvider || provider instanceof OpenAiCompatibleProvider)) {
        throw new AppError('PROVIDER_UNAVAILABLE', `the ${name} provider is not configured on this server`);
      }
      try {
        const models = await provider.listModels();
        return { data: models.map((m) => ({ name: m.name })) };
      } catch (error) {
        if (error instanceof ProviderError) {
          throw new AppError('PROVIDER_UNAVAILABLE', `the ${name} server did not list its models (${error.status ? `HTTP ${error.status}` : error.kind})`);
        }
        throw error;
      }
    },
  );
}
