import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { TenantStatus } from '@agentik/shared';
import type { CostOutcome } from '../storage/records.js';
import type { TenantPoolStats } from '../tenants/pool.js';
import { LocalHistogram, type HistogramSeries } from './local-histogram.js';

export interface MetricsSources {
  tenantCounts(): Promise<Record<TenantStatus, number>>;
  poolStats(): TenantPoolStats;
}

/** One model call as booked by the pipeline's track-cost stage. */
export interface ModelUsage {
  provider: string;
  model: string;
  /** The tenant's slug (a label only when tenant labels are on). */
  tenant: string;
  inputTokens: number | null;
  outputTokens: number | null;
  /** Known cost in USD; `null` when the price or the usage is unknown (nothing is added). */
  costUsd: number | null;
  outcome: CostOutcome;
}

/**
 * Distinct models kept as label values, per metric; later ones are counted under `model="other"`.
 * Model names come from agent settings, so without a cap a tenant could grow the series at will.
 */
export const MAX_MODEL_LABELS = 50;
/** Longest model label value kept; longer names are cut (they are still one series each). */
const MAX_MODEL_LABEL_LENGTH = 100;
export const OTHER_MODEL = 'other';

/** The runtime's Prometheus metrics, in a registry of its own (no global state). */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration: LocalHistogram<'method' | 'route' | 'status'>;
  readonly errors: Counter<'code'>;
  private readonly stageDuration: LocalHistogram<'stage'>;
  /** Each stage's series, looked up once. */
  private readonly stageTimers = new Map<string, HistogramSeries>();

  /**
   * Model usage, the names the Grafana dashboards query (keep docker/README.md in step):
   * - `agentik_cost_usd_total{provider,model}`: USD of model calls with a known cost;
   * - `agentik_tokens_total{provider,model,direction="input"|"output"}`: tokens reported (or estimated);
   * - `agentik_model_calls_total{provider,model,outcome="ok"|"aborted"|"failed"}`: booked model calls.
   * With `AGENTIK_METRICS_TENANT_LABELS=true` each also has `tenant` (the tenant's slug).
   */
  private readonly costUsd: Counter<string>;
  private readonly tokens: Counter<string>;
  private readonly modelCalls: Counter<string>;
  private readonly models = new Set<string>();

  constructor(
    sources: MetricsSources,
    private readonly options: { tenantLabels?: boolean } = {},
  ) {
    const usageLabels = ['provider', 'model', ...(options.tenantLabels ? ['tenant'] : [])];
    collectDefaultMetrics({ register: this.registry, prefix: 'agentik_' });
    this.httpDuration = new LocalHistogram(
      'agentik_http_request_duration_seconds',
      'HTTP request duration by route and status',
      ['method', 'route', 'status'],
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      this.registry,
    );
    this.stageDuration = new LocalHistogram(
      'agentik_pipeline_stage_duration_seconds',
      'Time spent in each stage of the message pipeline',
      ['stage'],
      [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      this.registry,
    );
    this.errors = new Counter({
      name: 'agentik_http_errors_total',
      help: 'Error responses by error code',
      labelNames: ['code'],
      registers: [this.registry],
    });
    this.costUsd = new Counter({
      name: 'agentik_cost_usd_total',
      help: 'Cost of model calls in USD, by provider and model (calls of unknown cost add nothing)',
      labelNames: usageLabels,
      registers: [this.registry],
    });
    this.tokens = new Counter({
      name: 'agentik_tokens_total',
      help: 'Tokens of model calls by provider, model and direction (input or output)',
      labelNames: [...usageLabels, 'direction'],
      registers: [this.registry],
    });
    this.modelCalls = new Counter({
      name: 'agentik_model_calls_total',
      help: 'Model calls booked by the pipeline, by provider, model and outcome (ok, aborted, or failed: the run failed after the model produced output)',
      labelNames: [...usageLabels, 'outcome'],
      registers: [this.registry],
    });
    new Gauge({
      name: 'agentik_tenants',
      help: 'Tenants by status',
      labelNames: ['status'],
      registers: [this.registry],
      async collect() {
        const counts = await sources.tenantCounts();
        for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
      },
    });
    new Gauge({
      name: 'agentik_tenant_pool_open',
      help: 'Tenant stores open in the pool',
      registers: [this.registry],
      collect() {
        this.set(sources.poolStats().size);
      },
    });
    new Gauge({
      name: 'agentik_tenant_pool_capacity',
      help: 'Most tenant stores the pool keeps open',
      registers: [this.registry],
      collect() {
        this.set(sources.poolStats().capacity);
      },
    });
    new Counter({
      name: 'agentik_tenant_pool_evictions_total',
      help: 'Tenant stores closed to make room in the pool',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(sources.poolStats().evictions);
      },
    });
  }

  /** Records the time one pipeline stage took. */
  observeStage(stage: string, seconds: number): void {
    let timer = this.stageTimers.get(stage);
    if (timer === undefined) this.stageTimers.set(stage, (timer = this.stageDuration.labels({ stage })));
    timer.observe(seconds);
  }

  /** Counts one model call's cost and tokens (called once the cost event is committed). */
  recordUsage(usage: ModelUsage): void {
    const labels: Record<string, string> = { provider: usage.provider, model: this.modelLabel(usage.provider, usage.model) };
    if (this.options.tenantLabels) labels.tenant = usage.tenant;
    this.modelCalls.inc({ ...labels, outcome: usage.outcome });
    if (usage.costUsd !== null) this.costUsd.inc(labels, usage.costUsd);
    if (usage.inputTokens !== null) this.tokens.inc({ ...labels, direction: 'input' }, usage.inputTokens);
    if (usage.outputTokens !== null) this.tokens.inc({ ...labels, direction: 'output' }, usage.outputTokens);
  }

  /** The model's label value: itself among the first MAX_MODEL_LABELS models seen, else `other`. */
  private modelLabel(provider: string, model: string): string {
    const name = model.slice(0, MAX_MODEL_LABEL_LENGTH);
    const key = `${provider}\u0000${name}`;
    if (this.models.has(key)) return name;
    if (this.models.size >= MAX_MODEL_LABELS) return OTHER_MODEL;
    this.models.add(key);
    return name;
  }
}
