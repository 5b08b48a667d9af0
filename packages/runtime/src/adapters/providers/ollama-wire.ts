import { upstreamError, type ProviderError } from '../../providers/provider-error.js';
import type { ChatMessage, ChatRequest, ChatResult, FinishReason, ProviderName, ToolCall } from '../../providers/types.js';
import { count, isRecord, malformedResponse, str, toolArgumentsText, toToolInput } from './wire-json.js';

/**
 * Converts our messages to `/api/chat` messages: assistant tool-call arguments go back as
 * **objects**, and each tool result names its tool (`tool_name`, looked up from the call) and
 * its `tool_call_id`.
 */
export function toOllamaMessages(messages: ChatMessage[]): Record<string, unknown>[] {
  const toolNames = new Map<string, string>();
  return messages.map((m) => {
    if (m.role === 'assistant' && m.toolCalls && m.toolCalls.length > 0) {
      return {
        role: 'assistant',
        content: m.content,
        tool_calls: m.toolCalls.map((c, index) => {
          toolNames.set(c.id, c.name);
          return { id: c.id, function: { index, name: c.name, arguments: toToolInput(c.arguments) } };
        }),
      };
    }
    if (m.role === 'tool') {
      const name = m.toolCallId === undefined ? undefined : toolNames.get(m.toolCallId);
      return {
        role: 'tool',
        ...(name === undefined ? {} : { tool_name: name }),
        ...(m.toolCallId === undefined ? {} : { tool_call_id: m.toolCallId }),
        content: m.content,
      };
    }
    return { role: m.role, content: m.content };
  });
}

/** The request body of `POST /api/chat`. `stream` is always explicit (the server defaults to true). */
export function toOllamaBody(req: ChatRequest, stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { model: req.model, messages: toOllamaMessages(req.messages) };
  if (req.tools && req.tools.length > 0) {
    body.tools = req.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
  }
  body.stream = stream;
  const options: Record<string, unknown> = {};
  if (req.temperature !== undefined) options.temperature = req.temperature;
  if (req.maxTokens !== undefined) options.num_predict = req.maxTokens;
  if (Object.keys(options).length > 0) body.options = options;
  return body;
}

/** Reads the whole tool calls of one message (Ollama never fragments them; arguments are objects). */
export function ollamaToolCalls(message: Record<string, unknown>): (Omit<ToolCall, 'id'> & { id: string | undefined })[] {
  if (!Array.isArray(message.tool_calls)) return [];
  const calls: (Omit<ToolCall, 'id'> & { id: string | undefined })[] = [];
  for (const raw of message.tool_calls as unknown[]) {
    if (!isRecord(raw) || !isRecord(raw.function)) continue;
    calls.push({
      id: str(raw.id), // absent before Ollama v0.12.10
      name: str(raw.function.name) ?? '',
      arguments: toolArgumentsText(raw.function.arguments),
    });
  }
  return calls;
}

/** Maps `done_reason`; Ollama keeps `stop` when it called tools, so tool calls decide first. */
export function ollamaFinishReason(reason: unknown, calledTools: boolean): FinishReason {
  if (calledTools) return 'tool_calls';
  if (reason === 'stop') return 'stop';
  if (reason === 'length') return 'length';
  return 'unknown';
}

/**
 * Usage of a `done: true` object. The counts are `omitempty` on the wire: a missing one is
 * reported as unknown rather than assumed 0.
 */
export function ollamaUsage(line: Record<string, unknown>): ChatResult['usage'] {
  return { inputTokens: count(line.prompt_eval_count), outputTokens: count(line.eval_count) };
}

/** A character of a JSON string that needs no escape (not `"`, `\` or a control character), and an escape. */
const PLAIN = String.raw`[^"\\\u0000-\u001f]`;
const ESCAPE = String.raw`\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})`;

/**
 * A streamed line that only carries text, as Ollama writes nearly all of them (Go's encoder: no
 * spaces, fields in this order): `{"model":"…","created_at":"…","message":{"role":"assistant",
 * "content":"…"},"done":false}`. The whole line must have exactly this shape, as valid JSON; any
 * other line (an error, tool calls, thinking, the `done: true` line, other fields or spacing)
 * does not match and takes the full parse.
 */
const TEXT_LINE = new RegExp(
  String.raw`^\{"model":"${PLAIN}*","created_at":"${PLAIN}*","message":\{"role":"assistant","content":"((?:${PLAIN}|${ESCAPE})*)"\},"done":false\}$`,
);

/**
 * The text of a streamed line that carries only text (see {@link TEXT_LINE}), without building
 * its objects: one per generated token, this is most of a stream. Undefined for any other line,
 * which the caller parses in full; where it answers, the answer is `JSON.parse(line).message.content`.
 */
export function ollamaTextLine(line: string): string | undefined {
  const match = TEXT_LINE.exec(line);
  if (match === null) return undefined;
  const content = match[1]!;
  return content.includes('\\') ? (JSON.parse(`"${content}"`) as string) : content;
}

/** Parses a non-streaming response (one `done: true` object). */
export function parseOllamaResponse(provider: ProviderName, body: Record<string, unknown>): ChatResult {
  if (body.error !== undefined) throw ollamaError(provider, 500, body, {});
  if (!isRecord(body.message)) throw malformedResponse(provider, 'no message');
  const calls = ollamaToolCalls(body.message).map((c, i) => ({ ...c, id: c.id ?? `call_${i}` }));
  return {
    text: str(body.message.content) ?? '',
    toolCalls: calls,
    finishReason: ollamaFinishReason(body.done_reason, calls.length > 0),
    usage: ollamaUsage(body),
  };
}

/**
 * Builds the error for `{"error":"<string>"}`. A 404 is an unknown model (matched on the status,
 * not the text, which changed between versions); a mid-stream error line counts as a 500.
 */
export function ollamaError(
  provider: ProviderName,
  status: number,
  body: Record<string, unknown> | undefined,
  headers: Record<string, string | string[] | undefined>,
): ProviderError {
  const code = status === 404 ? 'model_not_found' : undefined;
  const message = body && (typeof body.error === 'string' ? body.error : isRecord(body.error) ? body.error.message : undefined);
  // No request id: Ollama sends no request-id header.
  return upstreamError(provider, status, { code, message }, headers);
}
