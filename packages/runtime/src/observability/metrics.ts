import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TenantStatus } from '@agentik/shared';
import type { TenantPoolStats } from '../tenants/pool.js';

export interface MetricsSources {
  tenantCounts(): Promise<Record<TenantStatus, number>>;
  poolStats(): TenantPoolStats;
}

/** The runtime's Prometheus metrics, in a registry of its own (no global state). */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly errors: Counter<'code'>;
  private readonly stageDuration: Histogram<'stage'>;
  /** One histogram child per stage, looked up once: observe() with a label object hashes it on every call. */
  private readonly stageTimers = new Map<string, { observe(seconds: number): void }>();

  constructor(sources: MetricsSources) {
    collectDefaultMetrics({ register: this.registry, prefix: 'agentik_process_' });
    this.httpDuration = new Histogram({
      name: 'agentik_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.stageDuration = new Histogram({
      name: 'agentik_pipeline_stage_duration_seconds',
      help: 'Time spent in each stage of the message pipeline',
      labelNames: ['stage'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers: [this.registry],
    });
    this.errors = new Counter({
      name: 'agentik_http_errors_total',
      help: 'Error responses by error code',
      labelNames: ['code'],
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
}
