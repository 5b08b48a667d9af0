import type pg from 'pg';
import { PipelinedQuery, type PipelineStatement } from './pipelined-query.js';

/** Postgres: "cached plan must not change result type" (a table changed shape under a prepared statement). */
export const STALE_PLAN = '0A000';

/** Most reads in one pipeline. */
const MAX_BATCH = 32;

interface Read {
  statement: PipelineStatement;
  resolve: (result: pg.QueryResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Group reads: the SELECTs of one store handle (one tenant's, or the master store's) that run
 * outside a transaction and are issued in the same turn of the event loop go out in ONE
 * pipeline on one pooled connection, after the handle's scope: one implicit transaction, one
 * round trip, whatever the number of concurrent requests that asked. Only reads of the same
 * handle share a pipeline, so they share its tenant's role and schema; a read never waits for
 * another tenant's.
 *
 * A read that fails gets its own error; the reads after it in the pipeline were skipped by
 * Postgres and run again, each alone.
 */
export class ReadBatch {
  private queue: Read[] = [];
  private scheduled = false;

  /**
   * @param pool the shared pool
   * @param prefix what every pipeline starts with (the scope; nothing for the master store)
   * @param retry runs one read alone (with the handle's own retry rules)
   */
  constructor(
    private readonly pool: pg.Pool,
    private readonly prefix: () => PipelineStatement[],
    private readonly retry: (statement: PipelineStatement) => Promise<pg.QueryResult>,
  ) {}

  run(statement: PipelineStatement): Promise<pg.QueryResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ statement, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // The end of this turn: the I/O callbacks handled in it join the same pipeline.
      setImmediate(() => this.flushAll());
    });
  }

  private flushAll(): void {
    this.scheduled = false;
    while (this.queue.length > 0) void this.flush(this.queue.splice(0, MAX_BATCH));
  }

  private async flush(batch: Read[]): Promise<void> {
    if (batch.length === 1) {
      const [one] = batch as [Read];
      this.retry(one.statement).then(one.resolve, one.reject);
      return;
    }
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      for (const r of batch) r.reject(error);
      return;
    }
    const prefix = this.prefix();
    const { results, error } = await PipelinedQuery.runSettled(client, [...prefix, ...batch.map((r) => r.statement)]);
    // Reads do not leave a transaction open: the connection goes back unless it broke.
    client.release(error !== undefined && (error as { code?: string }).code === undefined ? (error as Error) : undefined);
    const answered = Math.max(0, results.length - prefix.length);
    batch.slice(0, answered).forEach((r, i) => r.resolve(results[prefix.length + i]!));
    if (error === undefined) return;
    if (results.length < prefix.length) {
      // The scope itself failed: every read fails the same way.
      for (const r of batch) r.reject(error);
      return;
    }
    // The failed read again alone only when its prepared statement was stale (the retry's rules
    // decide); the ones after it, which never ran, again alone.
    const failed = batch[answered]!;
    if ((error as { code?: string }).code === STALE_PLAN) this.retry(failed.statement).then(failed.resolve, failed.reject);
    else failed.reject(error);
    for (const r of batch.slice(answered + 1)) this.retry(r.statement).then(r.resolve, r.reject);
  }
}
