import pg from 'pg';
import { MASTER_SCHEMA } from './identifiers.js';

/** OID of `int8` (BIGINT): counts, sums of integers and the epoch-ms columns. */
const INT8_OID = 20;

/**
 * BIGINT comes back as a JS number instead of pg's default string. Epoch milliseconds and
 * counts stay far below 2^53, where a number is exact. Set per pool (pg's `types` option), never
 * on the global `pg.types`, so nothing else in the process changes behaviour.
 */
const getTypeParser = ((oid: number, format?: 'text' | 'binary') => {
  if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
  return pg.types.getTypeParser(oid, format);
}) as typeof pg.types.getTypeParser;

/** Settings of the shared connection pool. */
export interface PgPoolOptions {
  /** `postgres://user[:password]@host:port/database`; the user is the runtime's login role. */
  databaseUrl: string;
  /** Connections this process may hold at most. */
  poolSize: number;
  /** Called when an idle pooled connection fails (the pool drops it and opens a new one later). */
  onIdleError?: (error: Error) => void;
  /**
   * Commit without waiting for the WAL flush (`synchronous_commit=off`). Only for data whose
   * last few commits may be lost in a database crash: the rate-limit counters.
   */
  asyncCommit?: boolean;
}

/** One pool per process, shared by the master store and every tenant handle. */
export function createPgPool(options: PgPoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: options.poolSize,
    // Master queries run unqualified in the master schema; tenant transactions override this
    // with SET LOCAL search_path.
    options: `-c search_path=${MASTER_SCHEMA}${options.asyncCommit ? ' -c synchronous_commit=off' : ''}`,
    types: { getTypeParser },
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'agentik-runtime',
  });
  // Without a listener an idle connection's error (a database restart) would crash the process.
  pool.on('error', (error) => options.onIdleError?.(error));
  return pool;
}
