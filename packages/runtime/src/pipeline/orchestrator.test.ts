import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadPricing, type PricingTable } from '../cost/pricing.js';
import { AppError } from '../lib/app-error.js';
import { LocalConcurrencyLimiter } from '../limits/concurrency-limiter.js';
import { LocalRateLimiter } from '../limits/rate-limiter.js';
import { ProviderError } from '../providers/provider-error.js';
import type { ChatRequest, ChatResult, LlmProvider, StreamEvent } from '../providers/types.js';
import type { TenantStore } from '../storage/port.js';
import type { TenantContext } from '../tenants/context.js';
import type { TenantLease } from '../tenants/pool.js';
import { startTestRuntime, type TestRuntime } from '../test-support/harness.js';
import type { MessageInput } from './context.js';
import type { BudgetNotice, PipelineDeps } from './deps.js';
import { Pipeline } from './orchestrator.js';

const STAGES = ['normalize', 'route', 'load-memory', 'model-select', 'tool-resolve', 'execute', 'save-memory', 'track-cost', 'send-response'];

type Step = ChatResult | Error | ((request: ChatRequest) => Promise<ChatResult>);

/** A provider scripted in memory: each call takes the next step; every request is kept. */
function scriptedProvider(steps: Step[]): LlmProvider & { requests: ChatRequest[] } {
  const requests: ChatRequest[] = [];
  const next = async (request: ChatRequest): Promise<ChatResult> => {
    requests.push({ ...request, messages: [...request.messages] });
    const step = steps.shift() ?? reply('default');
    if (step instanceof Error) throw step;
    return typeof step === 'function' ? step(request) : step;
  };
  return {
    name: 'openai',
    requests,
    complete: next,
    async *stream(request): AsyncIterable<StreamEvent> {
      const result = await next(request);
      for (const word of result.text.split(/(?<= )/)) if (word) yield { type: 'text', texts: [word] };
      yield { type: 'finish', result };
    },
  };
}

function reply(text: string, usage = { inputTokens: 100, outputTokens: 20 }): ChatResult {
  return { text, toolCalls: [], finishReason: 'stop', usage };
}

function toolCall(name: string, args: string, id = 'call_1'): ChatResult {
  return { text: '', toolCalls: [{ id, name, arguments: args }], finishReason: 'tool_calls', usage: { inputTokens: 50, outputTokens: 5 } };
}

let rt: TestRuntime;
let lease: TenantLease;
let ctx: TenantContext;
let pricing: PricingTable;
let agentId: string;
let toolAgentId: string;
let observed: Array<[string, number]>;
let notices: BudgetNotice[];
let errors: string[];

function deps(provider: LlmProvider, over: Partial<PipelineDeps> = {}): PipelineDeps {
  return {
    providers: { resolve: () => ({ provider, endpoint: 'platform' }) },
    pricing,
    platformOpenAiFree: false,
    rateLimiter: new LocalRateLimiter(),
    concurrency: new LocalConcurrencyLimiter(),
    upstreamShare: { limiter: new LocalConcurrencyLimiter(), perTenant: 32 },
    notifier: { notify: (n) => void notices.push(n) },
    log: { error: (_o: unknown, msg: string) => void errors.push(msg), warn: (_o: unknown, msg: string) => void errors.push(msg) } as unknown as PipelineDeps['log'],
    now: Date.now,
    observeStage: (stage, seconds) => void observed.push([stage, seconds]),
    recordUsage: () => undefined,
    defaultMaxTokens: 1000,
    defaultContextTokens: 8192,
    maxToolIterations: 3,
    toolTimeoutMs: 200,
    ...over,
  };
}

const input = (over: Partial<MessageInput> = {}): MessageInput => ({ agentRef: agentId, content: 'What is 6 x 7?', source: 'api', ...over });
const run = (p: Pipeline, i = input(), stream = false, c = ctx) => p.run(c, i, { stream, signal: new AbortController().signal });
const budget = () => ctx.store.budget.get(new Date().toISOString().slice(0, 7));

beforeAll(async () => {
  rt = await startTestRuntime({ AGENTIK_LOG_LEVEL: 'silent' });
  const t = await rt.createTenant({ name: 'Pipe', plan: 'enterprise' });
  const headers = rt.operator(t.id);
  const mk = async (payload: object) => {
    const res = await rt.app.inject({ method: 'POST', url: '/api/agents', headers, payload });
    if (res.statusCode !== 201) throw new Error(res.body);
    return (res.json() as { id: string }).id;
  };
  agentId = await mk({ name: 'priced', systemPrompt: 'Be brief.', provider: 'openai', model: 'gpt-4o', maxTokens: 500 });
  toolAgentId = await mk({ name: 'tools', systemPrompt: '', provider: 'openai', model: 'gpt-4o', tools: ['calculator'] });
  lease = await rt.pool.acquire(t.id);
  const tenant = await rt.manager.getTenant(t.id);
  ctx = { tenant: tenant!, principal: { kind: 'operator', keyId: 'op' }, role: 'owner', store: lease.store };
  pricing = await loadPricing(undefined);
  await rt.app.inject({ method: 'PUT', url: '/api/budget', headers, payload: { monthlyLimitUsd: 1000, hard: true } });
});

afterAll(async () => {
  lease.release();
  await rt.close();
});

beforeEach(() => {
  observed = [];
  notices = [];
  errors = [];
});

describe('Pipeline', () => {
  it('has the nine stages in order', () => {
    expect(new Pipeline(deps(scriptedProvider([]))).stages.map(([name]) => name)).toEqual(STAGES);
  });

  it('times every stage, in order, and answers with the priced reply', async () => {
    const out = await run(new Pipeline(deps(scriptedProvider([reply('42')]))));
    expect(observed.map(([name]) => name)).toEqual(STAGES);
    expect(observed.every(([, s]) => s >= 0 && s < 5)).toBe(true);
    expect(out).toMatchObject({ agentName: 'priced', model: 'gpt-4o', message: { role: 'assistant', content: '42' }, aborted: false });
    // gpt-4o: 2.5 $/MTok in, 10 $/MTok out.
    expect(out.costUsd).toBeCloseTo((100 * 2.5 + 20 * 10) / 1e6, 12);
    expect((await budget()).reservedUsd).toBe(0);
  });

  it('streams text to the sink and reserves before the model is called', async () => {
    let reservedDuringCall = -1;
    const provider = scriptedProvider([
      async () => {
        reservedDuringCall = (await budget()).reservedUsd;
        return reply('six times seven is 42');
      },
    ]);
    const seen: string[] = [];
    const out = await new Pipeline(deps(provider)).run(ctx, input(), { stream: true, sink: { onText: (t) => void seen.push(t) }, signal: new AbortController().signal });
    expect(seen.join('')).toBe('six times seven is 42');
    expect(out.message.content).toBe('six times seven is 42');
    expect(reservedDuringCall).toBeGreaterThan(0);
    expect((await budget()).reservedUsd).toBe(0);
  });

  it('releases the reservation when the model call fails, times the failing stage, and writes nothing', async () => {
    const before = await ctx.store.conversations.list({ limit: 100 });
    const failure = new ProviderError({ provider: 'openai', message: 'down', code: 'connection_refused', retryable: true });
    const error = await run(new Pipeline(deps(scriptedProvider([failure])))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(observed.map(([name]) => name)).toEqual(STAGES.slice(0, 6));
    expect((await budget()).reservedUsd).toBe(0);
    expect((await ctx.store.conversations.list({ limit: 100 })).items).toHaveLength(before.items.length);
  });

  it('maps a provider that said no to PROVIDER_ERROR and passes other errors through', async () => {
    const rejected = new ProviderError({ provider: 'openai', message: 'bad', status: 400, code: 'invalid_request' });
    await expect(run(new Pipeline(deps(scriptedProvider([rejected]))))).rejects.toMatchObject({
      code: 'PROVIDER_ERROR',
      message: 'the openai provider rejected the request (bad request, HTTP 400)',
    });
    const plain = new Error('boom');
    await expect(run(new Pipeline(deps(scriptedProvider([plain]))))).rejects.toBe(plain);
    expect((await budget()).reservedUsd).toBe(0);
  });

  it('logs, and does not hide the first error, when the release itself fails', async () => {
    const store: TenantStore = {
      ...ctx.store,
      budget: { ...ctx.store.budget, settle: () => Promise.reject(new Error('disk gone')) },
    };
    const failure = new ProviderError({ provider: 'openai', message: 'down', status: 503 });
    await expect(run(new Pipeline(deps(scriptedProvider([failure]))), input(), false, { ...ctx, store })).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(errors).toEqual(['could not release a budget reservation']);
    // Put the stranded reservation back so later tests start from zero.
    const b = await budget();
    await ctx.store.budget.settle(b.reservedUsd, 0, b.period, Date.now());
  });

  it('refuses before the model when the rate limit is reached', async () => {
    const provider = scriptedProvider([]);
    const limited = deps(provider, { rateLimiter: { take: async () => ({ allowed: false, retryAfterSeconds: 12 }) } });
    const error = await run(new Pipeline(limited)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', headers: { 'retry-after': '12' } });
    expect(provider.requests).toHaveLength(0);
    expect(observed.map(([name]) => name)).toEqual(['normalize']);
  });

  it('starts its reads before the guard; a refused run whose reads fail leaves no unhandled rejection', async () => {
    const down = () => Promise.reject(new Error('database down'));
    const store = {
      ...ctx.store,
      agents: { ...ctx.store.agents, get: down, findByName: down },
      conversations: { ...ctx.store.conversations, get: down },
      messages: { ...ctx.store.messages, recent: down },
      providerCredentials: { ...ctx.store.providerCredentials, list: down },
      budget: { ...ctx.store.budget, get: down },
    } as TenantStore;
    const unhandled: unknown[] = [];
    const note = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', note);
    try {
      const limited = deps(scriptedProvider([]), { rateLimiter: { take: async () => ({ allowed: false, retryAfterSeconds: 3 }) } });
      const refused = await run(new Pipeline(limited), input({ conversationId: 'conversation_x' }), false, { ...ctx, store }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'RATE_LIMITED' });
      // Admitted, the first stage that needs a read gets its failure.
      const failed = await run(new Pipeline(deps(scriptedProvider([]))), input(), false, { ...ctx, store }).catch((e: unknown) => e);
      expect((failed as Error).message).toBe('database down');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', note);
    }
  });

  it('crosses thresholds once each and notifies', async () => {
    const b = await budget();
    // 0.0045 $ per reply at the usage below (within the call's bounds: the prompt's byte bound and
    // maxTokens 500); a limit just over 2 replies crosses 50 then 80 and 100.
    await ctx.store.budget.configure({ monthlyLimitUsd: b.spentUsd + 0.009, hard: false, thresholds: [50, 80, 100] }, b.period, Date.now());
    const usage = { inputTokens: 200, outputTokens: 400 };
    const provider = scriptedProvider([reply('a', usage), reply('b', usage), reply('c', usage)]);
    const p = new Pipeline(deps(provider));
    await run(p);
    expect(notices.map((n) => n.thresholdPct)).toEqual([50]);
    await run(p);
    await run(p);
    expect(notices.map((n) => n.thresholdPct)).toEqual([50, 80, 100]);
    expect(notices[0]).toMatchObject({ tenantId: ctx.tenant.id, tenantSlug: ctx.tenant.slug, period: b.period });
    await ctx.store.budget.configure({ monthlyLimitUsd: 1000, hard: true, thresholds: [50, 80, 100] }, b.period, Date.now());
  });
});

describe('the tool loop inside execute', () => {
  const toolInput = (content = 'compute') => input({ agentRef: toolAgentId, content });

  it('runs the calculator and sends its result back to the model', async () => {
    const provider = scriptedProvider([toolCall('calculator', '{"expression":"6*7"}'), reply('It is 42.')]);
    const out = await run(new Pipeline(deps(provider)), toolInput());
    expect(out.message.content).toBe('It is 42.');
    expect(provider.requests).toHaveLength(2);
    expect(provider.requests[0]!.tools?.map((t) => t.name)).toEqual(['calculator']);
    const followUp = provider.requests[1]!.messages;
    expect(followUp.at(-2)).toMatchObject({ role: 'assistant', toolCalls: [{ id: 'call_1', name: 'calculator' }] });
    expect(followUp.at(-1)).toEqual({ role: 'tool', toolCallId: 'call_1', content: '{"expression":"6*7","result":42}', isError: false });
    // Both calls are billed: 150 in, 25 out.
    expect(out.usage).toEqual({ inputTokens: 150, outputTokens: 25 });
  });

  it.each([
    ['an unknown tool', toolCall('shell', '{"cmd":"rm -rf /"}'), 'unknown tool shell'],
    ['arguments that are not JSON', toolCall('calculator', '{expression:'), 'arguments are not valid JSON'],
    ['arguments the tool refuses', toolCall('calculator', '{"expression":"1/0"}'), 'result is not a finite number'],
    ['empty arguments', toolCall('calculator', '  '), 'expression must be a string'],
  ])('tells the model about %s as a tool error', async (_what, first, message) => {
    const provider = scriptedProvider([first, reply('sorry')]);
    await run(new Pipeline(deps(provider)), toolInput());
    expect(provider.requests[1]!.messages.at(-1)).toMatchObject({ role: 'tool', content: message, isError: true });
  });

  it('stops after maxToolIterations model calls', async () => {
    const provider = scriptedProvider([
      toolCall('calculator', '{"expression":"1"}'),
      toolCall('calculator', '{"expression":"2"}'),
      toolCall('calculator', '{"expression":"3"}'),
      toolCall('calculator', '{"expression":"4"}'),
    ]);
    const out = await run(new Pipeline(deps(provider)), toolInput());
    expect(provider.requests).toHaveLength(3);
    expect(out.finishReason).toBe('tool_calls');
    expect((await budget()).reservedUsd).toBe(0);
  });

  it('bounds a tool in time and hides an internal tool failure', async () => {
    const { BUILT_IN_TOOLS } = await import('../tools/registry.js');
    const calc = BUILT_IN_TOOLS.get('calculator')!;
    const original = calc.run;
    try {
      calc.run = () => new Promise(() => {});
      const slow = scriptedProvider([toolCall('calculator', '{"expression":"1"}'), reply('late')]);
      await run(new Pipeline(deps(slow, { toolTimeoutMs: 20 })), toolInput());
      expect(slow.requests[1]!.messages.at(-1)).toMatchObject({ content: 'tool timed out', isError: true });
      calc.run = () => Promise.reject(new Error('secret internals'));
      const broken = scriptedProvider([toolCall('calculator', '{"expression":"1"}'), reply('ok')]);
      await run(new Pipeline(deps(broken)), toolInput());
      expect(broken.requests[1]!.messages.at(-1)).toMatchObject({ content: 'the tool failed', isError: true });
      expect(errors).toContain('tool failed');
    } finally {
      calc.run = original;
    }
  });
});

describe('the context window of load-memory', () => {
  let smallId: string;
  beforeAll(async () => {
    const res = await rt.app.inject({
      method: 'POST',
      url: '/api/agents',
      headers: rt.operator(ctx.tenant.id),
      payload: { name: 'small-window', systemPrompt: 'Be brief.', provider: 'openai', model: 'gpt-4o', maxTokens: 4000, contextTokens: 1000 },
    });
    smallId = (res.json() as { id: string }).id;
  });

  it('asks for at most half the context budget as output, and reserves on that bound', async () => {
    const provider = scriptedProvider([reply('ok')]);
    await run(new Pipeline(deps(provider)), input({ agentRef: smallId }));
    expect(provider.requests[0]!.maxTokens).toBe(500);
  });

  it("counts a client's own system messages against the context budget", async () => {
    const provider = scriptedProvider([reply('ok')]);
    // About 600 tokens of system text in a window of 1000 with 500 kept for the reply.
    const history = [{ role: 'system' as const, content: 'rule '.repeat(480) }];
    const error = await run(new Pipeline(deps(provider)), input({ agentRef: smallId, source: 'openai', history })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(provider.requests).toHaveLength(0);
    // Without it, the same turn fits.
    await run(new Pipeline(deps(provider)), input({ agentRef: smallId, source: 'openai', history: [] }));
    expect(provider.requests).toHaveLength(1);
  });
});
