import { AppError } from '../../lib/app-error.js';
import { canReserve } from '../../cost/budget-rules.js';
import { costUsd, worstCaseUsd } from '../../cost/calculator.js';
import { estimateTokens } from '../../memory/tokens.js';
import { ProviderError } from '../../providers/provider-error.js';
import type { ChatMessage, ChatRequest, ChatResult, ToolCall, Usage } from '../../providers/types.js';
import type { BudgetRecord } from '../../storage/records.js';
import type { Tool } from '../../tools/registry.js';
import { ToolInputError } from '../../tools/registry.js';
import { need, type PipelineContext } from '../context.js';
import type { PipelineDeps } from '../deps.js';
import { budgetPeriod } from '../../cost/budget-service.js';
import type { Stage } from './stage.js';

/**
 * An upper bound on the prompt's tokens: every tokenizer in use makes at least one byte per
 * token, so UTF-8 bytes (plus a per-message overhead) can only overestimate. Reserving on it
 * keeps a hard budget hard even when our estimate and the provider's count differ.
 */
export function promptTokenBound(messages: ChatMessage[], tools: Tool[]): number {
  let bytes = 0;
  for (const m of messages) {
    bytes += Buffer.byteLength(m.content, 'utf8') + 8;
    for (const call of m.toolCalls ?? []) bytes += Buffer.byteLength(call.name + call.arguments, 'utf8') + 8;
  }
  for (const t of tools) bytes += Buffer.byteLength(JSON.stringify(t.spec), 'utf8');
  return bytes + 16;
}

/** A hard limit already reached: spent and reserved money cover it. */
function exhausted(b: BudgetRecord): boolean {
  return !canReserve(b.monthlyLimitUsd ?? undefined, b.hard, b.spentUsd, b.reservedUsd, 0);
}

/** Reserves the worst case of one more model call, or refuses with BUDGET_EXCEEDED. */
async function reserve(ctx: PipelineContext, deps: PipelineDeps, messages: ChatMessage[], tools: Tool[]) {
  const price = need(ctx.price, 'price');
  const amount = worstCaseUsd(price, promptTokenBound(messages, tools), need(ctx.maxTokens, 'maxTokens'));
  const at = deps.now();
  const period = budgetPeriod(at);
  const { budget } = ctx.tenant.store;
  // A free call needs no reservation (and so takes no row lock); it is still refused once a hard
  // limit has been reached.
  const allowed =
    amount === 0 ? !exhausted(await budget.get(period)) : await budget.reserve(amount, period, at);
  if (!allowed) throw new AppError('BUDGET_EXCEEDED', 'the tenant has reached its hard monthly budget');
  ctx.reservedUsd += amount;
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
    if (event.type === 'text') onText(event.text);
    else result = event.result;
  }
  return need(result, 'stream result');
}

/**
 * Stage 6: reserve the worst case against the budget (a tenant over a hard limit never reaches
 * the model), then run the model, and the tool-call loop when it asks for tools, within the
 * iteration bound. A caller that went away aborts the upstream call; what was generated is kept.
 */
export const execute: Stage = async (ctx, deps) => {
  const agent = need(ctx.agent, 'agent');
  const tools = need(ctx.tools, 'tools');
  const messages = [...need(ctx.messages, 'messages')];
  const started = deps.now();
  let text = '';
  let usage: Usage | undefined;
  let finishReason: ChatResult['finishReason'] = 'unknown';
  const stream = ctx.stream;
  const onText = (t: string) => {
    text += t;
    ctx.sink.onText(t);
  };
  try {
    for (let i = 0; i < deps.maxToolIterations; i++) {
      await reserve(ctx, deps, messages, tools);
      const iterationText = text;
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
      if (!stream) text += result.text;
      else if (text === iterationText && result.text !== '') onText(result.text);
      usage = addUsage(usage, result.usage);
      finishReason = result.finishReason;
      const wantsTools = result.finishReason === 'tool_calls' && result.toolCalls.length > 0 && tools.length > 0;
      if (!wantsTools || i === deps.maxToolIterations - 1) break;
      messages.push({ role: 'assistant', content: result.text, toolCalls: result.toolCalls });
      for (const toolCall of result.toolCalls) {
        messages.push(await runTool(tools.find((t) => t.spec.name === toolCall.name), toolCall, deps));
      }
    }
  } catch (error) {
    if (!(error instanceof ProviderError) || !ctx.signal.aborted) {
      throw mapProviderError(error);
    }
    // The caller went away: keep what was generated and what it cost.
    if (!stream && error.partial) text += error.partial.text;
    usage = addUsage(usage, error.partial?.usage ?? { inputTokens: undefined, outputTokens: undefined });
    ctx.result = finish(ctx, messages, text, usage, 'unknown', 'aborted', deps.now() - started);
    return;
  }
  ctx.result = finish(ctx, messages, text, usage, finishReason, 'ok', deps.now() - started);
};

function finish(
  ctx: PipelineContext,
  messages: ChatMessage[],
  text: string,
  usage: Usage | undefined,
  finishReason: ChatResult['finishReason'],
  outcome: 'ok' | 'aborted',
  latencyMs: number,
) {
  let input = usage?.inputTokens;
  let output = usage?.outputTokens;
  let estimated = false;
  if (outcome === 'aborted') {
    // An aborted stream has no usage block: count what we know and estimate the rest.
    if (input === undefined) {
      input = messages.reduce((n, m) => n + estimateTokens(m.content), 0);
      estimated = true;
    }
    if (output === undefined) {
      output = estimateTokens(text);
      estimated = true;
    }
  }
  const price = need(ctx.price, 'price');
  ctx.costUsd = costUsd(price, { inputTokens: input, outputTokens: output }) ?? null;
  return {
    text,
    usage: { inputTokens: input ?? null, outputTokens: output ?? null },
    usageEstimated: estimated,
    finishReason,
    outcome,
    latencyMs,
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
