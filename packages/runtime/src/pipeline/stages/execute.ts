import { AppError } from '../../lib/app-error.js';
import { costUsd, worstCaseUsd } from '../../cost/calculator.js';
import { estimateMessageTokens, estimateTokens } from '../../memory/tokens.js';
import { ProviderError } from '../../providers/provider-error.js';
import type { ChatMessage, ChatRequest, ChatResult, ToolCall, Usage } from '../../providers/types.js';
import type { Tool } from '../../tools/registry.js';
import { ToolInputError } from '../../tools/registry.js';
import { need, type ExecutionResult, type PipelineContext, type UsageAnomaly } from '../context.js';
import { checkUsage, describeUsage, worstOf, type UsageBound } from '../usage-check.js';
import type { PipelineDeps } from '../deps.js';
import type { Stage } from './stage.js';

/**
 * Prompt tokens a provider adds on its side beyond the text we send: chat-template markers, and
 * the hidden instructions that come with tools (Anthropic documents about 350 tokens for its tool
 * use prompt). Part of the bound, so an honest count is never taken for an inflated one.
 */
const PROMPT_OVERHEAD_TOKENS = 256;
const TOOLS_OVERHEAD_TOKENS = 512;

/**
 * An upper bound on the prompt's tokens: every tokenizer in use makes at least one byte per
 * token, so UTF-8 bytes (plus a per-message and a provider-side overhead) can only overestimate.
 * Reserving on it keeps a hard budget hard even when our estimate and the provider's count
 * differ, and a reported count above it is booked at it (see `checkUsage`).
 */
export function promptTokenBound(messages: ChatMessage[], tools: Tool[]): number {
  let bytes = 0;
  for (const m of messages) {
    bytes += Buffer.byteLength(m.content, 'utf8') + 8;
    for (const call of m.toolCalls ?? []) bytes += Buffer.byteLength(call.name + call.arguments, 'utf8') + 8;
  }
  for (const t of tools) bytes += Buffer.byteLength(JSON.stringify(t.spec), 'utf8');
  return bytes + PROMPT_OVERHEAD_TOKENS + (tools.length > 0 ? TOOLS_OVERHEAD_TOKENS : 0);
}

/**
 * Reserves the worst case of one more model call against the run's budget reservation, or refuses
 * with BUDGET_EXCEEDED. Returns the token bounds the reservation assumed: the most this call may
 * be billed for.
 */
async function reserve(ctx: PipelineContext, messages: ChatMessage[], tools: Tool[]): Promise<UsageBound> {
  const price = need(ctx.price, 'price');
  const bound = { input: promptTokenBound(messages, tools), output: need(ctx.maxTokens, 'maxTokens') };
  await ctx.reservation.reserve(worstCaseUsd(price, bound.input, bound.output), bound.output);
  return bound;
}

function addUsage(total: Usage | undefined, next: Usage): Usage {
  if (!total) return next;
  const add = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : a + b);
  return { inputTokens: add(total.inputTokens, next.inputTokens), outputTokens: add(total.outputTokens, next.outputTokens) };
}

async function runTool(tool: Tool | undefined, call: ToolCall, deps: PipelineDeps): Promise<ChatMessage> {
  const reply = (content: string, isError: boolean): ChatMessage => ({ role: 'tool', toolCallId: call.id, content, isError });
  if (!tool) return reply(`unknown tool ${call.name.slice(0, 64)}`, true);
  let args: unknown;
  try {
    args = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
  } catch {
    return reply('arguments are not valid JSON', true);
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ToolInputError('tool timed out')), deps.toolTimeoutMs);
  });
  try {
    return reply(await Promise.race([tool.run(args, deps.now), timeout]), false);
  } catch (error) {
    if (error instanceof ToolInputError) return reply(error.message, true);
    deps.log.error({ err: error, tool: call.name }, 'tool failed');
    return reply('the tool failed', true);
  } finally {
    clearTimeout(timer);
  }
}

/** One model call, streamed to the sink when the caller streams. */
async function call(ctx: PipelineContext, request: ChatRequest, streaming: boolean, onText: (t: string) => void) {
  const provider = need(ctx.provider, 'provider');
  if (!streaming) return provider.complete(request);
  let result: ChatResult | undefined;
  for await (const event of provider.stream(request)) {
    if (event.type === 'text') for (const text of event.texts) onText(text);
    else result = event.result;
  }
  return need(result, 'stream result');
}

/** The call in flight: what it reserved, and where its text starts in the run's text. */
interface InFlight {
  bound: UsageBound;
  textBefore: number;
}

/** What the model calls of one run have produced so far. */
export interface Progress {
  /** The reply's text, over all calls. */
  text: string;
  /** The checked usage of the calls that completed, summed; undefined before the first. */
  usage: Usage | undefined;
  anomalies: UsageAnomaly[];
  /** The call under way, until it completes. */
  inFlight: InFlight | undefined;
}

/** Books reported usage at the call's bound when it is out of bounds, and says so in the log. */
function checkedUsage(ctx: PipelineContext, deps: PipelineDeps, progress: Progress) {
  const agent = need(ctx.agent, 'agent');
  return (reported: Usage, bound: UsageBound): Usage => {
    const check = checkUsage(reported, bound);
    if (check.anomaly) {
      progress.anomalies.push(check.anomaly);
      deps.log.warn(
        { tenantId: ctx.tenant.tenant.id, agentId: agent.id, provider: agent.provider, model: agent.model, reported: describeUsage(reported), bound, anomaly: check.anomaly },
        'the provider reported token usage out of bounds; the call is booked at its bound',
      );
    }
    return check.usage;
  };
}

/**
 * The provider call: reserves the worst case of one model call against the budget (a tenant over
 * a hard limit never reaches the model), then calls the model with `messages`, streaming its text
 * to the sink when the caller streams, and adds its text and checked usage to `progress`. While
 * the call is under way `progress.inFlight` holds what it reserved, so a call that breaks off can
 * still be booked.
 */
export async function callModel(
  ctx: PipelineContext,
  deps: PipelineDeps,
  messages: ChatMessage[],
  tools: Tool[],
  progress: Progress,
): Promise<ChatResult> {
  const agent = need(ctx.agent, 'agent');
  const stream = ctx.stream;
  const onText = (raw: string) => {
    const t = storableText(raw);
    progress.text += t;
    ctx.sink.onText(t);
  };
  const bound = await reserve(ctx, messages, tools);
  const inFlight = { bound, textBefore: progress.text.length };
  progress.inFlight = inFlight;
  const result = await call(
    ctx,
    {
      model: agent.model,
      messages,
      ...(agent.temperature === null ? {} : { temperature: agent.temperature }),
      maxTokens: need(ctx.maxTokens, 'maxTokens'),
      ...(tools.length > 0 ? { tools: tools.map((t) => t.spec) } : {}),
      signal: ctx.signal,
    },
    stream,
    onText,
  );
  if (!stream) progress.text += storableText(result.text);
  else if (progress.text.length === inFlight.textBefore && result.text !== '') onText(result.text);
  progress.usage = addUsage(progress.usage, checkedUsage(ctx, deps, progress)(result.usage, bound));
  progress.inFlight = undefined;
  return result;
}

/** A new, empty record of a run's model calls. */
export function newProgress(): Progress {
  return { text: '', usage: undefined, anomalies: [], inFlight: undefined };
}

/**
 * Stage 6: the tool loop. Calls the model (`callModel`), and while it asks for tools, runs them and
 * calls it again with their results, within the iteration bound. A caller that went away aborts
 * the upstream call; what was generated is kept.
 *
 * Every call that produced something is booked, whatever ends the run: when a call fails after
 * output or usage came back (a stream broken off mid-reply), or a later call of the tool loop
 * fails (or is refused by the budget) after earlier ones completed, `ctx.result` is set with
 * outcome `failed` before the mapped error is thrown, so the orchestrator books it; the client
 * still gets the error. Only a run none of whose calls produced anything releases its reservation.
 */
export const execute: Stage = async (ctx, deps) => {
  const agent = need(ctx.agent, 'agent');
  const tools = need(ctx.tools, 'tools');
  const messages = [...need(ctx.messages, 'messages')];
  const started = deps.now();
  const progress = newProgress();
  let finishReason: ChatResult['finishReason'] = 'unknown';
  try {
    for (let i = 0; i < deps.maxToolIterations; i++) {
      const result = await callModel(ctx, deps, messages, tools, progress);
      finishReason = result.finishReason;
      const wantsTools = result.finishReason === 'tool_calls' && result.toolCalls.length > 0 && tools.length > 0;
      if (!wantsTools || i === deps.maxToolIterations - 1) break;
      messages.push({ role: 'assistant', content: result.text, toolCalls: result.toolCalls });
      for (const toolCall of result.toolCalls) {
        messages.push(await runTool(tools.find((t) => t.spec.name === toolCall.name), toolCall, deps));
      }
    }
  } catch (error) {
    const aborted = error instanceof ProviderError && ctx.signal.aborted;
    const partial = error instanceof ProviderError ? error.partial : undefined;
    if (!ctx.stream && partial) progress.text += storableText(partial.text);
    const { text, inFlight } = progress;
    const broken = inFlight && brokenCallUsage(error, messages, text.slice(inFlight.textBefore), inFlight.bound, aborted, checkedUsage(ctx, deps, progress));
    const total = broken ? addUsage(progress.usage, broken.usage) : progress.usage;
    const latencyMs = deps.now() - started;
    if (aborted) {
      // The caller went away: keep what was generated and what it cost, even when nothing came back.
      ctx.result = finish(ctx, text, total, broken?.estimated ?? false, 'unknown', 'aborted', latencyMs, worstOf(progress.anomalies));
      return;
    }
    if (total) {
      ctx.result = finish(ctx, text, total, broken?.estimated ?? false, 'unknown', 'failed', latencyMs, worstOf(progress.anomalies));
      deps.log.warn(
        { tenantId: ctx.tenant.tenant.id, agentId: agent.id, provider: agent.provider, model: agent.model, err: error, costUsd: ctx.costUsd },
        'a run failed after its model produced output; what it produced is booked as failed',
      );
    }
    throw mapProviderError(error);
  }
  ctx.result = finish(ctx, progress.text, progress.usage, false, finishReason, 'ok', deps.now() - started, worstOf(progress.anomalies));
};

/**
 * The usage of a call that did not complete, or undefined when it produced nothing (no text, no
 * tool call, no usage, no 2xx answer: it failed before any byte of a reply came back) and was not
 * aborted. Counts the provider reported are checked against the call's bound; a missing one is
 * estimated (the prompt it was sent, the text and tool calls it streamed) and capped by the bound.
 * A non-streaming answer that came back but could not be read was generated whole, for all we
 * know: its output is booked at the bound.
 */
function brokenCallUsage(
  error: unknown,
  sent: ChatMessage[],
  streamed: string,
  bound: UsageBound,
  aborted: boolean,
  checked: (reported: Usage, bound: UsageBound) => Usage,
): { usage: Usage; estimated: boolean } | undefined {
  const partial = error instanceof ProviderError ? error.partial : undefined;
  const answered = error instanceof ProviderError && error.answered;
  const reported = partial?.usage ?? { inputTokens: undefined, outputTokens: undefined };
  const toolCalls = partial?.toolCalls ?? [];
  const produced =
    answered || streamed !== '' || toolCalls.length > 0 || reported.inputTokens !== undefined || reported.outputTokens !== undefined;
  if (!produced && !aborted) return undefined;
  const usage = checked(reported, bound);
  let estimated = false;
  if (usage.inputTokens === undefined) {
    usage.inputTokens = Math.min(bound.input, sent.reduce((n, m) => n + estimateMessageTokens(m.content) + toolCallTokens(m.toolCalls ?? []), 0));
    estimated = true;
  }
  if (usage.outputTokens === undefined) {
    usage.outputTokens = answered && !partial ? bound.output : Math.min(bound.output, estimateTokens(streamed) + toolCallTokens(toolCalls));
    estimated = true;
  }
  return { usage, estimated };
}

function toolCallTokens(calls: ToolCall[]): number {
  return calls.reduce((n, c) => n + estimateTokens(c.name + c.arguments), 0);
}

/**
 * A reply's text as it is streamed, returned and stored: each NUL becomes U+FFFD (the replacement
 * character), because Postgres text cannot hold NUL and both backends must store the same thing.
 */
export function storableText(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

function finish(
  ctx: PipelineContext,
  text: string,
  usage: Usage | undefined,
  usageEstimated: boolean,
  finishReason: ChatResult['finishReason'],
  outcome: ExecutionResult['outcome'],
  latencyMs: number,
  usageAnomaly: UsageAnomaly | null,
): ExecutionResult {
  const input = usage?.inputTokens;
  const output = usage?.outputTokens;
  ctx.costUsd = costUsd(need(ctx.price, 'price'), { inputTokens: input, outputTokens: output }) ?? null;
  return {
    text,
    usage: { inputTokens: input ?? null, outputTokens: output ?? null },
    usageEstimated,
    finishReason,
    outcome,
    latencyMs,
    usageAnomaly,
  };
}

/** Provider failures become the API's stable codes; anything else passes through. */
export function mapProviderError(error: unknown): unknown {
  if (!(error instanceof ProviderError)) return error;
  // Fixed words per class and at most a status number: nothing the upstream sent (bodies, codes)
  // is echoed, and a tenant URL cannot tell a refused port from an unreachable host.
  if (error.kind === 'rejected') {
    return new AppError('PROVIDER_ERROR', `the ${error.provider} provider rejected the request (${rejectionClass(error.status)})`);
  }
  return new AppError('PROVIDER_UNAVAILABLE', `the ${error.provider} provider is unavailable (${unavailableClass(error)})`);
}

const REJECTIONS: Record<number, string> = {
  400: 'bad request',
  401: 'credentials refused',
  403: 'credentials refused',
  404: 'model or endpoint not found',
  413: 'request too large',
  422: 'request not accepted',
  429: 'rate limited upstream',
};

function httpStatus(status: number | undefined): string | undefined {
  return status !== undefined && Number.isInteger(status) && status >= 100 && status <= 599 ? `HTTP ${status}` : undefined;
}

function rejectionClass(status: number | undefined): string {
  const http = httpStatus(status);
  const what = status === undefined ? undefined : REJECTIONS[status];
  return [what, http].filter(Boolean).join(', ') || 'rejected';
}

const UNAVAILABLE: Record<string, string> = {
  timeout: 'timed out',
  connect_timeout: 'timed out',
  body_timeout: 'timed out',
  connection_refused: 'could not connect',
  host_not_found: 'could not connect',
  host_unreachable: 'could not connect',
  connection_failed: 'could not connect',
  connection_reset: 'connection interrupted',
  address_not_allowed: 'address not allowed',
  malformed_response: 'malformed response',
  stream_truncated: 'connection interrupted',
  aborted: 'aborted',
};

function unavailableClass(error: ProviderError): string {
  // Our own transport codes only: an upstream's code (which comes with a status, or inside a
  // mid-stream error) is not looked up, so nothing of it reaches the message.
  const known = error.code !== undefined && error.status === undefined && Object.hasOwn(UNAVAILABLE, error.code) ? UNAVAILABLE[error.code] : undefined;
  return known ?? (httpStatus(error.status) ? `upstream error, ${httpStatus(error.status)}` : 'upstream error');
}
