import { performance } from 'node:perf_hooks';
import type { TenantContext } from '../tenants/context.js';
import { budgetPeriod } from '../cost/budget-service.js';
import { need, type MessageInput, type PipelineContext, type PipelineOutput, type PipelineSink } from './context.js';
import type { PipelineDeps } from './deps.js';
import { execute } from './stages/execute.js';
import { loadMemory } from './stages/load-memory.js';
import { modelSelect } from './stages/model-select.js';
import { normalize } from './stages/normalize.js';
import { route } from './stages/route.js';
import { saveMemory } from './stages/save-memory.js';
import { sendResponse } from './stages/send-response.js';
import type { Stage } from './stages/stage.js';
import { toolResolve } from './stages/tool-resolve.js';
import { bookCall, noteThresholds, trackCost } from './stages/track-cost.js';

/** Options of one run. */
export interface RunOptions {
  /** Stream text to `sink` as it is generated. */
  stream: boolean;
  sink?: PipelineSink;
  /** Aborted when the caller goes away. */
  signal: AbortSignal;
}

/** Runs the nine stages in order for one message; each stage is timed by name. */
export class Pipeline {
  readonly stages: ReadonlyArray<readonly [string, Stage]>;

  constructor(private readonly deps: PipelineDeps) {
    this.stages = [
      ['normalize', normalize],
      ['route', route],
      ['load-memory', loadMemory],
      ['model-select', modelSelect],
      ['tool-resolve', toolResolve],
      ['execute', execute],
      ['save-memory', saveMemory],
      ['track-cost', trackCost],
      ['send-response', sendResponse],
    ];
  }

  async run(tenant: TenantContext, input: MessageInput, options: RunOptions): Promise<PipelineOutput> {
    const ctx: PipelineContext = {
      tenant,
      input,
      signal: options.signal,
      sink: options.sink ?? { onText() {} },
      stream: options.stream,
      startedAt: this.deps.now(),
      reservedUsd: 0,
      leases: [],
      writes: [],
      settled: false,
    };
    try {
      for (const [name, stage] of this.stages) {
        const t0 = performance.now();
        try {
          await stage(ctx, this.deps);
        } finally {
          this.deps.observeStage(name, (performance.now() - t0) / 1000);
        }
      }
      return need(ctx.output, 'output');
    } finally {
      // A model that answered is booked even when a later stage failed, and so is a run that
      // failed after a model call produced output (execute sets a `failed` result then); only a
      // run none of whose calls produced anything (refused, provider down) gives its reservation back.
      for (const lease of ctx.leases) lease.release();
      if (!ctx.settled && ctx.result) await this.book(ctx);
      else if (!ctx.settled && ctx.reservedUsd > 0) await this.release(ctx);
    }
  }

  /** Books a run that ended early, and notes the thresholds it crossed; never throws over the run's own error. */
  private async book(ctx: PipelineContext): Promise<void> {
    const settled = await bookCall(ctx, this.deps);
    try {
      await noteThresholds(ctx, this.deps, settled);
    } catch (error) {
      this.deps.log.error({ err: error, tenantId: ctx.tenant.tenant.id }, 'could not note the budget thresholds of a booked call');
    }
  }

  /** A run that failed before the model answered gives the reservation back. */
  private async release(ctx: PipelineContext): Promise<void> {
    const at = this.deps.now();
    try {
      await ctx.tenant.store.budget.settle(ctx.reservedUsd, 0, budgetPeriod(at), at);
    } catch (error) {
      this.deps.log.error({ err: error, tenantId: ctx.tenant.tenant.id }, 'could not release a budget reservation');
    }
  }
}
