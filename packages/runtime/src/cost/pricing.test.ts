import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtInPricing, loadPricing, mergePricing, parsePricingTable, priceOf, PricingError, type PricingTable } from './pricing.js';

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
    const openai = ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'o3', 'o4-mini', 'gpt-5', 'gpt-5-mini'];
    const anthropic = [
      'claude-3-5-haiku',
      'claude-3-5-sonnet',
      'claude-3-7-sonnet',
      'claude-sonnet-4',
      'claude-opus-4',
      'claude-haiku-4-5',
      'claude-sonnet-4-5',
    ];
    for (const m of openai) expect(priceOf(builtIn, 'openai', m).source, m).toBe('exact');
    for (const m of anthropic) expect(priceOf(builtIn, 'anthropic', m).source, m).toBe('exact');
    expect(priceOf(builtIn, 'openai', 'gpt-4o')).toMatchObject({ inputPerMTok: 2.5, outputPerMTok: 10 });
    expect(priceOf(builtIn, 'anthropic', 'claude-3-5-haiku')).toMatchObject({ inputPerMTok: 0.8, outputPerMTok: 4 });
    for (const p of Object.values(builtIn.providers)) {
      for (const price of [p.default, ...Object.values(p.models)]) {
        expect(price.inputPerMTok).toBeGreaterThanOrEqual(0);
        expect(price.outputPerMTok).toBeGreaterThanOrEqual(price.inputPerMTok);
      }
    }
  });

  it('prices the local providers at 0 whatever the model', () => {
    for (const provider of ['ollama', 'openai-compatible']) {
      for (const model of ['llama3.1:8b', 'qwen2.5-coder', 'gpt-4o']) {
        expect(priceOf(builtIn, provider, model)).toEqual({ inputPerMTok: 0, outputPerMTok: 0, source: 'default' });
      }
    }
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
    expect(Object.keys(p ?? {}).sort()).toEqual(['default', 'models']);
    expect(Object.keys(p?.models['gpt-4o'] ?? {}).sort()).toEqual(['inputPerMTok', 'outputPerMTok']);
  });
});

describe('priceOf', () => {
  it('resolves dated ids to the longest listed prefix', () => {
    const cases: [string, string, string][] = [
      ['anthropic', 'claude-3-5-haiku-20241022', 'claude-3-5-haiku'],
      ['anthropic', 'claude-3-5-sonnet-latest', 'claude-3-5-sonnet'],
      ['anthropic', 'claude-sonnet-4-20250514', 'claude-sonnet-4'],
      ['anthropic', 'claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
      ['anthropic', 'claude-opus-4-1-20250805', 'claude-opus-4'],
      ['anthropic', 'claude-opus-4-5-20251101', 'claude-opus-4-5'],
      ['openai', 'gpt-4o-2024-08-06', 'gpt-4o'],
      ['openai', 'gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
      ['openai', 'gpt-4.1-nano-2025-04-14', 'gpt-4.1-nano'],
      ['openai', 'o3-mini-2025-01-31', 'o3-mini'],
      ['openai', 'gpt-5.1', 'gpt-5'],
    ];
    for (const [provider, model, matched] of cases) {
      expect(priceOf(builtIn, provider, model), model).toMatchObject({ source: 'prefix', matchedModel: matched });
    }
    expect(priceOf(builtIn, 'anthropic', 'claude-opus-4-5-20251101')).toMatchObject({ inputPerMTok: 5, outputPerMTok: 25 });
  });

  it('only matches a prefix that ends at a separator', () => {
    expect(priceOf(builtIn, 'openai', 'o3x').source).toBe('default');
    expect(priceOf(builtIn, 'openai', 'gpt-4.10').source).toBe('default');
    expect(priceOf(builtIn, 'openai', 'gpt-4').source).toBe('default');
  });

  it('compares provider and model case-insensitively and ignores surrounding blanks', () => {
    expect(priceOf(builtIn, ' OpenAI ', ' GPT-4o-Mini ')).toMatchObject({ source: 'exact', matchedModel: 'gpt-4o-mini' });
  });

  it('falls back to the provider default, then to the table fallback for an unknown provider', () => {
    expect(priceOf(builtIn, 'anthropic', 'claude-next')).toEqual({ inputPerMTok: 3, outputPerMTok: 15, source: 'default' });
    expect(priceOf(builtIn, 'azure', 'gpt-4o')).toEqual({ inputPerMTok: 0, outputPerMTok: 0, source: 'fallback' });
  });

  it('treats ids that name Object members as plain unknown ids', () => {
    for (const id of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(priceOf(builtIn, 'openai', id).source).toBe('default');
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

  it('requires a default for a provider the built-in table does not have', async () => {
    const file = await overrideFile('nodefault.json', {
      providers: { mistral: { models: { 'mistral-large': { inputPerMTok: 2, outputPerMTok: 6 } } } },
    });
    const err = await pricingError(loadPricing(file));
    expect(err.issues).toEqual(['providers.mistral.default: required for a provider the built-in table does not have']);
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
