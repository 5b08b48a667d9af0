import { performance } from 'node:perf_hooks';
import type { TenantContext } from '../tenants/context.js';
import { admit } from './admission.js';
import { BudgetReservation } from './budget-reservation.js';
import { startRunReads } from './run-reads.js';
import { need, type MessageInput, type PipelineContext, type PipelineOutput, type PipelineSink } from './context.js';
import type { PipelineDeps } from './deps.js';
import { execute } from './stages/execute.js';
import { loadMemory } from './stages/load-memory.js';
import { modelSelect } from './stages/model-select.js';
import { normalize } from './stages/normalize.js';
import { route } from './stages/route.js';
import { bookCall, saveMemory } from './stages/save-memory.js';
import { sendResponse } from './stages/send-response.js';
import type { Stage } from './stages/stage.js';
import { toolResolve } from './stages/tool-resolve.js';
import { trackCost } from './stages/track-cost.js';

/** Options of one run. */
export interface RunOptions {
  /** Stream text to `sink` as it is generated. */
  stream: boolean;
  sink?: PipelineSink;
  /** Aborted when the caller goes away. */
  signal: AbortSignal;
}

/**
 * Runs one message: the admission guard (request rate, a concurrency slot), then the nine stages in
 * order, each timed by name. The guard's time counts in the first stage's timing, as it always
 * has, so the nine stage timings still add up to the whole run. The orchestrator owns what
 * outlives a stage: the concurrency leases, and the run's budget reservation, which it releases
 * when the run ends before any model call produced anything.
 */
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
    const { deps } = this;
    const startedAt = deps.now();
    // Started before the admission guard, so they travel while it runs.
    const reads = startRunReads(tenant, input, startedAt);
    const ctx: PipelineContext = {
      tenant,
      input,
      signal: options.signal,
      sink: options.sink ?? { onText() {} },
      stream: options.stream,
      startedAt,
      reservation: new BudgetReservation(tenant.store, deps.now, deps.log, tenant.tenant.id, reads.budget),
      reads,
      leases: [],
    };
    try {
      for (const [i, [name, stage]] of this.stages.entries()) {
        const t0 = performance.now();
        try {
          if (i === 0) await admit(ctx, deps);
          await stage(ctx, deps);
        } finally {
          deps.observeStage(name, (performance.now() - t0) / 1000);
        }
      }
      return need(ctx.output, 'output');
    } finally {
      // A model that answered is booked even when a later stage failed, and so is a run that
      // failed after a model call produced output (execute sets a `failed` result then); only a
      // run none of whose calls produced anything (refused, provider down) gives its reservation
      // back. A call whose booking failed keeps its reservation held as spent.
      for (const lease of ctx.leases) lease.release();
      if (!ctx.result) await ctx.reservation.release();
      else if (!ctx.booking) await this.book(ctx);
    }
  }

  /** Books a run that ended early (without its turn), and tracks its cost; never throws over the run's own error. */
  private async book(ctx: PipelineContext): Promise<void> {
    await bookCall(ctx, this.deps);
    try {
      await trackCost(ctx, this.deps);
    } catch (error) {
      this.deps.log.error({ err: error, tenantId: ctx.tenant.tenant.id }, 'could not note the budget thresholds of a booked call');
    }
  }
}
