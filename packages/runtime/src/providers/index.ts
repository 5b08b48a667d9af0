/** The providers module's public surface: the interface, the error, the registry. */
export type { ChatMessage, ChatRequest, ChatResult, FinishReason, LlmProvider, ProviderName, StreamEvent, ToolCall, ToolSpec, Usage } from './types.js';
export { ProviderError, type ProviderErrorKind } from './provider-error.js';
export { createProviders, type ProviderEndpoint, type Providers, type ProvidersOptions } from './registry.js';
export type { HttpClientOptions } from './http-client.js';
