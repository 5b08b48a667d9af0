/**
 * The one provider interface of Agentik OS: a spec with no I/O.
 *
 * Every LLM adapter (Ollama, OpenAI and OpenAI-compatible servers, Anthropic) converts these
 * shapes to and from its own wire format. Token usage is `number | undefined`: when the wire did
 * not report a count (no usage chunk, a stream cut before the usage arrived) it stays
 * `undefined`, never a made-up 0.
 */

import type { ProviderName } from '@agentik/shared';

/** The provider names the runtime knows (one list, in `@agentik/shared`); `openai` and `openai-compatible` share one adapter. */
export type { ProviderName };

/** A tool call the model asked for. */
export interface ToolCall {
  /** The call id the provider gave (or one we derived when an old server sent none). */
  id: string;
  /** The tool's name, as declared in {@link ToolSpec.name}. */
  name: string;
  /**
   * The arguments as raw JSON text, exactly as the model produced it. It may be invalid JSON:
   * the model wrote it, so parse it where it is used and treat a parse failure as a tool error.
   */
  arguments: string;
}

/** One message of a conversation, provider-neutral. */
export interface ChatMessage {
  /** Who speaks. `tool` carries the result of one tool call back to the model. */
  role: 'system' | 'user' | 'assistant' | 'tool';
  /** The text. For `tool`, the tool's result (usually JSON text). May be empty for an assistant turn that only calls tools. */
  content: string;
  /** On an `assistant` message: the tool calls it made, replayed in follow-up requests. */
  toolCalls?: ToolCall[];
  /** On a `tool` message: the id of the call this result answers. */
  toolCallId?: string;
  /** On a `tool` message: true when the tool failed and `content` is the error text. */
  isError?: boolean;
}

/** A tool the model may call. */
export interface ToolSpec {
  /** A name made of `[a-zA-Z0-9_-]`, unique within one request. */
  name: string;
  /** What the tool does, for the model. */
  description: string;
  /** A JSON schema (type `object`) for the arguments. */
  parameters: Record<string, unknown>;
  /** OpenAI only: ask for strict schema adherence (`function.strict`). Ignored by the others. */
  strict?: boolean;
}

/** One call to a model. */
export interface ChatRequest {
  /** The provider's model id, e.g. `llama3.2`, `gpt-4o-mini`, `claude-sonnet-4-5-20250929`. */
  model: string;
  /** The conversation, oldest first. System messages may appear anywhere; adapters hoist them as their wire requires. */
  messages: ChatMessage[];
  /** Sampling temperature; omitted from the wire when undefined. */
  temperature?: number;
  /** Upper bound on generated tokens; omitted when undefined (Anthropic requires one and uses the adapter's default). */
  maxTokens?: number;
  /** Tools the model may call; none when undefined or empty. */
  tools?: ToolSpec[];
  /** Aborts the upstream HTTP request (the connection is closed, not just ignored). */
  signal?: AbortSignal;
}

/**
 * Token counts as the provider reported them. `undefined` means "not reported", never 0. A count
 * is passed on unjudged (it may be negative, fractional or huge; NaN when the wire sent something
 * that is not a number): the pipeline validates it against the call's bounds before billing.
 */
export interface Usage {
  /** Prompt tokens, including cached ones where the provider counts them apart. */
  inputTokens: number | undefined;
  /** Generated tokens. */
  outputTokens: number | undefined;
}

/** Why generation stopped, normalised across providers. */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'unknown';

/** The outcome of one call. */
export interface ChatResult {
  /** All generated text, concatenated. */
  text: string;
  /** The tool calls the model made, in the order it made them (empty when none). */
  toolCalls: ToolCall[];
  /** Why generation stopped. Streams that broke off have `unknown` (on the error's partial result). */
  finishReason: FinishReason;
  /** Token usage, or `undefined` members where the wire gave none. */
  usage: Usage;
}

/** A piece of a streamed reply. Text arrives as it is generated; tool calls only in the final result. */
export type StreamEvent =
  /**
   * Fragments of generated text, in order, each as the wire delivered it (none empty, at least
   * one): those that one read from the upstream completed, handed on together.
   */
  | { type: 'text'; texts: string[] }
  /** The last event: the whole result, including every tool call, accumulated. */
  | { type: 'finish'; result: ChatResult };

/** An LLM provider: one instance per provider name and credentials, reused for every request. */
export interface LlmProvider {
  /** Which provider this is. */
  readonly name: ProviderName;
  /**
   * The upstream origin (`scheme://host:port`) calls go to, when the provider calls one over
   * HTTP: a tenant's share of connections is counted per origin.
   */
  readonly origin?: string;
  /**
   * Runs one non-streaming call. Rejects with a `ProviderError` (see `provider-error.ts`);
   * retryable failures are retried (with backoff) before it gives up.
   */
  complete(request: ChatRequest): Promise<ChatResult>;
  /**
   * Runs one streaming call. Yields `text` events as reads arrive, then exactly one `finish`.
   * Throws a `ProviderError` whose `partial` holds what arrived when the stream breaks; a failure
   * before the first event was yielded is retried like in {@link LlmProvider.complete}.
   * Breaking out of the loop (or aborting `request.signal`) closes the upstream connection.
   */
  stream(request: ChatRequest): AsyncIterable<StreamEvent>;
}

/** An empty usage: nothing reported yet. */
export const unknownUsage = (): Usage => ({ inputTokens: undefined, outputTokens: undefined });

/** Where one provider lives and how to authenticate. */
export interface ProviderEndpoint {
  /**
   * Base URL. Ollama: `http://host:11434`. OpenAI and compatible servers: including `/v1`, as the
   * official SDK takes it (`https://api.openai.com/v1`). Anthropic: without it (`https://api.anthropic.com`).
   */
  baseUrl?: string;
  /** API key (bearer token for OpenAI/compatible/Ollama, `x-api-key` for Anthropic). */
  apiKey?: string;
}

/**
 * The providers of one runtime: platform defaults plus per-tenant instances on the same pool
 * (the HTTP adapters' registry, `adapters/providers/registry.ts`, implements it).
 */
export interface Providers {
  /** The platform-configured provider of that name, or undefined when it is not configured. */
  get(name: ProviderName): LlmProvider | undefined;
  /** The configured provider names. */
  names(): ProviderName[];
  /**
   * A provider using a tenant's own credentials. An unset `baseUrl` falls back to the
   * platform's; the platform's API key is reused only when the tenant keeps the platform's base
   * URL (it is never sent to a URL the tenant chose). Connections are pooled per origin together
   * with every other instance. Cheap: no sockets or pools are created here.
   */
  withCredentials(name: ProviderName, endpoint: ProviderEndpoint): LlmProvider;
  /** Closes the shared connection pool (if the registry built it). */
  close(): Promise<void>;
}
