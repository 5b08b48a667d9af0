import type { Dispatcher } from 'undici';
import { AnthropicProvider } from './anthropic.js';
import type { AddressGuard } from './address-guard.js';
import { createUpstreamAgent, type HttpClientOptions } from './http-client.js';
import { OllamaProvider } from './ollama.js';
import { OpenAiCompatibleProvider } from './openai-compatible.js';
import type { LlmProvider, ProviderEndpoint, ProviderName, Providers } from '../../providers/types.js';

/**
 * The platform's provider settings as plain values (the config layer maps AGENTIK_OLLAMA_URL,
 * AGENTIK_OPENAI_BASE_URL, AGENTIK_OPENAI_API_KEY, AGENTIK_ANTHROPIC_BASE_URL and
 * AGENTIK_ANTHROPIC_API_KEY onto it). A provider is built only when its entry is present.
 */
export interface ProvidersOptions {
  /** Ollama's native API. `baseUrl` defaults to `http://127.0.0.1:11434`. */
  ollama?: ProviderEndpoint;
  /** OpenAI itself. `baseUrl` defaults to `https://api.openai.com/v1`. */
  openai?: ProviderEndpoint;
  /** Any OpenAI-compatible server (vLLM, llama.cpp, LM Studio, Ollama's /v1). Needs a `baseUrl`. */
  openaiCompatible?: ProviderEndpoint;
  /** Anthropic. `baseUrl` defaults to `https://api.anthropic.com`. */
  anthropic?: ProviderEndpoint;
  /** Timeouts, retries and pool size, shared by every provider. */
  http?: HttpClientOptions;
  /** A dispatcher to use instead of building one (tests, or a proxy agent). Not closed by `close()`. */
  dispatcher?: Dispatcher;
  /**
   * Checks the addresses of base URLs a tenant chose (not the platform's): their calls go through
   * a pool of their own that connects only to addresses this guard resolved and allowed.
   */
  tenantUrlGuard?: AddressGuard;
}

/** Default base URLs, used when an entry is present without one. */
export const DEFAULT_BASE_URLS: Record<Exclude<ProviderName, 'openai-compatible'>, string> = {
  ollama: 'http://127.0.0.1:11434',
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
};

const OPTION_KEYS: Record<ProviderName, 'ollama' | 'openai' | 'openaiCompatible' | 'anthropic'> = {
  ollama: 'ollama',
  openai: 'openai',
  'openai-compatible': 'openaiCompatible',
  anthropic: 'anthropic',
};

/** Builds one provider instance per configured name, all on one shared undici `Agent`. */
export function createProviders(options: ProvidersOptions): Providers {
  const dispatcher = options.dispatcher ?? createUpstreamAgent(options.http);
  const guarded = options.tenantUrlGuard ? createUpstreamAgent(options.http, options.tenantUrlGuard) : undefined;
  const build = (name: ProviderName, endpoint: ProviderEndpoint, tenantUrl = false): LlmProvider => {
    const common = { http: options.http, dispatcher: (tenantUrl && guarded) || dispatcher, apiKey: endpoint.apiKey };
    switch (name) {
      case 'ollama':
        return new OllamaProvider({ ...common, baseUrl: endpoint.baseUrl ?? DEFAULT_BASE_URLS.ollama });
      case 'anthropic':
        return new AnthropicProvider({ ...common, baseUrl: endpoint.baseUrl ?? DEFAULT_BASE_URLS.anthropic });
      case 'openai':
        return new OpenAiCompatibleProvider({ ...common, name, baseUrl: endpoint.baseUrl ?? DEFAULT_BASE_URLS.openai });
      case 'openai-compatible': {
        if (!endpoint.baseUrl) throw new TypeError('openai-compatible provider needs a baseUrl');
        return new OpenAiCompatibleProvider({ ...common, name, baseUrl: endpoint.baseUrl });
      }
    }
  };
  const platform = new Map<ProviderName, LlmProvider>();
  for (const name of Object.keys(OPTION_KEYS) as ProviderName[]) {
    const endpoint = options[OPTION_KEYS[name]];
    if (endpoint) platform.set(name, build(name, endpoint));
  }
  return {
    get: (name) => platform.get(name),
    names: () => [...platform.keys()],
    withCredentials: (name, endpoint) => {
      const base = options[OPTION_KEYS[name]] ?? {};
      const ownUrl = endpoint.baseUrl !== undefined && endpoint.baseUrl !== base.baseUrl;
      const apiKey = endpoint.apiKey ?? (ownUrl ? undefined : base.apiKey);
      return build(name, { baseUrl: endpoint.baseUrl ?? base.baseUrl, apiKey }, ownUrl);
    },
    close: async () => {
      if (!options.dispatcher) await dispatcher.close();
      await guarded?.close();
    },
  };
}
