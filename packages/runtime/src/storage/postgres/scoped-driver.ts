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

/**
 * The scope as the first statement of a pipeline: `set_config(..., true)` is the function form of
 * `SET LOCAL` (it lasts until the end of the current transaction, explicit or implicit) and takes
 * the names as parameters.
 */
const SCOPE_SQL = "SELECT set_config('role', $1, true), set_config('search_path', $2, true)";

/**
 * Inserts a transaction may hold back until its next statement or its COMMIT: the turn and cost
 * rows the pipeline writes after a model call. Nothing reads their result, and no caller handles
 * their failure apart from the transaction's: a failure surfaces from the next statement or the
 * COMMIT and rolls the whole transaction back, as it would have anyway.
 */
const DEFERRABLE = /^insert into "(conversations|messages|cost_events)" \([^()]*\) values (\((\$\d+|default)(, (\$\d+|default))*\)(, )?)+$/;

/** Postgres: "cached plan must not change result type" (a table changed shape under a prepared statement). */
const FEATURE_NOT_SUPPORTED = '0A000';

/** Rows an INSERT ... VALUES compiled by Kysely inserts. */
function insertedRows(query: CompiledQuery): bigint {
  const node = query.query as { values?: { kind?: string; values?: unknown[] } };
  return BigInt(node.values?.kind === 'ValuesNode' ? (node.values.values?.length ?? 1) : 1);
}

/**
 * One pooled client, held by one unit of work from acquire to release (Kysely acquires per query
 * outside a transaction, per transaction inside one), so no other unit's statement can run on it
 * in between.
 *
 * With a scope, no statement ever runs unscoped, and the scope costs no round trip of its own:
 * - outside a transaction, a query goes out as ONE pipeline `set_config(role, search_path)` +
 *   the query + Sync, which Postgres runs as one implicit transaction: the scope and the
 *   statement commit or fail together, and the scope ends with it;
 * - a transaction's `BEGIN` is held back and sent in one pipeline with the scope and the
 *   transaction's first statement; the rest of its statements follow on the same client.
 * Inside a transaction, {@link DEFERRABLE} inserts wait and go out in the same pipeline as the
 * next statement or the COMMIT: a transaction that only writes the turn and its cost event
 * (BEGIN, scope, four inserts, COMMIT) is one round trip. Statements are prepared once per
 * connection and named, see {@link PipelinedQuery}.
 */
class PooledConnection implements DatabaseConnection {
  /** The transaction's `BEGIN ...`, not sent yet (it goes with the first statement). */
  private pendingBegin: string | undefined;
  private inTransaction = false;
  /** Held-back inserts of the open transaction, in order. */
  private deferred: PipelineStatement[] = [];
  /** Set when the client must not go back to the pool (ROLLBACK failed). */
  broken: Error | undefined;

  constructor(
    readonly client: pg.PoolClient,
    private readonly scope: TenantScope | undefined,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.inTransaction && DEFERRABLE.test(query.sql)) {
      this.deferred.push({ text: query.sql, values: query.parameters });
      return { rows: [], numAffectedRows: insertedRows(query) };
    }
    const statement = { text: query.sql, values: query.parameters };
    let last: pg.QueryResult;
    try {
      last = await this.send(statement);
    } catch (error) {
      // Outside a transaction nothing is left open: a statement prepared on this connection for a
      // table that has since changed shape (a newer release migrated the tenant) is prepared anew.
      if (this.inTransaction || (error as { code?: string }).code !== FEATURE_NOT_SUPPORTED) throw error;
      last = await this.send(statement);
    }
    const { command, rowCount, rows } = last;
    const changed = command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE';
    return { rows: (rows ?? []) as R[], ...(changed ? { numAffectedRows: BigInt(rowCount ?? 0) } : {}) };
  }

  /** Sends `statement` after whatever must precede it (BEGIN, the scope, held-back inserts); its result. */
  private async send(statement: PipelineStatement): Promise<pg.QueryResult> {
    const statements: PipelineStatement[] = [];
    const starting = this.pendingBegin !== undefined || !this.inTransaction;
    if (this.pendingBegin !== undefined) statements.push({ text: this.pendingBegin, values: [] });
    this.pendingBegin = undefined;
    if (this.scope && starting) statements.push({ text: SCOPE_SQL, values: [this.scope.role, this.scope.searchPath] });
    statements.push(...this.deferred, statement);
    this.deferred = [];
    const results = await PipelinedQuery.run(this.client, statements);
    return results[results.length - 1]!;
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
        await this.client.query('ROLLBACK');
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

  constructor(
    private readonly pool: pg.Pool,
    private readonly scope: TenantScope | undefined,
  ) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.closed) throw new Error('this store handle is closed');
    return new PooledConnection(await this.pool.connect(), this.scope);
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
    const c = connection as PooledConnection;
    c.client.release(c.broken);
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
