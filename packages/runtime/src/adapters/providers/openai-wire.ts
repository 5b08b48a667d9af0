import { requestIdFrom, upstreamError, type ProviderError } from '../../providers/provider-error.js';
import { unknownUsage, type ChatMessage, type ChatRequest, type ChatResult, type FinishReason, type ProviderName, type ToolCall, type ToolSpec } from '../../providers/types.js';
import { count, isRecord, malformedResponse, parseErrorBody, str, toolArgumentsText } from './wire-json.js';

/** Which field carries `maxTokens`: OpenAI wants `max_completion_tokens`, older compatible servers only know `max_tokens`. */
export type MaxTokensField = 'max_completion_tokens' | 'max_tokens';

/** Converts our messages to Chat Completions messages (assistant tool-call arguments stay strings). */
export function toOpenAiMessages(messages: ChatMessage[]): Record<string, unknown>[] {
  return messages.map((m) => {
    switch (m.role) {
      case 'assistant': {
        const calls = m.toolCalls ?? [];
        if (calls.length === 0) return { role: 'assistant', content: m.content };
        return {
          role: 'assistant',
          // The API sends `content: null` beside tool calls; an empty string is echoed the same way.
          content: m.content === '' ? null : m.content,
          tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
        };
      }
      case 'tool':
        return { role: 'tool', tool_call_id: m.toolCallId ?? '', content: m.content };
      default:
        return { role: m.role, content: m.content };
    }
  });
}

/** Converts our tool specs to Chat Completions `tools`. */
export function toOpenAiTools(tools: ToolSpec[]): Record<string, unknown>[] {
  return tools.map((t) => ({
    type: 'function',
    function: {
      name: t.name,
      description: t.description,
      parameters: t.parameters,
      ...(t.strict === undefined ? {} : { strict: t.strict }),
    },
  }));
}

/** The request body of `POST /chat/completions`. */
export function toOpenAiBody(req: ChatRequest, stream: boolean, maxTokensField: MaxTokensField, includeUsage: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { model: req.model, messages: toOpenAiMessages(req.messages) };
  if (req.tools && req.tools.length > 0) body.tools = toOpenAiTools(req.tools);
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.maxTokens !== undefined) body[maxTokensField] = req.maxTokens;
  if (stream) {
    body.stream = true;
    if (includeUsage) body.stream_options = { include_usage: true };
  }
  return body;
}

/** Maps `finish_reason`. */
export function openAiFinishReason(reason: unknown): FinishReason {
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    default:
      return 'unknown';
  }
}

/** Reads `usage.prompt_tokens` / `completion_tokens`; absent or null usage gives undefined counts. */
export function openAiUsage(usage: unknown): ChatResult['usage'] {
  if (!isRecord(usage)) return unknownUsage();
  return { inputTokens: count(usage.prompt_tokens), outputTokens: count(usage.completion_tokens) };
}

/** Parses a non-streaming `chat.completion` object. */
export function parseOpenAiCompletion(provider: ProviderName, body: Record<string, unknown>): ChatResult {
  if (isRecord(body.error)) throw openAiErrorFromObject(provider, body.error, undefined);
  const choices = body.choices;
  const choice = Array.isArray(choices) ? (choices[0] as unknown) : undefined;
  if (!isRecord(choice) || !isRecord(choice.message)) throw malformedResponse(provider, 'no choices[0].message');
  const message = choice.message;
  const toolCalls: ToolCall[] = [];
  if (Array.isArray(message.tool_calls)) {
    message.tool_calls.forEach((raw: unknown, i) => {
      if (!isRecord(raw) || !isRecord(raw.function)) return;
      toolCalls.push({
        id: str(raw.id) ?? `call_${i}`,
        name: str(raw.function.name) ?? '',
        // Ollama's /v1 and some proxies send an object here; the wire contract is a string.
        arguments: toolArgumentsText(raw.function.arguments),
      });
    });
  }
  return {
    text: str(message.content) ?? '',
    toolCalls,
    finishReason: openAiFinishReason(choice.finish_reason),
    usage: openAiUsage(body.usage),
  };
}

/** Turns a non-2xx response into a `ProviderError`. Handles OpenAI's, vLLM's and plain-text bodies. */
export function parseOpenAiErrorResponse(
  provider: ProviderName,
  status: number,
  text: string,
  headers: Record<string, string | string[] | undefined>,
): ProviderError {
  const body = parseErrorBody(text);
  // OpenAI: {"error":{message,type,param,code}}; vLLM: {"object":"error",message,type,code:<number>}.
  const detail = body && (isRecord(body.error) ? body.error : typeof body.error === 'string' ? { message: body.error } : body);
  const requestId = requestIdFrom(headers);
  return upstreamError(provider, status, { type: str(detail?.type), code: str(detail?.code), message: detail?.message, requestId }, headers);
}

/** Turns a mid-stream `data: {"error":{...}}` into a `ProviderError`, guessing a status from its type/code. */
export function openAiErrorFromObject(provider: ProviderName, error: Record<string, unknown>, requestId: string | undefined): ProviderError {
  const type = str(error.type);
  const code = str(error.code);
  let status: number | undefined;
  if (code === 'rate_limit_exceeded' || type === 'tokens' || type === 'requests' || code === 'insufficient_quota') status = 429;
  else if (type === 'server_error' || type === 'api_error') status = 500;
  else if (type === 'invalid_request_error') status = 400;
  return upstreamError(provider, status, { type, code, message: error.message, requestId });
}
