import type { Dispatcher } from 'undici';
import { HttpClient, firstOf, type ErrorBodyParser, type HttpClientOptions, type UpstreamResponse } from './http-client.js';
import { ProviderError } from '../../providers/provider-error.js';
import { StreamAccumulator, withPartial } from './stream-accumulator.js';
import type { ChatRequest, ChatResult, LlmProvider, ProviderName, StreamEvent } from '../../providers/types.js';
import { parseWireObject } from './wire-json.js';

/** How one wire's stream is read, for {@link ChatProvider.streamReply}. */
export interface WireStream<T> {
  /** The body's units (NDJSON lines, SSE events), one array per read. */
  reads: AsyncIterable<T[]>;
  /**
   * Takes one unit into the accumulator (its text with `addText`); returns false once it was the
   * wire's end marker: what follows is read, so the pooled socket can be reused, and ignored.
   * Throws on a unit that is an error or malformed.
   */
  unit(unit: T): boolean;
  /** At the end of the body: the result, or a throw when the end marker never came. */
  end(): ChatResult;
}

/** A `GET` of a JSON object, for {@link ChatProvider.getObject}; `what` names the body in errors. */
export interface ObjectRequest {
  url: string;
  headers: Record<string, string>;
  what: string;
  signal: AbortSignal | undefined;
}

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

  /**
   * `GET url` for a JSON object (a model list), retried like a call; `error` turns a non-2xx
   * answer into the wire's `ProviderError`.
   */
  protected getObject(get: ObjectRequest, error: ErrorBodyParser): Promise<Record<string, unknown>> {
    return firstOf(this.http.withRetries(get.signal, () => this.getObjectOnce(get, error)), this.name);
  }

  private async *getObjectOnce({ url, headers, what, signal }: ObjectRequest, error: ErrorBodyParser): AsyncGenerator<Record<string, unknown>> {
    const res = await this.http.send({ url, method: 'GET', headers, signal }, error);
    yield parseWireObject(this.name, await res.text(), what);
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

  /**
   * One streaming attempt: sends the request and reads the answer with the `WireStream` that
   * `open` makes for it, yielding the text of each read as one event (one async step per read,
   * not per fragment: a read often holds many), then the `finish`. A unit that throws ends the
   * stream after the text before it was yielded, and the error carries what had arrived as its
   * `partial`. Breaking off the loop closes the connection.
   */
  protected async *streamReply<T>(
    send: () => Promise<UpstreamResponse>,
    open: (res: UpstreamResponse, acc: StreamAccumulator) => WireStream<T>,
  ): AsyncGenerator<StreamEvent> {
    const res = await send();
    const acc = new StreamAccumulator();
    let result: ChatResult;
    try {
      const wire = open(res, acc);
      let ended = false;
      for await (const units of wire.reads) {
        if (ended) continue;
        let failure: { error: unknown } | undefined;
        try {
          for (const unit of units) if ((ended = !wire.unit(unit))) break;
        } catch (error) {
          failure = { error };
        }
        const texts = acc.takeTexts();
        if (texts) yield { type: 'text', texts };
        if (failure) throw failure.error;
      }
      result = wire.end();
    } catch (err) {
      throw withPartial(err, acc);
    } finally {
      res.discard();
    }
    yield { type: 'finish', result };
  }

  /** One non-streaming attempt: yields the result once. */
  protected abstract completeOnce(request: ChatRequest): AsyncGenerator<ChatResult>;

  /** One streaming attempt (usually {@link streamReply} with the wire's reader). */
  protected abstract streamOnce(request: ChatRequest): AsyncIterable<StreamEvent>;
}
