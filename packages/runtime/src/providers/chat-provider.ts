import type { Dispatcher } from 'undici';
import { HttpClient, firstOf, type HttpClientOptions } from './http-client.js';
import type { ChatRequest, ChatResult, LlmProvider, ProviderName, StreamEvent } from './types.js';

/**
 * What every HTTP provider shares: one call is one attempt generator, retried by the
 * `HttpClient` (before any byte reached the caller) on its pooled connections. Subclasses only
 * speak their wire format in `completeOnce` and `streamOnce`.
 */
export abstract class ChatProvider implements LlmProvider {
  protected readonly http: HttpClient;
  /** The upstream origin (`scheme://host:port`) of `baseUrl`. */
  readonly origin: string;

  protected constructor(
    readonly name: ProviderName,
    http: HttpClientOptions | undefined,
    dispatcher: Dispatcher | undefined,
    baseUrl: string,
  ) {
    this.http = new HttpClient(name, http, dispatcher);
    this.origin = URL.canParse(baseUrl) ? new URL(baseUrl).origin : baseUrl;
  }

  /** Non-streaming call. */
  complete(request: ChatRequest): Promise<ChatResult> {
    return firstOf(this.http.withRetries(request.signal, () => this.completeOnce(request)), this.name);
  }

  /** Streaming call: text events as they arrive, then one `finish`. */
  stream(request: ChatRequest): AsyncIterable<StreamEvent> {
    return this.http.withRetries(request.signal, () => this.streamOnce(request));
  }

  /** Closes the connection pool if this provider owns it. */
  close(): Promise<void> {
    return this.http.close();
  }

  /** One non-streaming attempt: yields the result once. */
  protected abstract completeOnce(request: ChatRequest): AsyncGenerator<ChatResult>;

  /** One streaming attempt. */
  protected abstract streamOnce(request: ChatRequest): AsyncGenerator<StreamEvent>;
}
