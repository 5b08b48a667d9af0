/**
 * Renders the fake LLM's scripted replies in each provider's real wire format (the shapes of
 * the fixtures under test/fixtures/providers): Ollama NDJSON/JSON, OpenAI SSE/JSON, Anthropic
 * SSE/JSON. Pure functions: the server in fake-llm.ts writes what these return.
 */

/** The wire protocols the fake speaks. */
export type FakeProtocol = 'ollama' | 'openai' | 'anthropic';

/** A tool call the fake model makes. */
export interface FakeToolCall {
  /** Call id; a protocol-shaped one is made up when omitted. `null` sends none (old Ollama). */
  id?: string | null;
  /** Tool name. */
  name: string;
  /** Arguments as JSON text. */
  arguments: string;
  /** How the arguments are split across stream deltas (OpenAI/Anthropic); default: 3 pieces. */
  fragments?: string[];
}

/**
 * Token counts as the fake reports them. Real servers send non-negative integers; a number that
 * is not one, or a string, is written to the wire exactly as given, to play an upstream that lies
 * about or garbles its usage (fractional, negative, 1e300, "40").
 */
export interface FakeUsage {
  input: number | string;
  output: number | string;
}

/** `total_tokens` as a real server computes it; absent when a count is not a number. */
function totalOf(u: FakeUsage): number | undefined {
  return typeof u.input === 'number' && typeof u.output === 'number' ? u.input + u.output : undefined;
}

/** What one reply contains, before it is rendered for a protocol. */
export interface FakeContent {
  /** Text tokens, streamed one per event. */
  tokens: string[];
  /** Token usage to report; `null` reports none. */
  usage: FakeUsage | null;
  /** Tool calls. */
  toolCalls: FakeToolCall[];
  /** Model name to echo. */
  model: string;
}

/** One unit the server writes: a chunk of bytes, and whether it carries a text token. */
export interface WireChunk {
  /** The bytes (text) to write. */
  data: string;
  /** True when this chunk delivers one text token (used to cut the stream after N tokens). */
  token?: boolean;
  /** Not data: destroy the socket here. */
  cut?: boolean;
  /** `data` holds raw bytes as latin1 (a split multi-byte character stays split). */
  latin1?: boolean;
}

/** Splits a text into word-ish tokens the way the fixtures do (`Hello`, `!`, ` Nice`, ...). */
export function tokenize(text: string): string[] {
  return text.match(/\s*[\p{L}\p{N}_']+|\s*[^\p{L}\p{N}_'\s]+|\s+/gu) ?? [];
}

function fragmentsOf(call: FakeToolCall): string[] {
  if (call.fragments) return call.fragments;
  const a = call.arguments;
  const third = Math.ceil(a.length / 3);
  return [a.slice(0, third), a.slice(third, 2 * third), a.slice(2 * third)].filter((p) => p.length > 0);
}

function callId(protocol: FakeProtocol, call: FakeToolCall, i: number): string | undefined {
  if (call.id === null) return undefined;
  if (call.id !== undefined) return call.id;
  if (protocol === 'anthropic') return `toolu_fake${String(i).padStart(20, '0')}`;
  if (protocol === 'ollama') return `call_fake${String(i).padStart(4, '0')}`;
  return `call_fake${String(i).padStart(20, '0')}`;
}

const sse = (data: unknown) => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
const sseEvent = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
const created = () => Math.floor(Date.now() / 1000);

// ---------- OpenAI ----------

/** `chat.completion` object. */
export function openAiJson(c: FakeContent): unknown {
  const text = c.tokens.join('');
  const calls = c.toolCalls.map((call, i) => ({
    id: callId('openai', call, i),
    type: 'function',
    function: { name: call.name, arguments: call.arguments },
  }));
  return {
    id: 'chatcmpl-fake0001',
    object: 'chat.completion',
    created: created(),
    model: c.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: calls.length > 0 && text === '' ? null : text,
          ...(calls.length > 0 ? { tool_calls: calls } : {}),
          refusal: null,
          annotations: [],
        },
        logprobs: null,
        finish_reason: calls.length > 0 ? 'tool_calls' : 'stop',
      },
    ],
    ...(c.usage ? { usage: { prompt_tokens: c.usage.input, completion_tokens: c.usage.output, total_tokens: totalOf(c.usage) } } : {}),
    system_fingerprint: 'fp_fake',
  };
}

/** `chat.completion.chunk` SSE events, `[DONE]` last; the usage chunk only when `includeUsage`. */
export function openAiStream(c: FakeContent, includeUsage: boolean): WireChunk[] {
  const base = { id: 'chatcmpl-fake0001', object: 'chat.completion.chunk', created: created(), model: c.model, system_fingerprint: 'fp_fake' };
  const usageField = includeUsage ? { usage: null } : {};
  const chunk = (delta: unknown, finish: string | null = null) =>
    sse({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...usageField });
  const out: WireChunk[] = [];
  const toolDeltas: unknown[][] = [];
  c.toolCalls.forEach((call, i) => {
    const id = callId('openai', call, i);
    toolDeltas.push([{ index: i, ...(id ? { id } : {}), type: 'function', function: { name: call.name, arguments: '' } }]);
    for (const piece of fragmentsOf(call)) toolDeltas.push([{ index: i, function: { arguments: piece } }]);
  });
  if (c.tokens.length === 0 && toolDeltas.length > 0) {
    // As the live API does: the role rides with the first tool fragment, content null.
    out.push({ data: chunk({ role: 'assistant', content: null, tool_calls: toolDeltas.shift(), refusal: null }) });
  } else {
    out.push({ data: chunk({ role: 'assistant', content: '', refusal: null }) });
  }
  for (const token of c.tokens) out.push({ data: chunk({ content: token }), token: true });
  for (const deltas of toolDeltas) out.push({ data: chunk({ tool_calls: deltas }) });
  out.push({ data: chunk({}, c.toolCalls.length > 0 ? 'tool_calls' : 'stop') });
  if (includeUsage && c.usage) {
    const usage = { prompt_tokens: c.usage.input, completion_tokens: c.usage.output, total_tokens: totalOf(c.usage) };
    out.push({ data: sse({ ...base, choices: [], usage }) });
  }
  out.push({ data: sse('[DONE]') });
  return out;
}

/** An OpenAI error object for a status (the fixture shapes). */
export function openAiErrorBody(status: number, message = `fake upstream error ${status}`): unknown {
  const type = status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message, type, param: null, code: status === 429 ? 'rate_limit_exceeded' : null } };
}

// ---------- Anthropic ----------

/** `message` object. */
export function anthropicJson(c: FakeContent): unknown {
  const content: unknown[] = [];
  const text = c.tokens.join('');
  if (text !== '') content.push({ type: 'text', text });
  c.toolCalls.forEach((call, i) => content.push({ type: 'tool_use', id: callId('anthropic', call, i), name: call.name, input: JSON.parse(call.arguments || '{}') as unknown }));
  return {
    id: 'msg_fake0001',
    type: 'message',
    role: 'assistant',
    model: c.model,
    content,
    stop_reason: c.toolCalls.length > 0 ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    ...(c.usage ? { usage: { input_tokens: c.usage.input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: c.usage.output } } : {}),
  };
}

/** Named SSE events from `message_start` to `message_stop`, a `ping` after the first block start. */
export function anthropicStream(c: FakeContent): WireChunk[] {
  const out: WireChunk[] = [];
  const usage = c.usage ? { usage: { input_tokens: c.usage.input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 } } : {};
  out.push({
    data: sseEvent('message_start', {
      type: 'message_start',
      message: { id: 'msg_fake0001', type: 'message', role: 'assistant', model: c.model, content: [], stop_reason: null, stop_sequence: null, ...usage },
    }),
  });
  let index = 0;
  let pinged = false;
  const ping = () => {
    if (!pinged) out.push({ data: 'event: ping\ndata: {"type": "ping"}\n\n' });
    pinged = true;
  };
  if (c.tokens.length > 0) {
    out.push({ data: sseEvent('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }) });
    ping();
    for (const text of c.tokens) {
      out.push({ data: sseEvent('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text } }), token: true });
    }
    out.push({ data: sseEvent('content_block_stop', { type: 'content_block_stop', index }) });
    index++;
  }
  c.toolCalls.forEach((call, i) => {
    const block = { type: 'tool_use', id: callId('anthropic', call, i), name: call.name, input: {} };
    out.push({ data: sseEvent('content_block_start', { type: 'content_block_start', index, content_block: block }) });
    ping();
    for (const partial_json of ['', ...fragmentsOf(call)]) {
      out.push({ data: sseEvent('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } }) });
    }
    out.push({ data: sseEvent('content_block_stop', { type: 'content_block_stop', index }) });
    index++;
  });
  out.push({
    data: sseEvent('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: c.toolCalls.length > 0 ? 'tool_use' : 'end_turn', stop_sequence: null },
      ...(c.usage ? { usage: { output_tokens: c.usage.output } } : {}),
    }),
  });
  out.push({ data: sseEvent('message_stop', { type: 'message_stop' }) });
  return out;
}

const ANTHROPIC_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/** An Anthropic error body for a status. */
export function anthropicErrorBody(status: number, message = `fake upstream error ${status}`): unknown {
  return { type: 'error', error: { type: ANTHROPIC_TYPES[status] ?? 'api_error', message }, request_id: 'req_fake0001' };
}

// ---------- Ollama ----------

function ollamaCalls(c: FakeContent): unknown[] {
  return c.toolCalls.map((call, i) => {
    const id = callId('ollama', call, i);
    return { ...(id ? { id } : {}), function: { index: i, name: call.name, arguments: JSON.parse(call.arguments || '{}') as unknown } };
  });
}

function ollamaDone(c: FakeContent): Record<string, unknown> {
  return {
    done: true,
    done_reason: 'stop',
    total_duration: 1000,
    load_duration: 10,
    ...(c.usage ? { prompt_eval_count: c.usage.input, prompt_eval_duration: 100, eval_count: c.usage.output, eval_duration: 800 } : {}),
  };
}

/** A `stream: false` response. */
export function ollamaJson(c: FakeContent): unknown {
  const calls = ollamaCalls(c);
  return {
    model: c.model,
    created_at: new Date().toISOString(),
    message: { role: 'assistant', content: c.tokens.join(''), ...(calls.length > 0 ? { tool_calls: calls } : {}) },
    ...ollamaDone(c),
  };
}

/** NDJSON lines: one per token, tool calls whole in one line, then the `done: true` line. */
export function ollamaStream(c: FakeContent): WireChunk[] {
  const line = (message: unknown, extra: Record<string, unknown> = { done: false }) =>
    `${JSON.stringify({ model: c.model, created_at: new Date().toISOString(), message, ...extra })}\n`;
  const out: WireChunk[] = c.tokens.map((content) => ({ data: line({ role: 'assistant', content }), token: true }));
  const calls = ollamaCalls(c);
  if (calls.length > 0) out.push({ data: line({ role: 'assistant', content: '', tool_calls: calls }) });
  out.push({ data: line({ role: 'assistant', content: '' }, ollamaDone(c)) });
  return out;
}

/** An Ollama error body (a string, not an object). */
export function ollamaErrorBody(status: number, message = `fake upstream error ${status}`): unknown {
  return { error: status === 404 ? "model 'fake' not found" : message };
}

// ---------- per protocol ----------

/** The default error body of a protocol for a status. */
export function errorBody(protocol: FakeProtocol, status: number): unknown {
  if (protocol === 'openai') return openAiErrorBody(status);
  if (protocol === 'anthropic') return anthropicErrorBody(status);
  return ollamaErrorBody(status);
}

/** The bytes of a mid-stream error in a protocol's framing. */
export function midStreamError(protocol: FakeProtocol, body?: unknown): string {
  if (protocol === 'openai') return sse(body ?? { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } });
  if (protocol === 'anthropic') return `event: error\ndata: ${JSON.stringify(body ?? { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`;
  return `${JSON.stringify(body ?? { error: 'an error was encountered while running the model' })}\n`;
}

/** Bytes that break the protocol's framing (invalid JSON in an event or line). */
export function malformedChunk(protocol: FakeProtocol): string {
  if (protocol === 'anthropic') return 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_de\n\n';
  if (protocol === 'openai') return 'data: {"id":"chatcmpl-fake0001","choices":[{"index":0,"delta":{"content":"x"}\n\n';
  return '{"model":"fake","message":{"role":"assistant","content":"x"},"done":fa\n';
}
