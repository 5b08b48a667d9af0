import {
  AbortedTransactionError,
  CompiledQuery,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type pg from 'pg';
import { quoteIdent, type TenantScope } from './identifiers.js';
import { PipelinedQuery, type PipelineStatement } from './pipelined-query.js';
import { ReadBatch, STALE_PLAN } from './read-batch.js';

/**
 * The scope as the first statement of a pipeline: `set_config(..., true)` is the function form of
 * `SET LOCAL` (it lasts until the end of the current transaction, explicit or implicit) and takes
 * the names as parameters.
 */
const SCOPE_SQL = "SELECT set_config('role', $1, true), set_config('search_path', $2, true)";

/** Reads that may share a pipeline with other reads of the same handle: plain SELECTs, no row locks. */
const GROUP_READ = /^select\b(?![\s\S]*\bfor (update|share|no key update|key share)\b)/i;

/**
 * Inserts a transaction may hold back until its next statement or its COMMIT: the turn and cost
 * rows the pipeline writes after a model call. Nothing reads their result, and no caller handles
 * their failure apart from the transaction's: a failure surfaces from the next statement or the
 * COMMIT and rolls the whole transaction back, as it would have anyway.
 */
const DEFERRABLE = /^insert into "(conversations|messages|cost_events)" \([^()]*\) values (\((\$\d+|default)(, (\$\d+|default))*\)(, )?)+$/;

/** Rows an INSERT ... VALUES compiled by Kysely inserts. */
function insertedRows(query: CompiledQuery): bigint {
  const node = query.query as { values?: { kind?: string; values?: unknown[] } };
  return BigInt(node.values?.kind === 'ValuesNode' ? (node.values.values?.length ?? 1) : 1);
}

/**
 * One unit of work's connection (Kysely acquires one per query outside a transaction, per
 * transaction inside one). It takes a pooled client when its first statement goes out and holds
 * it until released, so no other unit's statement can run on that client in between; a
 * transaction that has sent nothing yet holds none.
 *
 * With a scope, no statement ever runs unscoped, and the scope costs no round trip of its own:
 * - outside a transaction, a query goes out as ONE pipeline `set_config(role, search_path)` +
 *   the query + Sync, which Postgres runs as one implicit transaction: the scope and the
 *   statement commit or fail together, and the scope ends with it;
 * - a transaction's `BEGIN` is held back and sent in one pipeline with the scope and the
 *   transaction's first statement; the rest of its statements follow on the same client.
 * Plain SELECTs outside a transaction go through the handle's {@link ReadBatch} instead: the
 * ones issued in the same turn share one pipeline (one scope, one round trip).
 * Inside a transaction, {@link DEFERRABLE} inserts wait and go out in the same pipeline as the
 * next statement or the COMMIT: a transaction that only writes the turn and its cost event
 * (BEGIN, scope, four inserts, COMMIT) is one round trip. Statements are prepared once per
 * connection and named, see {@link PipelinedQuery}.
 */
class PooledConnection implements DatabaseConnection {
  /** The pooled client, taken when the first statement goes out. */
  private client: pg.PoolClient | undefined;
  /** The transaction's `BEGIN ...`, not sent yet (it goes with the first statement). */
  private pendingBegin: string | undefined;
  private inTransaction = false;
  /** Held-back inserts of the open transaction, in order. */
  private deferred: PipelineStatement[] = [];
  /** Set when the client must not go back to the pool (ROLLBACK failed). */
  private broken: Error | undefined;

  constructor(private readonly driver: ScopedDriver) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.inTransaction && DEFERRABLE.test(query.sql)) {
      this.deferred.push({ text: query.sql, values: query.parameters });
      return { rows: [], numAffectedRows: insertedRows(query) };
    }
    const statement = { text: query.sql, values: query.parameters };
    let last: pg.QueryResult;
    if (this.inTransaction) last = await this.send(statement);
    else if (GROUP_READ.test(query.sql)) last = await this.driver.reads.run(statement);
    else last = await this.runAlone(statement);
    const { command, rowCount, rows } = last;
    const changed = command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE';
    return { rows: (rows ?? []) as R[], ...(changed ? { numAffectedRows: BigInt(rowCount ?? 0) } : {}) };
  }

  /**
   * One statement outside a transaction. Nothing is left open when it fails: a statement prepared
   * on this connection for a table that has since changed shape (a newer release migrated the
   * tenant) is prepared anew and run once more.
   */
  async runAlone(statement: PipelineStatement): Promise<pg.QueryResult> {
    try {
      return await this.send(statement);
    } catch (error) {
      if ((error as { code?: string }).code !== STALE_PLAN) throw error;
      return this.send(statement);
    }
  }

  /** Sends `statement` after whatever must precede it (BEGIN, the scope, held-back inserts); its result. */
  private async send(statement: PipelineStatement): Promise<pg.QueryResult> {
    const statements: PipelineStatement[] = [];
    const starting = this.pendingBegin !== undefined || !this.inTransaction;
    if (this.pendingBegin !== undefined) statements.push({ text: this.pendingBegin, values: [] });
    this.pendingBegin = undefined;
    if (starting) statements.push(...this.driver.prefix());
    statements.push(...this.deferred, statement);
    this.deferred = [];
    this.client ??= await this.driver.connect();
    const results = await PipelinedQuery.run(this.client, statements);
    return results[results.length - 1]!;
  }

  /** Gives the client back to the pool (discarded when it broke). */
  release(): void {
    this.client?.release(this.broken);
    this.client = undefined;
  }

  begin(settings: TransactionSettings): void {
    let begin = 'START TRANSACTION';
    if (settings.isolationLevel) begin += ` ISOLATION LEVEL ${settings.isolationLevel.toUpperCase()}`;
    if (settings.accessMode) begin += ` ${settings.accessMode.toUpperCase()}`;
    this.pendingBegin = begin;
    this.inTransaction = true;
  }

  async end(command: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    if (command === 'ROLLBACK') {
      // Held-back inserts are simply dropped; a transaction that never sent anything was never begun.
      const begun = this.pendingBegin === undefined;
      this.reset();
      if (!begun) return;
      try {
        await this.client?.query('ROLLBACK');
      } catch (error) {
        this.broken = error as Error;
        throw error;
      }
      return;
    }
    if (this.pendingBegin !== undefined && this.deferred.length === 0) {
      this.reset();
      return;
    }
    let result: pg.QueryResult;
    try {
      result = await this.send({ text: 'COMMIT', values: [] });
    } finally {
      this.reset();
    }
    // Postgres answers COMMIT with ROLLBACK when an earlier statement had aborted the transaction.
    if (result.command === 'ROLLBACK') throw new AbortedTransactionError();
  }

  private reset(): void {
    this.pendingBegin = undefined;
    this.deferred = [];
    this.inTransaction = false;
  }

  // Streaming is not used by the stores; a cursor could not outlive its wrapping transaction.
  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported on this connection');
  }
}

/**
 * A Kysely driver over the shared pool. With a tenant scope, every unit of work runs in a
 * transaction scoped to that tenant (role and search_path, transaction-local). Because the pool's
 * login role is NOINHERIT, a statement that somehow ran without the scope would have no
 * privileges on any tenant schema and fail in the database. Without a scope (the master store)
 * statements run as the login role in its own search_path, with the same pipelining.
 * Destroying it does not end the pool: the pool belongs to the backend.
 */
export class ScopedDriver implements Driver {
  private closed = false;
  /** This handle's reads outside transactions, grouped per turn of the event loop. */
  readonly reads: ReadBatch;

  constructor(
    private readonly pool: pg.Pool,
    private readonly scope: TenantScope | undefined,
  ) {
    this.reads = new ReadBatch(pool, () => this.prefix(), async (statement) => {
      const c = new PooledConnection(this);
      try {
        return await c.runAlone(statement);
      } finally {
        c.release();
      }
    });
  }

  /** What every unit of this handle starts with: the scope (nothing for the master store). */
  prefix(): PipelineStatement[] {
    return this.scope ? [{ text: SCOPE_SQL, values: [this.scope.role, this.scope.searchPath] }] : [];
  }

  connect(): Promise<pg.PoolClient> {
    return this.pool.connect();
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.closed) throw new Error('this store handle is closed');
    return new PooledConnection(this);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    (connection as PooledConnection).begin(settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PooledConnection).end('COMMIT');
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PooledConnection).end('ROLLBACK');
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`SAVEPOINT ${quoteIdent(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`ROLLBACK TO SAVEPOINT ${quoteIdent(name)}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`RELEASE SAVEPOINT ${quoteIdent(name)}`));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as PooledConnection).release();
  }

  /** Closes this handle only; the shared pool stays open. */
  async destroy(): Promise<void> {
    this.closed = true;
  }
}

/** A Kysely instance and the means to close it. */
export interface ScopedKysely<DB> {
  db: Kysely<DB>;
  /** Refuses further queries through `db`; the shared pool stays open. */
  close(): Promise<void>;
}

/** A Kysely instance over `pool` whose every query runs inside `scope` (none: the master store's). */
export function createScopedKysely<DB>(pool: pg.Pool, scope: TenantScope | undefined): ScopedKysely<DB> {
  const driver = new ScopedDriver(pool, scope);
  const dialect: Dialect = {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => driver,
    createQueryCompiler: () => new PostgresQueryCompiler(),
    createIntrospector: (db) => new PostgresIntrospector(db),
  };
  const db = new Kysely<DB>({ dialect });
  return {
    db,
    // Kysely skips the driver's destroy when no query ever ran, so close the driver directly.
    close: async () => {
      await driver.destroy();
      await db.destroy();
    },
  };
}
