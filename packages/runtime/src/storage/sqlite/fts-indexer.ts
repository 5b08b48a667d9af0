import { sql, type Kysely } from 'kysely';
import type { TenantDb } from '../kysely/tables.js';

/**
 * Indexes queued messages (`messages_fts_pending`, filled by a trigger, see tenant migration 0003)
 * into `messages_fts`, oldest first, in one transaction; at most `limit` of them when given.
 * Returns how many were indexed.
 */
export async function indexPendingMessages(db: Kysely<TenantDb>, limit?: number): Promise<number> {
  const run = async (tx: Kysely<TenantDb>): Promise<number> => {
    const bound = limit === undefined ? sql`` : sql`LIMIT ${limit}`;
    const { rows } = await sql<{ upto: number | null; n: number }>`
      SELECT max(message_rowid) AS upto, count(*) AS n
        FROM (SELECT message_rowid FROM messages_fts_pending ORDER BY message_rowid ${bound})`.execute(tx);
    const { upto, n } = rows[0]!;
    if (upto === null) return 0;
    await sql`INSERT INTO messages_fts (rowid, content)
      SELECT m.rowid, m.content FROM messages_fts_pending p JOIN messages m ON m.rowid = p.message_rowid
       WHERE p.message_rowid <= ${upto}`.execute(tx);
    await sql`DELETE FROM messages_fts_pending WHERE message_rowid <= ${upto}`.execute(tx);
    return Number(n);
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

/** How long after a write the queue is indexed: writes arriving meanwhile share that transaction. */
const INDEX_DELAY_MS = 200;
/** Most messages indexed per transaction, so that a long queue never blocks the event loop long. */
const INDEX_BATCH = 500;

/**
 * Indexes one tenant store's queue in the background: {@link schedule} after writing messages,
 * and a run follows shortly, in batches, off the request path. A run that fails leaves the
 * messages queued: the next run, or the next search, indexes them.
 */
export class FtsIndexer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  /** @param onFailure hears about a run that failed (its messages stay queued). */
  constructor(
    private readonly db: Kysely<TenantDb>,
    private readonly onFailure: (message: string) => void = () => {},
    private readonly delayMs = INDEX_DELAY_MS,
    private readonly batch = INDEX_BATCH,
  ) {}

  /** Asks for a run soon; cheap to call after every write. */
  schedule(delayMs = this.delayMs): void {
    if (this.timer !== undefined || this.running !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.run().finally(() => {
        this.running = undefined;
      });
    }, delayMs);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    let indexed: number;
    try {
      indexed = await indexPendingMessages(this.db, this.batch);
    } catch (error) {
      this.onFailure((error as Error).message);
      return;
    }
    // A full batch: more may be queued; carry on at once, but in a later turn of the event loop.
    if (indexed === this.batch) setImmediate(() => this.schedule(0));
  }

  /** Stops scheduling and waits for a run in progress; what is still queued stays queued. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
