import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtInPricing, loadPricing, mergePricing, parsePricingTable, priceOf, priceOfCall, PricingError, type PricingTable } from './pricing.js';

let dir: string;
let builtIn: PricingTable;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'agentik-pricing-'));
  builtIn = await loadPricing();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function overrideFile(name: string, content: unknown): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

async function pricingError(promise: Promise<unknown>): Promise<PricingError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PricingError);
  return err as PricingError;
}

describe('built-in pricing table', () => {
  it('states its date and lists the common hosted models with list prices', () => {
    expect(builtIn.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const openai = ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'o3', 'o4-mini', 'gpt-5', 'gpt-5-mini', 'gpt-5-pro', 'o1', 'gpt-4', 'gpt-4-turbo'];
    const anthropic = [
      'claude-3-5-haiku',
      'claude-3-5-sonnet',
      'claude-3-7-sonnet',
      'claude-sonnet-4',
      'claude-opus-4',
      'claude-haiku-4-5',
      'claude-sonnet-4-5',
      'claude-opus-4-1',
      'claude-opus-4-5',
    ];
    for (const m of openai) expect(priceOf(builtIn, 'openai', m).source, m).toBe('exact');
    for (const m of anthropic) expect(priceOf(builtIn, 'anthropic', m).source, m).toBe('exact');
    expect(priceOf(builtIn, 'openai', 'gpt-4o')).toMatchObject({ inputPerMTok: 2.5, outputPerMTok: 10 });
    expect(priceOf(builtIn, 'anthropic', 'claude-3-5-haiku')).toMatchObject({ inputPerMTok: 0.8, outputPerMTok: 4 });
    for (const p of Object.values(builtIn.providers)) {
      for (const price of [...(p.default ? [p.default] : []), ...Object.values(p.models)]) {
        expect(price.inputPerMTok).toBeGreaterThanOrEqual(0);
        expect(price.outputPerMTok).toBeGreaterThanOrEqual(price.inputPerMTok);
      }
    }
  });

  it('prices the local provider at 0 whatever the model', () => {
    for (const model of ['llama3.1:8b', 'qwen2.5-coder', 'gpt-4o']) {
      expect(priceOf(builtIn, 'ollama', model)).toEqual({ inputPerMTok: 0, outputPerMTok: 0, source: 'default' });
    }
  });

  it('prices legacy and reasoning models at their own list prices, not at gpt-4o', () => {
    const cases: [string, number, number][] = [
      ['gpt-4', 30, 60],
      ['gpt-4-0613', 30, 60],
      ['gpt-4-turbo', 10, 30],
      ['gpt-4-turbo-2024-04-09', 10, 30],
      ['o1', 15, 60],
      ['o1-2024-12-17', 15, 60],
      ['o1-mini', 1.1, 4.4],
      ['o1-pro', 150, 600],
      ['o3', 2, 8],
      ['o3-mini', 1.1, 4.4],
      ['o4-mini', 1.1, 4.4],
      ['gpt-4.1-mini', 0.4, 1.6],
      ['gpt-5-pro', 15, 120],
      ['gpt-5-pro-2025-10-06', 15, 120],
      ['gpt-5-nano', 0.05, 0.4],
    ];
    for (const [model, input, output] of cases) {
      expect(priceOf(builtIn, 'openai', model), model).toMatchObject({ inputPerMTok: input, outputPerMTok: output });
    }
    expect(priceOf(builtIn, 'anthropic', 'claude-opus-4-1-20250805')).toMatchObject({ inputPerMTok: 15, outputPerMTok: 75 });
    expect(priceOf(builtIn, 'anthropic', 'claude-haiku-4-5-20251001')).toMatchObject({ inputPerMTok: 1, outputPerMTok: 5 });
  });

  it('prices an unknown model of a paid provider at its most expensive listed model', () => {
    expect(priceOf(builtIn, 'openai', 'gpt-9-ultra')).toEqual({ inputPerMTok: 150, outputPerMTok: 600, source: 'most-expensive' });
    expect(priceOf(builtIn, 'anthropic', 'claude-next')).toEqual({ inputPerMTok: 15, outputPerMTok: 75, source: 'most-expensive' });
    // An unlisted variant of a listed model is another model, not a snapshot of it.
    expect(priceOf(builtIn, 'openai', 'gpt-5-ultra').source).toBe('most-expensive');
    expect(priceOf(builtIn, 'openai', 'gpt-4o-audio-preview').source).toBe('most-expensive');
    // The operator's file says otherwise: its default wins, and its own models count for the maximum.
    const withDefault = mergePricing(builtIn, { providers: { openai: { default: { inputPerMTok: 2.5, outputPerMTok: 10 } } } }, 'op');
    expect(priceOf(withDefault, 'openai', 'gpt-9-ultra')).toEqual({ inputPerMTok: 2.5, outputPerMTok: 10, source: 'default' });
    const pricier = mergePricing(builtIn, { providers: { anthropic: { models: { 'claude-mythic': { inputPerMTok: 40, outputPerMTok: 200 } } } } }, 'op');
    expect(priceOf(pricier, 'anthropic', 'claude-next')).toEqual({ inputPerMTok: 40, outputPerMTok: 200, source: 'most-expensive' });
  });

  it('never prices the operator\'s openai-compatible endpoint at 0 unless it is declared free', () => {
    const call = (over: Partial<Parameters<typeof priceOfCall>[1]> = {}) =>
      priceOfCall(builtIn, { provider: 'openai-compatible', model: 'gpt-4o', endpoint: 'platform', platformOpenAiFree: false, ...over });
    expect(call()).toEqual({ inputPerMTok: 2.5, outputPerMTok: 10, source: 'exact', matchedModel: 'gpt-4o', pricedAs: 'openai' });
    expect(call({ model: 'meta-llama/llama-3.1-70b' })).toMatchObject({ inputPerMTok: 150, outputPerMTok: 600, source: 'most-expensive' });
    expect(call({ platformOpenAiFree: true })).toEqual({ inputPerMTok: 0, outputPerMTok: 0, source: 'free-endpoint' });
    // A tenant's own server is the tenant's: free as before.
    expect(call({ endpoint: 'tenant' })).toEqual({ inputPerMTok: 0, outputPerMTok: 0, source: 'free-endpoint' });
    // The operator's own table for that endpoint wins over the OpenAI prices.
    const own = mergePricing(builtIn, { providers: { 'openai-compatible': { default: { inputPerMTok: 0.2, outputPerMTok: 0.6 } } } }, 'op');
    expect(priceOfCall(own, { provider: 'openai-compatible', model: 'llama', endpoint: 'platform', platformOpenAiFree: false })).toEqual({
      inputPerMTok: 0.2,
      outputPerMTok: 0.6,
      source: 'default',
    });
    // Other providers are priced by their own entry wherever they go.
    expect(priceOfCall(builtIn, { provider: 'openai', model: 'o1', endpoint: 'tenant', platformOpenAiFree: true })).toMatchObject({ inputPerMTok: 15 });
  });

  it('hands out a fresh copy each time', () => {
    const a = builtInPricing();
    const gpt4o = a.providers.openai?.models['gpt-4o'];
    if (gpt4o) gpt4o.inputPerMTok = 999;
    expect(builtInPricing()).toEqual(builtIn);
    expect(priceOf(builtInPricing(), 'openai', 'gpt-4o').inputPerMTok).toBe(2.5);
  });

  it('loads without comments: only prices reach the table', () => {
    const p = builtIn.providers.openai;
    expect(Object.keys(p ?? {}).sort()).toEqual(['models']);
    expect(Object.keys(builtIn.providers.ollama ?? {}).sort()).toEqual(['default', 'models']);
    expect(Object.keys(p?.models['gpt-4o'] ?? {}).sort()).toEqual(['inputPerMTok', 'outputPerMTok']);
  });
});

describe('priceOf', () => {
  it('resolves dated ids and aliases to the listed model they are a snapshot of', () => {
    const cases: [string, string, string][] = [
      ['anthropic', 'claude-3-5-haiku-20241022', 'claude-3-5-haiku'],
      ['anthropic', 'claude-3-5-sonnet-latest', 'claude-3-5-sonnet'],
      ['anthropic', 'claude-sonnet-4-20250514', 'claude-sonnet-4'],
      ['anthropic', 'claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
      ['anthropic', 'claude-opus-4-1-20250805', 'claude-opus-4-1'],
      ['anthropic', 'claude-opus-4-5-20251101', 'claude-opus-4-5'],
      ['openai', 'gpt-4o-2024-08-06', 'gpt-4o'],
      ['openai', 'gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
      ['openai', 'gpt-4.1-nano-2025-04-14', 'gpt-4.1-nano'],
      ['openai', 'o3-mini-2025-01-31', 'o3-mini'],
      ['openai', 'gpt-5-2025-08-07', 'gpt-5'],
      ['openai', 'gpt-4-0125-preview', 'gpt-4'],
      ['openai', 'o1-preview', 'o1'],
    ];
    for (const [provider, model, matched] of cases) {
      expect(priceOf(builtIn, provider, model), model).toMatchObject({ source: 'prefix', matchedModel: matched });
    }
    expect(priceOf(builtIn, 'anthropic', 'claude-opus-4-5-20251101')).toMatchObject({ inputPerMTok: 5, outputPerMTok: 25 });
  });

  it('only matches a listed id followed by a snapshot suffix, never another model of the family', () => {
    for (const id of ['o3x', 'gpt-4.10', 'gpt-5-prox', 'gpt-5-codex-max', 'claude-sonnet-4-5-thinking']) {
      expect(priceOf(builtIn, id.startsWith('claude') ? 'anthropic' : 'openai', id).source, id).toBe('most-expensive');
    }
    expect(priceOf(builtIn, 'openai', 'gpt-5-pro')).toMatchObject({ source: 'exact', outputPerMTok: 120 });
  });

  it('compares provider and model case-insensitively and ignores surrounding blanks', () => {
    expect(priceOf(builtIn, ' OpenAI ', ' GPT-4o-Mini ')).toMatchObject({ source: 'exact', matchedModel: 'gpt-4o-mini' });
  });

  it('falls back to the provider default, then to the table fallback for an unknown provider', () => {
    expect(priceOf(builtIn, 'ollama', 'anything')).toEqual({ inputPerMTok: 0, outputPerMTok: 0, source: 'default' });
    expect(priceOf(builtIn, 'azure', 'gpt-4o')).toEqual({ inputPerMTok: 0, outputPerMTok: 0, source: 'fallback' });
  });

  it('treats ids that name Object members as plain unknown ids', () => {
    for (const id of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(priceOf(builtIn, 'openai', id).source).toBe('most-expensive');
      expect(priceOf(builtIn, id, 'gpt-4o').source).toBe('fallback');
    }
  });
});

describe('operator override', () => {
  it('adds and replaces models, replaces defaults, adds providers and keeps the rest', async () => {
    const file = await overrideFile('ok.json', {
      $comment: 'our negotiated prices',
      asOf: '2026-01-15',
      currency: 'USD',
      providers: {
        openai: { models: { 'gpt-4o': { inputPerMTok: 2, outputPerMTok: 8 }, 'ft:gpt-4o-mini:acme': { inputPerMTok: 0.3, outputPerMTok: 1.2 } } },
        ollama: { $comment: 'GPU charge-back', default: { inputPerMTok: 0.01, outputPerMTok: 0.02 } },
        azure: { default: { inputPerMTok: 2.5, outputPerMTok: 10 } },
      },
      fallback: { inputPerMTok: 1, outputPerMTok: 1 },
    });
    const table = await loadPricing(file);
    expect(table.asOf).toBe('2026-01-15');
    expect(priceOf(table, 'openai', 'gpt-4o-2024-08-06')).toMatchObject({ inputPerMTok: 2, outputPerMTok: 8, source: 'prefix' });
    expect(priceOf(table, 'openai', 'ft:gpt-4o-mini:acme')).toMatchObject({ inputPerMTok: 0.3, source: 'exact' });
    expect(priceOf(table, 'openai', 'gpt-4.1')).toMatchObject({ inputPerMTok: 2, outputPerMTok: 8, source: 'exact' });
    expect(priceOf(table, 'ollama', 'llama3')).toMatchObject({ inputPerMTok: 0.01, source: 'default' });
    expect(priceOf(table, 'azure', 'anything')).toMatchObject({ inputPerMTok: 2.5, source: 'default' });
    expect(priceOf(table, 'nowhere', 'x')).toMatchObject({ inputPerMTok: 1, source: 'fallback' });
    // The base table is untouched.
    expect(priceOf(builtIn, 'openai', 'gpt-4o')).toMatchObject({ inputPerMTok: 2.5 });
    expect(priceOf(builtIn, 'ollama', 'llama3').inputPerMTok).toBe(0);
  });

  it('accepts an empty override and keeps the built-in date and fallback', () => {
    const table = mergePricing(builtIn, {}, 'test');
    expect(table).toEqual(builtIn);
    expect(table.providers).not.toBe(builtIn.providers);
  });

  it('adds a new provider with only a default', () => {
    const table = mergePricing(builtIn, { providers: { groq: { default: { inputPerMTok: 0.05, outputPerMTok: 0.08 } } } }, 'test');
    expect(table.providers.groq?.models).toEqual({});
  });

  it('lists every problem of an invalid file, with the file and the JSON path', async () => {
    const file = await overrideFile('bad.json', {
      currency: 'EUR',
      asOf: 'yesterday',
      providers: {
        openai: {
          models: {
            'gpt-4.1': { inputPerMtok: 2, outputPerMTok: 8 },
            'GPT-5': { inputPerMTok: 1, outputPerMTok: 1 },
            'gpt-4o': { inputPerMTok: -1, outputPerMTok: '10' },
          },
        },
        'Bad Name': { default: { inputPerMTok: 1, outputPerMTok: 1 } },
      },
      extra: true,
    });
    const err = await pricingError(loadPricing(file));
    expect(err.source).toContain(file);
    expect(err.message).toContain(file);
    const text = err.issues.join('\n');
    expect(text).toMatch(/^currency: /m);
    expect(text).toMatch(/^asOf: asOf must be a date/m);
    expect(text).toContain('providers.openai.models["gpt-4.1"]');
    expect(text).toContain('inputPerMtok');
    expect(text).toMatch(/model ids must be non-empty, lowercase/);
    expect(text).toContain('providers.openai.models["gpt-4o"].inputPerMTok');
    expect(text).toContain('providers.openai.models["gpt-4o"].outputPerMTok');
    expect(text).toMatch(/provider names must be lowercase/);
    expect(text).toMatch(/extra/);
    expect(err.issues.length).toBeGreaterThanOrEqual(8);
    for (const issue of err.issues) expect(err.message).toContain(issue);
  });

  it('requires a default or a listed model for a provider the built-in table does not have', async () => {
    const file = await overrideFile('nodefault.json', { providers: { mistral: { models: {} } } });
    const err = await pricingError(loadPricing(file));
    expect(err.issues).toEqual(['providers.mistral.default: required for a provider the built-in table does not have, unless it lists a model']);
    const listed = mergePricing(builtIn, { providers: { mistral: { models: { 'mistral-large': { inputPerMTok: 2, outputPerMTok: 6 } } } } }, 'op');
    expect(priceOf(listed, 'mistral', 'mistral-tiny')).toEqual({ inputPerMTok: 2, outputPerMTok: 6, source: 'most-expensive' });
  });

  it('rejects a price that is not finite or absurdly high', () => {
    expect(() => mergePricing(builtIn, { fallback: { inputPerMTok: 2e6, outputPerMTok: 0 } }, 'x')).toThrow(PricingError);
    expect(() => mergePricing(builtIn, { fallback: { inputPerMTok: 1, outputPerMTok: Number.NaN } }, 'x')).toThrow(
      /fallback\.outputPerMTok/,
    );
  });

  it('reports a missing file, an unreadable path and invalid JSON clearly', async () => {
    const missing = path.join(dir, 'missing.json');
    expect((await pricingError(loadPricing(missing))).issues).toEqual(['file not found']);
    expect((await pricingError(loadPricing(dir))).issues[0]).toMatch(/^cannot read file \(EISDIR\)$/);
    const broken = await overrideFile('broken.json', '{ "providers": ');
    const err = await pricingError(loadPricing(broken));
    expect(err.issues[0]).toMatch(/^not valid JSON: /);
    expect(err.message).toContain(broken);
  });

  it('rejects a document that is not an object', () => {
    expect(() => mergePricing(builtIn, [], 'x')).toThrow(/\(root\)/);
    expect(() => mergePricing(builtIn, null, 'x')).toThrow(PricingError);
  });
});

describe('parsePricingTable', () => {
  it('requires every field of a complete table', () => {
    try {
      parsePricingTable({ providers: { openai: { models: {} } } }, 'full');
      expect.unreachable();
    } catch (e) {
      const issues = (e as PricingError).issues.join('\n');
      expect(issues).toMatch(/^asOf: /m);
      expect(issues).toMatch(/^providers\.openai\.default: /m);
      expect(issues).toMatch(/^fallback: /m);
    }
  });

  it('rejects __proto__ as a model id instead of losing it', () => {
    const json: unknown = JSON.parse(
      '{"asOf":"2025-01-01","fallback":{"inputPerMTok":0,"outputPerMTok":0},"providers":{"p":{"default":{"inputPerMTok":1,"outputPerMTok":1},"models":{"__proto__":{"inputPerMTok":9,"outputPerMTok":9}}}}}',
    );
    expect(() => parsePricingTable(json, 'proto')).toThrow('providers.p.models.__proto__: "__proto__" is not a usable key');
    expect(({} as Record<string, unknown>).inputPerMTok).toBeUndefined();
  });
});
