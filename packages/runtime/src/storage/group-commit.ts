/**
 * Group commit: units of work submitted in the same turn of the event loop share one transaction.
 *
 * Each message the pipeline answers ends with one small write (conversation, two turns, cost
 * event, budget settlement). Committing each on its own pays the transaction's fixed cost every
 * time: the commit itself and, in SQLite, one flush of every index the rows touch. Under concurrent
 * load several such writes are ready at once, and one transaction for all of them costs little more
 * than one for a single write. A caller still gets its own result only after the transaction that
 * holds its work has committed, so what it acknowledges is durable, exactly as before.
 *
 * A batch that fails is rolled back as a whole, and then each of its units runs again alone in a
 * transaction of its own: one unit's failure (its error goes to its own caller) never loses
 * another's write. Units must therefore only write through the transaction they are given, and may
 * run twice when a batch fails.
 */

interface Unit<Tx> {
  work: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Most units in one transaction: bounds how long one transaction holds the write lock. */
const MAX_BATCH = 64;

export class GroupCommit<Tx> {
  private queue: Array<Unit<Tx>> = [];
  private scheduled = false;
  private flushing = false;

  /**
   * @param transaction runs a function in one transaction and gives it the transaction's store.
   * @param defer when a batch is flushed; the default waits for the end of the current turn of the
   *   event loop, so the I/O callbacks handled in this turn join the same batch.
   */
  constructor(
    private readonly transaction: <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>,
    private readonly defer: (flush: () => void) => void = (flush) => setImmediate(flush),
  ) {}

  /** Runs `work` in a transaction shared with the other units of this batch; resolves after commit. */
  submit<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing || this.queue.length === 0) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    const batch = this.queue.splice(0, MAX_BATCH);
    try {
      await this.commit(batch);
    } finally {
      this.flushing = false;
      // Units submitted while this batch was committing form the next one.
      this.schedule();
    }
  }

  private async commit(batch: Array<Unit<Tx>>): Promise<void> {
    let results: unknown[];
    try {
      results = await this.transaction(async (tx) => {
        const out: unknown[] = [];
        for (const unit of batch) out.push(await unit.work(tx));
        return out;
      });
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // Someone's unit failed (or the commit did): each runs again alone, with its own outcome.
      for (const unit of batch) {
        try {
          unit.resolve(await this.transaction((tx) => unit.work(tx)));
        } catch (unitError) {
          unit.reject(unitError);
        }
      }
      return;
    }
    batch.forEach((unit, i) => unit.resolve(results[i]));
  }
}
