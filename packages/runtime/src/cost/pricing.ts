import { readFile } from 'node:fs/promises';
import { z } from 'zod';
// Needs `src/**/*.json` in the package's tsconfig `include` (TS6307 otherwise); tsc then emits
// the file next to the compiled module in dist/, and Node and Vitest both load it natively.
import builtInJson from './pricing.json' with { type: 'json' };

/** Highest accepted price: anything above is surely a typo (an extra digit or three). */
const MAX_USD_PER_MTOK = 1_000_000;

/** Matches a lowercase provider name such as `openai-compatible`. */
const PROVIDER_NAME = /^[a-z0-9][a-z0-9._-]*$/;

/** Model ids are matched case-insensitively, so table keys must be lowercase and unpadded. */
const MODEL_ID = /^[^\sA-Z]+$/;

/** USD per 1,000,000 tokens for one model (or a provider default). */
export interface ModelPrice {
  /** USD per 1M input (prompt) tokens; 0 for local models. */
  inputPerMTok: number;
  /** USD per 1M output (completion) tokens; 0 for local models. */
  outputPerMTok: number;
}

/** Prices of one provider: its listed models and the price of any model it does not list. */
export interface ProviderPricing {
  /**
   * Price of a model that matches no listed id, exactly or by snapshot suffix. Absent: such a
   * model is priced at the provider's most expensive listed model (see `priceOf`).
   */
  default?: ModelPrice;
  /** Listed models by lowercase id; dated ids resolve to these by prefix. */
  models: Record<string, ModelPrice>;
}

/** A validated, merged pricing table (built-in plus any operator override). */
export interface PricingTable {
  /** The date (YYYY-MM-DD) the list prices were taken from. */
  asOf: string;
  /** Prices by lowercase provider name (`openai`, `anthropic`, `ollama`; `openai-compatible` only from an operator's file). */
  providers: Record<string, ProviderPricing>;
  /** Price for a provider with no entry at all (built-in: 0, reported as source `fallback`). */
  fallback: ModelPrice;
}

/**
 * How a price was found: exact id, listed id plus a snapshot suffix, provider default, the
 * provider's most expensive listed model, table fallback, or a free endpoint (`priceOfCall`).
 */
export type PriceSource = 'exact' | 'prefix' | 'default' | 'most-expensive' | 'fallback' | 'free-endpoint';

/** The price `priceOf` chose, with where it came from so callers can log unpriced models. */
export interface ResolvedPrice extends ModelPrice {
  /** Which rule produced the price. */
  source: PriceSource;
  /** The table id that matched (`exact` and `prefix` only). */
  matchedModel?: string;
  /** The table entry the price was taken from when it is not the call's own provider. */
  pricedAs?: string;
}

/** A pricing file that cannot be used; `issues` lists every problem found, one per entry. */
export class PricingError extends Error {
  constructor(
    /** Which document was wrong: `built-in pricing.json` or `override file <path>`. */
    readonly source: string,
    /** One line per problem, each starting with the JSON path it concerns. */
    readonly issues: string[],
  ) {
    super(`invalid pricing table ${source}:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'PricingError';
  }
}

const comment = z.string().optional();

const PriceSchema = z.strictObject({
  $comment: comment,
  inputPerMTok: z.number().min(0).max(MAX_USD_PER_MTOK),
  outputPerMTok: z.number().min(0).max(MAX_USD_PER_MTOK),
});

const ModelsSchema = z.record(
  z
    .string()
    .regex(MODEL_ID, 'model ids must be non-empty, lowercase and without spaces'),
  PriceSchema,
);

const ProviderKeySchema = z
  .string()
  .regex(PROVIDER_NAME, 'provider names must be lowercase letters, digits, ".", "_" or "-"');

const AsOfSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'asOf must be a date as YYYY-MM-DD');

const header = {
  $comment: comment,
  currency: z.literal('USD').optional(),
  unit: z.literal('per 1M tokens').optional(),
};

/** A provider without a default is priced at its most expensive listed model, so it must list one. */
function defaultOrModels(p: { default?: unknown; models?: Record<string, unknown> | undefined }, ctx: z.RefinementCtx): void {
  if (p.default === undefined && Object.keys(p.models ?? {}).length === 0) {
    ctx.addIssue({ code: 'custom', path: ['default'], message: 'required when the provider lists no model' });
  }
}

const FullTableSchema = z.strictObject({
  ...header,
  asOf: AsOfSchema,
  providers: z.record(
    ProviderKeySchema,
    z.strictObject({ $comment: comment, default: PriceSchema.optional(), models: ModelsSchema }).superRefine(defaultOrModels),
  ),
  fallback: PriceSchema,
});

const OverrideSchema = z.strictObject({
  ...header,
  asOf: AsOfSchema.optional(),
  providers: z
    .record(
      ProviderKeySchema,
      z.strictObject({ $comment: comment, default: PriceSchema.optional(), models: ModelsSchema.optional() }),
    )
    .optional(),
  fallback: PriceSchema.optional(),
});

/** Renders a zod path as `providers.openai.models["gpt-4.1"].inputPerMTok`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    const k = String(key);
    if (/^[A-Za-z_$][\w$]*$/.test(k)) out += out === '' ? k : `.${k}`;
    else out += `[${JSON.stringify(k)}]`;
  }
  return out === '' ? '(root)' : out;
}

/** Paths of own `__proto__` keys, which zod's record parsing would silently drop. */
function protoKeys(value: unknown, path: PropertyKey[] = []): string[] {
  if (typeof value !== 'object' || value === null) return [];
  const found: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    if (key === '__proto__') found.push(`${formatPath([...path, key])}: "__proto__" is not a usable key`);
    else found.push(...protoKeys(child, [...path, key]));
  }
  return found;
}

function check<T>(schema: z.ZodType<T>, json: unknown, source: string): T {
  const parsed = schema.safeParse(json);
  const issues = parsed.success ? [] : issuesOf(parsed.error);
  issues.push(...protoKeys(json));
  if (!parsed.success || issues.length > 0) throw new PricingError(source, issues);
  return parsed.data;
}

function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    // A bad record key is reported as "Invalid key in record"; the key's own issue says why.
    const why = issue.code === 'invalid_key' ? issue.issues.map((i) => i.message).join('; ') : issue.message;
    return `${formatPath(issue.path)}: ${why}`;
  });
}

function price(p: { inputPerMTok: number; outputPerMTok: number }): ModelPrice {
  return { inputPerMTok: p.inputPerMTok, outputPerMTok: p.outputPerMTok };
}

/** A record without a prototype, so ids like `constructor` or `__proto__` are plain keys. */
function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** `record[key]` when it is the record's own entry (never an inherited Object member). */
function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function models(record: Record<string, ModelPrice> | undefined): Record<string, ModelPrice> {
  const out = dict<ModelPrice>();
  for (const [id, p] of Object.entries(record ?? {})) out[id] = price(p);
  return out;
}

function providerPricing(def: ModelPrice | undefined, listed: Record<string, ModelPrice> | undefined): ProviderPricing {
  return { ...(def === undefined ? {} : { default: price(def) }), models: models(listed) };
}

/**
 * Validates a complete pricing table (the shape of `pricing.json`) and strips its comments.
 * @param json the parsed JSON document
 * @param source names the document in error messages (a file path or `built-in`)
 * @throws PricingError listing every problem
 */
export function parsePricingTable(json: unknown, source: string): PricingTable {
  const data = check(FullTableSchema, json, source);
  const providers = dict<ProviderPricing>();
  for (const [name, p] of Object.entries(data.providers)) providers[name] = providerPricing(p.default, p.models);
  return { asOf: data.asOf, providers, fallback: price(data.fallback) };
}

/**
 * Merges an operator override over `base` without changing `base`. The override has the shape
 * of `pricing.json` with every field optional: listed models replace or add to the provider's
 * models, a `default` replaces the provider's default, and a provider the base does not have is
 * added (it must then give a `default` or list a model). Unknown keys are errors, so a typo is not
 * ignored. A provider left without a default prices unlisted models at its most expensive listed
 * one, the operator's added models included.
 * @param source names the override in error messages (the operator's file path)
 * @throws PricingError listing every problem
 */
export function mergePricing(base: PricingTable, override: unknown, source: string): PricingTable {
  const o = check(OverrideSchema, override, source);
  const issues: string[] = [];
  const providers = dict<ProviderPricing>();
  for (const [name, p] of Object.entries(base.providers)) providers[name] = providerPricing(p.default, p.models);
  for (const [name, p] of Object.entries(o.providers ?? {})) {
    const existing = own(providers, name);
    if (existing === undefined) {
      if (p.default === undefined && Object.keys(p.models ?? {}).length === 0) {
        issues.push(`${formatPath(['providers', name, 'default'])}: required for a provider the built-in table does not have, unless it lists a model`);
        continue;
      }
      providers[name] = providerPricing(p.default, p.models);
      continue;
    }
    if (p.default !== undefined) existing.default = price(p.default);
    Object.assign(existing.models, models(p.models));
  }
  if (issues.length > 0) throw new PricingError(source, issues);
  return {
    asOf: o.asOf ?? base.asOf,
    providers,
    fallback: o.fallback === undefined ? price(base.fallback) : price(o.fallback),
  };
}

async function readJson(file: string, source: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    const what = code === 'ENOENT' ? 'file not found' : `cannot read file (${code})`;
    throw new PricingError(source, [what]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new PricingError(source, [`not valid JSON: ${(err as Error).message}`]);
  }
}

/**
 * The built-in table (`pricing.json`), validated. Each call returns a fresh copy, so a caller
 * that changes it changes nothing for anyone else.
 * @throws PricingError if the shipped file is invalid (a packaging bug, caught by the tests)
 */
export function builtInPricing(): PricingTable {
  return parsePricingTable(builtInJson, 'built-in pricing.json');
}

/**
 * The built-in table with, when `overridePath` is given, the operator's file merged over it
 * (see `mergePricing`). Call once at start-up and pass the table down.
 * @param overridePath path of the operator's pricing file (same shape as `pricing.json`)
 * @throws PricingError when the override is missing, unreadable, not JSON or invalid
 */
export async function loadPricing(overridePath?: string): Promise<PricingTable> {
  const base = builtInPricing();
  if (overridePath === undefined) return base;
  const source = `override file ${overridePath}`;
  return mergePricing(base, await readJson(overridePath, source), source);
}

/**
 * What may follow a listed id for a model to take its price: snapshot dates (`-2024-08-06`,
 * `-20250514`, `@20250514`), old `-0613` style snapshots, `-latest` and `-preview`. Anything else
 * (`-pro`, `-mini`, `.1`, `-codex`) names another model, which may cost many times more.
 */
const SNAPSHOT_SUFFIX = /^(?:[-@](?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4})|-latest|-preview)+$/;

/** True when `id` is `listed` followed by a snapshot suffix only. */
function isSnapshotOf(id: string, listed: string): boolean {
  return id.startsWith(listed) && SNAPSHOT_SUFFIX.test(id.slice(listed.length));
}

/** The highest input and the highest output price among the listed models (both 0 when none). */
function mostExpensive(listed: Record<string, ModelPrice>): ModelPrice {
  let max: ModelPrice = { inputPerMTok: 0, outputPerMTok: 0 };
  for (const p of Object.values(listed)) {
    max = { inputPerMTok: Math.max(max.inputPerMTok, p.inputPerMTok), outputPerMTok: Math.max(max.outputPerMTok, p.outputPerMTok) };
  }
  return max;
}

/**
 * The price of `model` at `provider`. Rules, in order (ids compared case-insensitively):
 * 1. `exact`: the model id is listed;
 * 2. `prefix`: the longest listed id that the model id extends by a snapshot suffix only
 *    (`claude-3-5-haiku-20241022` -> `claude-3-5-haiku`, `gpt-4o-mini-2024-07-18` ->
 *    `gpt-4o-mini`; but `gpt-4o` does not match `gpt-4`, nor `gpt-5-pro` `gpt-5`);
 * 3. `default`: the provider's default price, when it has one;
 * 4. `most-expensive`: else the provider's most expensive listed model, so an unknown model of a
 *    paid provider over-reserves rather than under-reserves;
 * 5. `fallback`: the provider has no entry: the table's `fallback` price (built-in 0), so the
 *    caller can still record usage and should log the unpriced provider.
 */
export function priceOf(table: PricingTable, provider: string, model: string): ResolvedPrice {
  const entry = own(table.providers, provider.trim().toLowerCase());
  if (entry === undefined) return { ...price(table.fallback), source: 'fallback' };
  const id = model.trim().toLowerCase();
  const exact = own(entry.models, id);
  if (exact !== undefined) return { ...price(exact), source: 'exact', matchedModel: id };
  let best: [string, ModelPrice] | undefined;
  for (const [key, p] of Object.entries(entry.models)) {
    if (isSnapshotOf(id, key) && (best === undefined || key.length > best[0].length)) best = [key, p];
  }
  if (best !== undefined) return { ...price(best[1]), source: 'prefix', matchedModel: best[0] };
  if (entry.default !== undefined) return { ...price(entry.default), source: 'default' };
  return { ...mostExpensive(entry.models), source: 'most-expensive' };
}

/** Where a call goes: the operator's configured endpoint, or a base URL the tenant set itself. */
export type CallEndpoint = 'platform' | 'tenant';

/**
 * The price of one call, which depends on where it goes as well as on the model:
 * - `openai-compatible` to a tenant's own server: 0 (the tenant runs or pays that server; the
 *   operator is billed nothing);
 * - `openai-compatible` to the operator's endpoint (AGENTIK_OPENAI_BASE_URL, the operator's key):
 *   0 only when the operator declared it free (`platformOpenAiFree`, AGENTIK_OPENAI_FREE=true);
 *   else the operator's own `openai-compatible` entry when its pricing file has one; else the
 *   `openai` prices (an unknown model at OpenAI's most expensive). Never free by default;
 * - every other call: `priceOf` for its provider.
 */
export function priceOfCall(
  table: PricingTable,
  call: { provider: string; model: string; endpoint: CallEndpoint; platformOpenAiFree: boolean },
): ResolvedPrice {
  if (call.provider !== 'openai-compatible') return priceOf(table, call.provider, call.model);
  const free: ResolvedPrice = { inputPerMTok: 0, outputPerMTok: 0, source: 'free-endpoint' };
  if (call.endpoint === 'tenant' || call.platformOpenAiFree) return free;
  if (own(table.providers, 'openai-compatible') !== undefined) return priceOf(table, 'openai-compatible', call.model);
  return { ...priceOf(table, 'openai', call.model), pricedAs: 'openai' };
}
