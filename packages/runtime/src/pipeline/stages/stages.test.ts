import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadPricing, type PricingTable } from '../../cost/pricing.js';
import { LocalConcurrencyLimiter } from '../../limits/concurrency-limiter.js';
import { LocalRateLimiter } from '../../limits/rate-limiter.js';
import type { ChatRequest, ChatResult, LlmProvider, StreamEvent } from '../../providers/types.js';
import type { TenantStore } from '../../storage/port.js';
import type { TenantContext } from '../../tenants/context.js';
import type { TenantLease } from '../../tenants/pool.js';
import { silentLog, startTestRuntime, type TestRuntime } from '../../test-support/harness.js';
import { startRunReads } from '../run-reads.js';
import { BudgetReservation } from '../budget-reservation.js';
import type { MessageInput, PipelineContext } from '../context.js';
import type { PipelineDeps } from '../deps.js';
import type { ModelUsage } from '../../observability/metrics.js';
import { callModel, execute, newProgress } from './execute.js';
import { loadMemory } from './load-memory.js';
import { modelSelect } from './model-select.js';
import { normalize } from './normalize.js';
import { route } from './route.js';
import { saveMemory } from './save-memory.js';
import { sendResponse } from './send-response.js';
import type { Stage } from './stage.js';
import { toolResolve } from './tool-resolve.js';
import { trackCost } from './track-cost.js';

/** Each stage called on its own, over a context the stages before it filled in. */

const answer = (text: string, over: Partial<ChatResult> = {}): ChatResult => ({
  text,
  toolCalls: [],
  finishReason: 'stop',
  usage: { inputTokens: 100, outputTokens: 20 },
  ...over,
});

/** Answers each request with the next of `replies` (streamed as one text event); keeps the requests. */
function provider(replies: ChatResult[], origin?: string): LlmProvider & { requests: ChatRequest[] } {
  const requests: ChatRequest[] = [];
  const next = async (request: ChatRequest) => {
    requests.push(request);
    return replies.shift() ?? answer('default');
  };
  return {
    name: 'openai',
    requests,
    ...(origin === undefined ? {} : { origin }),
    complete: next,
    async *stream(request): AsyncIterable<StreamEvent> {
      const result = await next(request);
      yield { type: 'text', texts: [result.text] };
      yield { type: 'finish', result };
    },
  };
}

let rt: TestRuntime;
let lease: TenantLease;
let tenant: TenantContext;
let pricing: PricingTable;
let agentId: string;
let toolAgentId: string;
let usages: ModelUsage[];

function deps(llm: LlmProvider = provider([]), over: Partial<PipelineDeps> = {}): PipelineDeps {
  return {
    providers: { resolve: () => ({ provider: llm, endpoint: 'platform' }) },
    pricing,
    platformOpenAiFree: false,
    rateLimiter: new LocalRateLimiter(),
    concurrency: new LocalConcurrencyLimiter(),
    upstreamShare: { limiter: new LocalConcurrencyLimiter(), perTenant: 2 },
    notifier: { notify() {} },
    log: silentLog,
    now: Date.now,
    observeStage() {},
    recordUsage: (u) => void usages.push(u),
    defaultMaxTokens: 1000,
    defaultContextTokens: 8192,
    maxToolIterations: 3,
    toolTimeoutMs: 200,
    ...over,
  };
}

function context(input: Partial<MessageInput> = {}, stream = false, store = tenant.store): PipelineContext {
  const scoped = { ...tenant, store };
  const full: MessageInput = { agentRef: agentId, content: 'What is 6 x 7?', source: 'api', ...input };
  return {
    tenant: scoped,
    input: full,
    signal: new AbortController().signal,
    sink: { onText() {} },
    stream,
    startedAt: Date.now(),
    reservation: new BudgetReservation(store, Date.now, silentLog, tenant.tenant.id),
    reads: startRunReads(scoped, full, Date.now()),
    leases: [],
  };
}

const ORDER: Stage[] = [normalize, route, loadMemory, modelSelect, toolResolve, execute, saveMemory, trackCost, sendResponse];

/** A context filled in by every stage before `stage`. */
async function before(stage: Stage, d: PipelineDeps, input: Partial<MessageInput> = {}, stream = false, store = tenant.store): Promise<PipelineContext> {
  const ctx = context(input, stream, store);
  for (const s of ORDER.slice(0, ORDER.indexOf(stage))) await s(ctx, d);
  return ctx;
}

const budget = () => tenant.store.budget.get(new Date().toISOString().slice(0, 7));

beforeAll(async () => {
  rt = await startTestRuntime({ AGENTIK_LOG_LEVEL: 'silent' });
  const t = await rt.createTenant({ name: 'Stages', plan: 'enterprise' });
  const headers = rt.operator(t.id);
  const mk = async (payload: object) => {
    const res = await rt.app.inject({ method: 'POST', url: '/api/agents', headers, payload });
    if (res.statusCode !== 201) throw new Error(res.body);
    return (res.json() as { id: string }).id;
  };
  agentId = await mk({ name: 'priced', systemPrompt: 'Be brief.', provider: 'openai', model: 'gpt-4o', maxTokens: 500, contextTokens: 800 });
  toolAgentId = await mk({ name: 'tools', systemPrompt: '', provider: 'openai', model: 'gpt-4o', tools: ['calculator'] });
  lease = await rt.pool.acquire(t.id);
  const record = await rt.manager.getTenant(t.id);
  tenant = { tenant: record!, principal: { kind: 'operator', keyId: 'op' }, role: 'owner', store: lease.store };
  pricing = await loadPricing(undefined);
});

afterAll(async () => {
  lease.release();
  await rt.close();
});

beforeEach(() => {
  usages = [];
});

describe('normalize', () => {
  it('composes the text to NFC', async () => {
    const ctx = context({ content: 'cafe\u0301' });
    await normalize(ctx, deps());
    expect(ctx.content).toBe('caf\u00e9');
  });

  it('refuses a blank turn', async () => {
    await expect(normalize(context({ content: ' \n\t' }), deps())).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('route', () => {
  it('finds the agent by id, or by name for the OpenAI-compatible API, and starts a conversation', async () => {
    const byId = context();
    await route(byId, deps());
    expect(byId.agent?.id).toBe(agentId);
    expect(byId.conversation).toMatchObject({ isNew: true });
    const byName = context({ agentRef: 'priced', source: 'openai' });
    await route(byName, deps());
    expect(byName.agent?.id).toBe(agentId);
  });

  it('reads an unknown agent or conversation as not found', async () => {
    await expect(route(context({ agentRef: 'nobody' }), deps())).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(route(context({ conversationId: 'conv_missing' }), deps())).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('load-memory', () => {
  it('sends the system prompt and the new turn, and bounds the output by half the context budget', async () => {
    const ctx = await before(loadMemory, deps());
    await loadMemory(ctx, deps());
    expect(ctx.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is 6 x 7?' },
    ]);
    expect(ctx.maxTokens).toBe(400);
  });

  it("uses the caller's own history instead of stored memory", async () => {
    const ctx = await before(loadMemory, deps(), {
      history: [
        { role: 'user', content: 'Hi.' },
        { role: 'assistant', content: 'Hello.' },
      ],
    });
    await loadMemory(ctx, deps());
    expect(ctx.messages?.map((m) => m.content)).toEqual(['Be brief.', 'Hi.', 'Hello.', 'What is 6 x 7?']);
  });
});

describe('model-select', () => {
  it("picks the provider and the call's price", async () => {
    const llm = provider([]);
    const ctx = await before(modelSelect, deps(llm));
    await modelSelect(ctx, deps(llm));
    expect(ctx.provider).toBe(llm);
    expect(ctx.price).toBeDefined();
  });

  it("holds one of the tenant's slots to the provider's server, and refuses past its share", async () => {
    const d = deps(provider([], 'http://upstream.test'), { upstreamShare: { limiter: new LocalConcurrencyLimiter(), perTenant: 1 } });
    const first = await before(modelSelect, d);
    await modelSelect(first, d);
    expect(first.leases).toHaveLength(1);
    const second = await before(modelSelect, d);
    await expect(modelSelect(second, d)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    first.leases[0]!.release();
  });
});

describe('tool-resolve', () => {
  it("resolves the agent's built-in tools", async () => {
    const ctx = await before(toolResolve, deps(), { agentRef: toolAgentId });
    await toolResolve(ctx, deps());
    expect(ctx.tools?.map((t) => t.spec.name)).toEqual(['calculator']);
    const none = await before(toolResolve, deps());
    await toolResolve(none, deps());
    expect(none.tools).toEqual([]);
  });
});

describe('execute', () => {
  it('callModel reserves before the provider is called and adds the reply to the progress', async () => {
    let reservedDuringCall = 0;
    const llm = provider([]);
    llm.complete = async (request) => {
      reservedDuringCall = (await budget()).reservedUsd;
      llm.requests.push(request);
      return answer('42');
    };
    const d = deps(llm);
    const ctx = await before(execute, d);
    const progress = newProgress();
    const result = await callModel(ctx, d, ctx.messages!, [], progress);
    expect(result.text).toBe('42');
    expect(progress).toMatchObject({ text: '42', usage: { inputTokens: 100, outputTokens: 20 }, inFlight: undefined });
    expect(reservedDuringCall).toBeGreaterThan(0);
    expect(ctx.reservation.reservedUsd).toBeCloseTo(reservedDuringCall, 12);
    await ctx.reservation.release();
  });

  it('runs the tool loop: a tool call, its result sent back, then the answer; usage summed and priced', async () => {
    const llm = provider([
      answer('', { finishReason: 'tool_calls', toolCalls: [{ id: 'c1', name: 'calculator', arguments: '{"expression":"6*7"}' }], usage: { inputTokens: 50, outputTokens: 5 } }),
      answer('It is 42.'),
    ]);
    const d = deps(llm);
    const seen: string[] = [];
    const ctx = await before(execute, d, { agentRef: toolAgentId }, true);
    const streamed = { ...ctx, sink: { onText: (t: string) => void seen.push(t) } };
    await execute(streamed, d);
    expect(llm.requests).toHaveLength(2);
    expect(llm.requests[1]!.messages.at(-1)).toMatchObject({ role: 'tool', toolCallId: 'c1', isError: false });
    expect(streamed.result).toMatchObject({ text: 'It is 42.', outcome: 'ok', usage: { inputTokens: 150, outputTokens: 25 } });
    expect(seen.join('')).toBe('It is 42.');
    expect(streamed.costUsd).toBeCloseTo((150 * 2.5 + 25 * 10) / 1e6, 12);
    await streamed.reservation.release();
  });
});

describe('save-memory', () => {
  it('commits the conversation, both turns, the cost event and the settlement in one go', async () => {
    const d = deps(provider([answer('42')]));
    const ctx = await before(saveMemory, d);
    const b0 = await budget();
    expect(b0.reservedUsd).toBeGreaterThan(0);
    await saveMemory(ctx, d);
    expect(ctx.booking).toMatchObject({ booked: true });
    const conversationId = ctx.conversation!.id;
    expect((await tenant.store.messages.recent(conversationId, 10)).map((m) => m.content)).toEqual(['What is 6 x 7?', '42']);
    const b1 = await budget();
    expect(b1.reservedUsd).toBe(0);
    expect(b1.spentUsd).toBeCloseTo(b0.spentUsd + ctx.costUsd!, 12);
    expect(ctx.booking?.settlement?.after.spentUsd).toBeCloseTo(b1.spentUsd, 12);
  });

  it('books the cost event alone when the store refuses the turn', async () => {
    const d = deps(provider([answer('42')]));
    // A store whose transactions refuse every message: the turn cannot be saved.
    const store: TenantStore = {
      ...tenant.store,
      groupTransaction: (fn) =>
        tenant.store.groupTransaction((tx) => fn({ ...tx, messages: { ...tx.messages, append: () => Promise.reject(new Error('disk full')) } })),
    };
    const ctx = await before(saveMemory, d, {}, false, store);
    await saveMemory(ctx, d);
    const refusing = ctx;
    expect(refusing.booking).toMatchObject({ booked: true });
    expect(await tenant.store.conversations.get(ctx.conversation!.id)).toBeUndefined();
    expect((await budget()).reservedUsd).toBe(0);
  });
});

describe('track-cost', () => {
  it('counts a booked call into the metrics, and nothing for a call that could not be booked', async () => {
    const d = deps(provider([answer('42'), answer('43')]));
    const ctx = await before(trackCost, d);
    await trackCost(ctx, d);
    expect(usages).toEqual([expect.objectContaining({ model: 'gpt-4o', tenant: tenant.tenant.slug, inputTokens: 100, outputTokens: 20, outcome: 'ok' })]);
    const unbooked = await before(trackCost, d);
    await trackCost({ ...unbooked, booking: { booked: false, settlement: undefined } }, d);
    expect(usages).toHaveLength(1);
  });

  it('runs only after save-memory', async () => {
    const d = deps(provider([answer('42')]));
    const ctx = await before(saveMemory, d);
    await expect(trackCost(ctx, d)).rejects.toThrow(/booking is not set/);
    await saveMemory(ctx, d);
  });
});

describe('send-response', () => {
  it('hands the answer to the sink (a stream writes it out) and keeps it for the run to return', async () => {
    const d = deps(provider([answer('42')]));
    const base = await before(sendResponse, d);
    const delivered: unknown[] = [];
    const ctx = { ...base, sink: { onText() {}, onDone: (out: unknown) => void delivered.push(out) } };
    await sendResponse(ctx, d);
    expect(delivered).toEqual([ctx.output]);
    expect(ctx.output).toEqual({
      conversationId: ctx.conversation!.id,
      agentId,
      agentName: 'priced',
      model: 'gpt-4o',
      message: { id: ctx.assistantMessageId, role: 'assistant', content: '42' },
      usage: { inputTokens: 100, outputTokens: 20 },
      costUsd: ctx.costUsd,
      finishReason: 'stop',
      aborted: false,
    });
  });
});
