import { UpdateError } from './update-error.js';

export interface HealthGateOptions {
  /** Base URL of the server (`http://127.0.0.1:3000`). */
  baseUrl: string;
  /** How long `/ready` may take to answer 200 at all. */
  timeoutMs: number;
  /** How long it must then keep answering 200. */
  stableMs: number;
  /** Time between probes. */
  intervalMs?: number;
}

async function ready(baseUrl: string): Promise<string | true> {
  try {
    const response = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(5_000) });
    const body = await response.text();
    return response.status === 200 ? true : `${response.status} ${body.slice(0, 300)}`;
  } catch (error) {
    return (error as Error).message;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The first half of the health gate: `/ready` answers 200 within the timeout, then keeps doing
 * so for the stable window (a server that comes up and falls over again fails it).
 */
export async function waitReadyAndStable(options: HealthGateOptions): Promise<void> {
  const interval = options.intervalMs ?? 250;
  const deadline = Date.now() + options.timeoutMs;
  let last: string | true = 'no answer yet';
  for (;;) {
    last = await ready(options.baseUrl);
    if (last === true) break;
    if (Date.now() >= deadline) {
      throw new UpdateError('UPDATE_HEALTH_FAILED', `${options.baseUrl}/ready did not answer 200 within ${Math.round(options.timeoutMs / 1000)} s (last: ${last})`);
    }
    await sleep(interval);
  }
  const until = Date.now() + options.stableMs;
  while (Date.now() < until) {
    await sleep(Math.min(interval, Math.max(0, until - Date.now())));
    const now = await ready(options.baseUrl);
    if (now !== true) throw new UpdateError('UPDATE_HEALTH_FAILED', `${options.baseUrl}/ready stopped answering 200 after it was ready (${now})`);
  }
}
