import type { Dispatcher } from 'undici';
import {
  anthropicError,
  anthropicFinishReason,
  anthropicInputTokens,
  parseAnthropicMessage,
  toAnthropicBody,
} from './anthropic-wire.js';
import { ChatProvider } from './chat-provider.js';
import type { HttpClientOptions, UpstreamResponse } from './http-client.js';
import type { SseEvent } from '@agentik/shared';
import { parseSseStream } from './sse.js';
import type { StreamAccumulator } from './stream-accumulator.js';
import type { ChatRequest, ChatResult, StreamEvent } from '../../providers/types.js';
import { count, isRecord, joinUrl, parseErrorBody, parseWireObject, str, truncatedStream } from './wire-json.js';

/** The API version header this adapter speaks. */
export const ANTHROPIC_VERSION = '2023-06-01';

/** Settings of the Anthropic Messages endpoint. */
export interface AnthropicOptions {
  /** Base URL without the version: `https://api.anthropic.com`. */
  baseUrl: string;
  /** Sent as `x-api-key`. */
  apiKey?: string;
  /** `max_tokens` when the request gives none (the API requires it). Default 4096. */
  defaultMaxTokens?: number;
  /** Timeouts and retries. */
  http?: HttpClientOptions;
  /** A shared undici dispatcher (one pool per origin across providers and tenants). */
  dispatcher?: Dispatcher;
}

/** `POST {baseUrl}/v1/messages`: JSON, or named SSE events ending at `message_stop`. */
export class AnthropicProvider extends ChatProvider {
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly defaultMaxTokens: number;

  constructor(options: AnthropicOptions) {
    super('anthropic', options.http, options.dispatcher, options.baseUrl);
    this.url = joinUrl(options.baseUrl, '/v1/messages');
    this.headers = { 'anthropic-version': ANTHROPIC_VERSION, ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}) };
    this.defaultMaxTokens = options.defaultMaxTokens ?? 4096;
  }

  protected async *completeOnce(req: ChatRequest): AsyncGenerator<ChatResult> {
    const res = await this.send(req, false);
    yield await this.answer(res, parseAnthropicMessage);
  }

  protected streamOnce(req: ChatRequest): AsyncIterable<StreamEvent> {
    return this.streamReply(
      () => this.send(req, true),
      (res, acc) => {
        let stopped = false;
        return {
          reads: parseSseStream(res.body, this.name),
          unit: (event: SseEvent) => !(stopped = this.streamEvent(event, acc, res.headers)),
          end: () => {
            if (!stopped) throw truncatedStream(this.name, 'message_stop');
            return withEmptyInputs(acc.snapshot());
          },
        };
      },
    );
  }

  /** Takes one streamed event into `acc`; true when it was `message_stop`, the end of the reply. */
  private streamEvent(event: SseEvent, acc: StreamAccumulator, headers: UpstreamResponse['headers']): boolean {
    const data = parseWireObject(this.name, event.data, `${event.event} event`);
    // `event:` and `data.type` are equal; prefer data.type (the SDKs do).
    switch (str(data.type) ?? event.event) {
      case 'message_start': {
        const message = isRecord(data.message) ? data.message : {};
        // Output here is a placeholder (1-2 tokens); the real count comes with message_delta.
        if (isRecord(message.usage)) acc.usage = { inputTokens: anthropicInputTokens(message.usage), outputTokens: undefined };
        break;
      }
      case 'content_block_start': {
        const block = isRecord(data.content_block) ? data.content_block : {};
        const index = typeof data.index === 'number' ? data.index : 0;
        // The tool_use placeholder `input: {}` is not the input: the deltas are.
        if (block.type === 'tool_use') acc.addToolCallFragment(index, { id: str(block.id), name: str(block.name) });
        const text = block.type === 'text' ? str(block.text) : undefined;
        if (text) acc.addText(text);
        break;
      }
      case 'content_block_delta': {
        const delta = isRecord(data.delta) ? data.delta : {};
        const index = typeof data.index === 'number' ? data.index : 0;
        if (delta.type === 'text_delta') {
          const text = str(delta.text);
          if (text) acc.addText(text);
        } else if (delta.type === 'input_json_delta') {
          acc.addToolCallFragment(index, { args: str(delta.partial_json) });
        }
        break;
      }
      case 'message_delta': {
        const delta = isRecord(data.delta) ? data.delta : {};
        if (delta.stop_reason !== null && delta.stop_reason !== undefined) acc.finishReason = anthropicFinishReason(delta.stop_reason);
        // Cumulative counts: replace, never add. Older form carries output only.
        if (isRecord(data.usage)) {
          const input = anthropicInputTokens(data.usage);
          acc.usage = { inputTokens: input ?? acc.usage.inputTokens, outputTokens: count(data.usage.output_tokens) ?? acc.usage.outputTokens };
        }
        break;
      }
      case 'message_stop':
        return true;
      case 'error':
        throw anthropicError(this.name, undefined, data, headers);
      default: // ping, content_block_stop, and event types added later
        break;
    }
    return false;
  }

  private send(req: ChatRequest, stream: boolean): Promise<UpstreamResponse> {
    return this.http.send(
      {
        url: this.url,
        headers: { ...this.headers, accept: stream ? 'text/event-stream' : 'application/json' },
        body: toAnthropicBody(req, stream, this.defaultMaxTokens),
        signal: req.signal,
      },
      (status, text, headers) => anthropicError(this.name, status, parseErrorBody(text), headers),
    );
  }
}

/** A tool call whose `input_json_delta`s were all empty had input `{}` (the documented rule). */
function withEmptyInputs(result: ChatResult): ChatResult {
  return { ...result, toolCalls: result.toolCalls.map((c) => (c.arguments === '' ? { ...c, arguments: '{}' } : c)) };
}
