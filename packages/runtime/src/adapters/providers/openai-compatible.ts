import type { Dispatcher } from 'undici';
import { ChatProvider } from './chat-provider.js';
import type { HttpClientOptions, UpstreamResponse } from './http-client.js';
import { requestIdFrom } from '../../providers/provider-error.js';
import type { SseEvent } from '@agentik/shared';
import { parseSseStream } from './sse.js';
import type { StreamAccumulator } from './stream-accumulator.js';
import type { ChatRequest, ChatResult, StreamEvent } from '../../providers/types.js';
import {
  openAiErrorFromObject,
  openAiFinishReason,
  openAiUsage,
  parseOpenAiCompletion,
  parseOpenAiErrorResponse,
  toOpenAiBody,
  type MaxTokensField,
} from './openai-wire.js';
import { isRecord, joinUrl, malformedResponse, parseWireObject, str, toolArgumentsText, truncatedStream } from './wire-json.js';

/** Settings of one OpenAI or OpenAI-compatible endpoint. */
export interface OpenAiCompatibleOptions {
  /** `openai` for api.openai.com, `openai-compatible` for vLLM, llama.cpp server, LM Studio, Ollama's /v1. */
  name: 'openai' | 'openai-compatible';
  /** Base URL including the version segment, as the official SDK takes it: `https://api.openai.com/v1`, `http://host:8000/v1`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; omitted when undefined (local servers often need none). */
  apiKey?: string;
  /**
   * Where `maxTokens` goes. Default: `max_completion_tokens` for `openai` (the current field;
   * reasoning models reject `max_tokens`), `max_tokens` for `openai-compatible` (vLLM,
   * llama.cpp, LM Studio and Ollama all read it; several do not know the newer name).
   */
  maxTokensField?: MaxTokensField;
  /** Ask for the usage chunk with `stream_options.include_usage`. Default true. */
  includeUsage?: boolean;
  /** Timeouts and retries (ignored for the pool when `dispatcher` is given, used for retries always). */
  http?: HttpClientOptions;
  /** A shared undici dispatcher (one pool per origin across providers and tenants). */
  dispatcher?: Dispatcher;
}

/** A model the server offers (`GET {baseUrl}/models`). */
export interface OpenAiModel {
  /** The model id, as a chat request names it: `gpt-4o-mini`. */
  name: string;
  /** `owned_by`, when reported. */
  ownedBy: string | undefined;
}

/** `POST {baseUrl}/chat/completions`: JSON, or SSE chunks ending in `data: [DONE]`. */
export class OpenAiCompatibleProvider extends ChatProvider {
  private readonly url: string;
  private readonly modelsUrl: string;
  private readonly headers: Record<string, string>;
  private readonly maxTokensField: MaxTokensField;
  private readonly includeUsage: boolean;

  constructor(options: OpenAiCompatibleOptions) {
    super(options.name, options.http, options.dispatcher, options.baseUrl);
    this.url = joinUrl(options.baseUrl, '/chat/completions');
    this.modelsUrl = joinUrl(options.baseUrl, '/models');
    this.headers = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
    this.maxTokensField = options.maxTokensField ?? (options.name === 'openai' ? 'max_completion_tokens' : 'max_tokens');
    this.includeUsage = options.includeUsage ?? true;
  }

  /** The models the server lists (`GET {baseUrl}/models`, OpenAI's `{ data: [{ id }] }`), for the agent form. */
  async listModels(signal?: AbortSignal): Promise<OpenAiModel[]> {
    const body = await this.getObject({ url: this.modelsUrl, headers: this.headers, what: 'models body', signal }, (status, text, headers) =>
      parseOpenAiErrorResponse(this.name, status, text, headers),
    );
    const models = Array.isArray(body.data) ? (body.data as unknown[]) : [];
    return models.filter(isRecord).flatMap((m) => {
      const name = str(m.id);
      return name ? [{ name, ownedBy: str(m.owned_by) }] : [];
    });
  }

  protected async *completeOnce(req: ChatRequest): AsyncGenerator<ChatResult> {
    const res = await this.send(req, false);
    yield await this.answer(res, parseOpenAiCompletion);
  }

  protected streamOnce(req: ChatRequest): AsyncIterable<StreamEvent> {
    return this.streamReply(
      () => this.send(req, true),
      (res, acc) => {
        const requestId = requestIdFrom(res.headers);
        let done = false;
        return {
          reads: parseSseStream(res.body, this.name),
          unit: (event: SseEvent) => {
            // `[DONE]` is not JSON. Keep reading to the end so the pooled socket can be reused.
            if (event.data === '[DONE]') {
              done = true;
              return false;
            }
            const chunk = parseWireObject(this.name, event.data, 'stream chunk');
            if (isRecord(chunk.error)) throw openAiErrorFromObject(this.name, chunk.error, requestId);
            // With include_usage the last chunk has `choices: []` and the usage; earlier ones `usage: null`.
            if (isRecord(chunk.usage)) acc.usage = openAiUsage(chunk.usage);
            const choice = Array.isArray(chunk.choices) ? (chunk.choices[0] as unknown) : undefined;
            if (!isRecord(choice)) return true;
            const delta = isRecord(choice.delta) ? choice.delta : {};
            const text = str(delta.content);
            if (text) acc.addText(text);
            if (Array.isArray(delta.tool_calls)) this.addToolCallDeltas(acc, delta.tool_calls);
            if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
              acc.finishReason = openAiFinishReason(choice.finish_reason);
            }
            return true;
          },
          end: () => {
            // Servers that skip `[DONE]` but sent a finish reason and closed cleanly still finished.
            if (!done && acc.finishReason === undefined) throw truncatedStream(this.name, 'data: [DONE]');
            return acc.snapshot();
          },
        };
      },
    );
  }

  private addToolCallDeltas(acc: StreamAccumulator, deltas: unknown[]): void {
    for (const raw of deltas) {
      if (!isRecord(raw)) continue;
      const index = typeof raw.index === 'number' ? raw.index : undefined;
      if (index === undefined) throw malformedResponse(this.name, 'tool call delta without index');
      const fn = isRecord(raw.function) ? raw.function : {};
      acc.addToolCallFragment(index, {
        id: str(raw.id),
        name: str(fn.name),
        // A delta without arguments adds nothing (not `{}`): later fragments carry the text.
        args: fn.arguments === undefined || fn.arguments === null ? undefined : toolArgumentsText(fn.arguments),
      });
    }
  }

  private send(req: ChatRequest, stream: boolean): Promise<UpstreamResponse> {
    return this.http.send(
      {
        url: this.url,
        headers: { ...this.headers, accept: stream ? 'text/event-stream' : 'application/json' },
        body: toOpenAiBody(req, stream, this.maxTokensField, this.includeUsage),
        signal: req.signal,
      },
      (status, text, headers) => parseOpenAiErrorResponse(this.name, status, text, headers),
    );
  }
}
