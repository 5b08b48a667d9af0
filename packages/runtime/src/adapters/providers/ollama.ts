import type { Dispatcher } from 'undici';
import { ChatProvider } from './chat-provider.js';
import type { HttpClientOptions, UpstreamResponse } from './http-client.js';
import { parseNdjsonLines } from './ndjson.js';
import {
  ollamaError,
  ollamaFinishReason,
  ollamaTextLine,
  ollamaToolCalls,
  ollamaUsage,
  parseOllamaResponse,
  toOllamaBody,
} from './ollama-wire.js';
import type { ChatRequest, ChatResult, StreamEvent } from '../../providers/types.js';
import { isRecord, joinUrl, parseErrorBody, parseWireObject, str, truncatedStream } from './wire-json.js';

/** Settings of one Ollama server. */
export interface OllamaOptions {
  /** Base URL of the server: `http://localhost:11434`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer` when set (for an Ollama behind an authenticating proxy). */
  apiKey?: string;
  /** Timeouts and retries. */
  http?: HttpClientOptions;
  /** A shared undici dispatcher (one pool per origin across providers and tenants). */
  dispatcher?: Dispatcher;
}

/** A model installed on the Ollama server (`GET /api/tags`). */
export interface OllamaModel {
  /** The model name, e.g. `llama3.2:latest`. */
  name: string;
  /** Size on disk in bytes, when reported. */
  size: number | undefined;
  /** Last modification time (RFC 3339), when reported. */
  modifiedAt: string | undefined;
}

/** `POST {baseUrl}/api/chat`: one JSON object, or NDJSON lines ending with `done: true`. */
export class OllamaProvider extends ChatProvider {
  private readonly chatUrl: string;
  private readonly tagsUrl: string;
  private readonly headers: Record<string, string>;

  constructor(options: OllamaOptions) {
    super('ollama', options.http, options.dispatcher, options.baseUrl);
    this.chatUrl = joinUrl(options.baseUrl, '/api/chat');
    this.tagsUrl = joinUrl(options.baseUrl, '/api/tags');
    this.headers = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  }

  /** Lists installed models (for readiness checks, the `doctor` command and the agent form). */
  async listModels(signal?: AbortSignal): Promise<OllamaModel[]> {
    const body = await this.getObject({ url: this.tagsUrl, headers: this.headers, what: 'tags body', signal }, (status, text, headers) =>
      ollamaError(this.name, status, parseErrorBody(text), headers),
    );
    const models = Array.isArray(body.models) ? (body.models as unknown[]) : [];
    return models.filter(isRecord).map((m) => ({
      name: str(m.name) ?? str(m.model) ?? '',
      size: typeof m.size === 'number' ? m.size : undefined,
      modifiedAt: str(m.modified_at),
    }));
  }

  protected async *completeOnce(req: ChatRequest): AsyncGenerator<ChatResult> {
    const res = await this.send(req, false);
    yield await this.answer(res, parseOllamaResponse);
  }

  protected streamOnce(req: ChatRequest): AsyncIterable<StreamEvent> {
    return this.streamReply(
      () => this.send(req, true),
      (res, acc) => {
        let done = false;
        let calls = 0;
        return {
          reads: parseNdjsonLines(res.body, this.name),
          unit: (line: string) => {
            const plain = ollamaTextLine(line);
            if (plain !== undefined) {
              if (plain) acc.addText(plain);
              return true;
            }
            const obj = parseWireObject(this.name, line, 'stream line');
            // A mid-stream error keeps the 200 status: `{"error":"..."}` as a line of its own.
            if (obj.error !== undefined) throw ollamaError(this.name, 500, obj, {});
            const message = isRecord(obj.message) ? obj.message : {};
            const text = str(message.content);
            if (text) acc.addText(text);
            for (const call of ollamaToolCalls(message)) {
              const index = calls++;
              acc.addToolCallFragment(index, { id: call.id, name: call.name, args: call.arguments });
            }
            if (obj.done === true) {
              done = true;
              acc.usage = ollamaUsage(obj);
              acc.finishReason = ollamaFinishReason(obj.done_reason, acc.hasToolCalls);
            }
            return !done;
          },
          end: () => {
            if (!done) throw truncatedStream(this.name, 'the done line');
            return acc.snapshot();
          },
        };
      },
    );
  }

  private send(req: ChatRequest, stream: boolean): Promise<UpstreamResponse> {
    return this.http.send(
      { url: this.chatUrl, headers: this.headers, body: toOllamaBody(req, stream), signal: req.signal },
      (status, text, headers) => ollamaError(this.name, status, parseErrorBody(text), headers),
    );
  }
}
