import type pg from 'pg';

/**
 * Connection failures that mean "not up yet" rather than "wrong": nothing listens on the port,
 * the host name does not resolve yet (a container still being created), the connection was
 * cut or timed out, or the server is starting or restarting (57P03 cannot_connect_now).
 * A wrong password, a missing database or a refused role fail at once.
 */
const NOT_UP_YET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', '57P03']);

function notUpYet(error: unknown): string | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return NOT_UP_YET.has(code) ? code : undefined;
  // pg's own connection timeout and a socket closed during the handshake carry no code.
  const message = error instanceof Error ? error.message : '';
  if (/timeout expired|Connection terminated/i.test(message)) return 'no answer';
  return undefined;
}

export interface WaitForDatabaseOptions {
  /** How long to keep trying, in milliseconds. */
  timeoutMs: number;
  /** Told before each wait: why the last attempt failed and how many there were. */
  onWait?: (reason: string, attempt: number) => void;
  /** Waits (injectable for tests). */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Returns once the pool can open a connection. At start the database may not be up yet (a
 * Compose stack starts the runtime beside Postgres; a pod may start before its database): the
 * runtime waits for it, with growing pauses up to 2 s, instead of exiting and being restarted.
 * An error that waiting cannot fix, or the deadline, rejects with the last error.
 */
export async function waitForDatabase(pool: pg.Pool, options: WaitForDatabaseOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + options.timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const client = await pool.connect();
      client.release();
      return;
    } catch (error) {
      const reason = notUpYet(error);
      if (reason === undefined || now() >= deadline) throw error;
      options.onWait?.(reason, attempt);
      await sleep(Math.min(2_000, 100 * 2 ** Math.min(attempt - 1, 5), Math.max(0, deadline - now())));
    }
  }
}
