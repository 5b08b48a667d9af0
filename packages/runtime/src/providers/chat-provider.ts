import type { Dispatcher } from 'undici';
import { HttpClient, firstOf, type HttpClientOptions, type UpstreamResponse } from './http-client.js';
import { ProviderError } from './provider-error.js';
import type { ChatRequest, ChatResult, LlmProvider, ProviderName, StreamEvent } from './types.js';
import { parseWireObject } from './wire-json.js';

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

  /**
   * Reads and parses a non-streaming 2xx answer. When the body cannot be read in full (cut off,
   * stalled, too long) or is a JSON object cut short, the error is marked `answered`: the upstream
   * generated the reply, and billed it, though it cannot be read, so the pipeline books the call
   * instead of releasing it. A body that is whole but not a reply (an HTML page, an error object)
   * is not an answer.
   */
  protected async answer(res: UpstreamResponse, parse: (provider: ProviderName, body: Record<string, unknown>) => ChatResult): Promise<ChatResult> {
    const answered = (err: unknown) => (err instanceof ProviderError ? err.with({ answered: true }) : err);
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw answered(err);
    }
    let body: Record<string, unknown>;
    try {
      body = parseWireObject(this.name, text, 'response body');
    } catch (err) {
      throw text.trimStart().startsWith('{') ? answered(err) : err;
    }
    return parse(this.name, body);
  }

  /** One non-streaming attempt: yields the result once. */
  protected abstract completeOnce(request: ChatRequest): AsyncGenerator<ChatResult>;

  /** One streaming attempt. */
  protected abstract streamOnce(request: ChatRequest): AsyncGenerator<StreamEvent>;
}
