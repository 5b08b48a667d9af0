import { requestIdFrom, upstreamError, type ProviderError } from '../../providers/provider-error.js';
import { unknownUsage, type ChatMessage, type ChatRequest, type ChatResult, type FinishReason, type ProviderName, type ToolCall, type Usage } from '../../providers/types.js';
import { count, isRecord, malformedResponse, str, toToolInput } from './wire-json.js';

type Block = Record<string, unknown>;
type AnthropicMessage = { role: 'user' | 'assistant'; content: string | Block[] };

/**
 * Converts our messages: system messages become the top-level `system`, assistant tool calls
 * become `tool_use` blocks (input as an object), and tool results become `tool_result` blocks
 * grouped first in one `user` message.
 */
export function toAnthropicMessages(messages: ChatMessage[]): { system: string | undefined; messages: AnthropicMessage[] } {
  const system: string[] = [];
  const out: AnthropicMessage[] = [];
  for (const m of messages) {
    if (m.role === 'system') {
      system.push(m.content);
    } else if (m.role === 'tool') {
      const block: Block = { type: 'tool_result', tool_use_id: m.toolCallId ?? '', content: m.content };
      if (m.isError) block.is_error = true;
      const last = out[out.length - 1];
      const lastIsResults =
        last?.role === 'user' && Array.isArray(last.content) && last.content.every((b) => b.type === 'tool_result');
      if (last && lastIsResults && Array.isArray(last.content)) last.content.push(block);
      else out.push({ role: 'user', content: [block] });
    } else if (m.role === 'assistant' && m.toolCalls && m.toolCalls.length > 0) {
      const blocks: Block[] = m.content === '' ? [] : [{ type: 'text', text: m.content }];
      for (const c of m.toolCalls) blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: toToolInput(c.arguments) });
      out.push({ role: 'assistant', content: blocks });
    } else {
      out.push({ role: m.role === 'assistant' ? 'assistant' : 'user', content: m.content });
    }
  }
  return { system: system.length > 0 ? system.join('\n\n') : undefined, messages: out };
}

/** The request body of `POST /v1/messages`. `max_tokens` is required, so a default fills in. */
export function toAnthropicBody(req: ChatRequest, stream: boolean, defaultMaxTokens: number): Record<string, unknown> {
  const { system, messages } = toAnthropicMessages(req.messages);
  const body: Record<string, unknown> = { model: req.model, max_tokens: req.maxTokens ?? defaultMaxTokens };
  if (system !== undefined) body.system = system;
  if (req.tools && req.tools.length > 0) {
    body.tools = req.tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.parameters }));
  }
  body.messages = messages;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (stream) body.stream = true;
  return body;
}

/** Maps `stop_reason`. */
export function anthropicFinishReason(reason: unknown): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    default:
      return 'unknown';
  }
}

/** Total input tokens = input + cache writes + cache reads; undefined when `input_tokens` is absent. */
export function anthropicInputTokens(usage: Record<string, unknown>): number | undefined {
  const input = count(usage.input_tokens);
  if (input === undefined) return undefined;
  return input + (count(usage.cache_creation_input_tokens) ?? 0) + (count(usage.cache_read_input_tokens) ?? 0);
}

/** Parses a non-streaming `message` object. */
export function parseAnthropicMessage(provider: ProviderName, body: Record<string, unknown>): ChatResult {
  if (!Array.isArray(body.content)) throw malformedResponse(provider, 'no content array');
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const block of body.content as unknown[]) {
    if (!isRecord(block)) continue;
    if (block.type === 'text') text += str(block.text) ?? '';
    else if (block.type === 'tool_use') {
      toolCalls.push({ id: str(block.id) ?? `toolu_${toolCalls.length}`, name: str(block.name) ?? '', arguments: JSON.stringify(block.input ?? {}) });
    }
  }
  const usage: Usage = isRecord(body.usage)
    ? { inputTokens: anthropicInputTokens(body.usage), outputTokens: count(body.usage.output_tokens) }
    : unknownUsage();
  return { text, toolCalls, finishReason: anthropicFinishReason(body.stop_reason), usage };
}

/** The HTTP status each documented `error.type` stands for (used for mid-stream `event: error`). */
const STATUS_BY_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** Builds the error for `{"type":"error","error":{type,message}}`, from a response or an `event: error`. */
export function anthropicError(
  provider: ProviderName,
  status: number | undefined,
  body: Record<string, unknown> | undefined,
  headers: Record<string, string | string[] | undefined>,
): ProviderError {
  const detail = body && isRecord(body.error) ? body.error : undefined;
  const type = str(detail?.type);
  // An `event: error` arrives after a 200: its type says what it would have been (overloaded = 529).
  const effective = status ?? (type ? STATUS_BY_TYPE[type] : undefined);
  // Anthropic has no separate code: the type is the code.
  const requestId = str(body?.request_id) ?? requestIdFrom(headers);
  return upstreamError(provider, effective, { type, code: type, message: detail?.message, requestId }, headers);
}
