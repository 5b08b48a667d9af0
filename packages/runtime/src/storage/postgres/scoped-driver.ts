import {
  AbortedTransactionError,
  CompiledQuery,
  Kysely,
  PostgresAdapter,
  PostgresDialect,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type pg from 'pg';

/**
 * A connection of a {@link ScopedDriver}: inside an explicit transaction queries go straight
 * through (the scope was set right after BEGIN); outside one, every query becomes its own
 * transaction `BEGIN; <scope>` / query / `COMMIT`, so no statement ever runs unscoped.
 */
class ScopedConnection implements DatabaseConnection {
  inTransaction = false;

  constructor(
    readonly inner: DatabaseConnection,
    private readonly driver: ScopedDriver,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.inTransaction) return this.inner.executeQuery<R>(query);
    await this.driver.beginTransaction(this, {});
    let result: QueryResult<R>;
    try {
      result = await this.inner.executeQuery<R>(query);
    } catch (error) {
      await this.driver.rollbackTransaction(this);
      throw error;
    }
    await this.driver.commitTransaction(this);
    return result;
  }

  // Streaming is not used by the stores; a cursor could not outlive its wrapping transaction.
  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported on a tenant-scoped connection');
  }
}

/**
 * A Kysely driver over the shared pool that runs every unit of work in a transaction scoped to
 * one tenant: `SET LOCAL ROLE <tenant role>` and `SET LOCAL search_path TO <tenant schema>`.
 * Because the pool's login role is NOINHERIT, a statement that somehow ran without the scope
 * would have no privileges on any tenant schema and fail in the database.
 * Destroying it does not end the pool: the pool belongs to the backend.
 */
export class ScopedDriver implements Driver {
  private closed = false;

  /**
   * @param inner a PostgresDriver over the shared pool (its own destroy is never called)
   * @param scope the `SET LOCAL ...` statements, made of validated, quoted identifiers only
   */
  constructor(
    private readonly inner: Driver,
    private readonly scope: string,
  ) {}

  async init(): Promise<void> {
    await this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.closed) throw new Error('this tenant store handle is closed');
    return new ScopedConnection(await this.inner.acquireConnection(), this);
  }

  /** BEGIN and the scope in one round trip (a simple-protocol query without parameters). */
  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const c = connection as ScopedConnection;
    let begin = 'START TRANSACTION';
    if (settings.isolationLevel) begin += ` ISOLATION LEVEL ${settings.isolationLevel}`;
    if (settings.accessMode) begin += ` ${settings.accessMode}`;
    try {
      await c.inner.executeQuery(CompiledQuery.raw(`${begin}; ${this.scope}`));
    } catch (error) {
      // BEGIN may have succeeded before the scope failed (a dropped tenant role): the client must
      // not go back to the pool inside an aborted transaction. If ROLLBACK fails too, the inner
      // driver discards the client; the scope error is the one worth reporting.
      await this.inner.rollbackTransaction(c.inner).catch(() => undefined);
      throw error;
    }
    c.inTransaction = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as ScopedConnection;
    c.inTransaction = false;
    const { rows } = await c.inner.executeQuery<{ command?: string }>(CompiledQuery.raw('COMMIT'));
    // Postgres answers COMMIT with ROLLBACK when an earlier statement had aborted the transaction.
    if (rows[0]?.command === 'ROLLBACK') throw new AbortedTransactionError();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as ScopedConnection;
    c.inTransaction = false;
    // The inner driver marks the client for discard when even ROLLBACK fails.
    await this.inner.rollbackTransaction(c.inner);
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.inner.savepoint!((connection as ScopedConnection).inner, name, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.inner.rollbackToSavepoint!((connection as ScopedConnection).inner, name, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.inner.releaseSavepoint!((connection as ScopedConnection).inner, name, compile);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    await this.inner.releaseConnection((connection as ScopedConnection).inner);
  }

  /** Closes this handle only; the shared pool stays open. */
  async destroy(): Promise<void> {
    this.closed = true;
  }
}

/** A tenant-scoped Kysely instance and the means to close it. */
export interface ScopedKysely<DB> {
  db: Kysely<DB>;
  /** Refuses further queries through `db`; the shared pool stays open. */
  close(): Promise<void>;
}

/** A Kysely instance over `pool` whose every query runs inside `scope`. */
export function createScopedKysely<DB>(pool: pg.Pool, scope: string): ScopedKysely<DB> {
  const driver = new ScopedDriver(new PostgresDialect({ pool }).createDriver(), scope);
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
