import type { Log } from '../../lib/log.js';
import type { BudgetNotice, BudgetNotifier } from '../../pipeline/deps.js';

/**
 * Posts each budget threshold crossing to the operator's webhook as JSON, in the background,
 * with a timeout; a failure is logged, never fatal to the request that crossed the threshold.
 */
export function createWebhookNotifier(url: string | undefined, log: Log): BudgetNotifier & { idle(): Promise<void> } {
  const pending = new Set<Promise<void>>();
  return {
    notify(notice: BudgetNotice) {
      if (!url) return;
      const sent = fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'agentik-os' },
        body: JSON.stringify({ event: 'budget.threshold_crossed', ...notice }),
        signal: AbortSignal.timeout(5_000),
      })
        .then((response) => {
          if (!response.ok) log.warn({ status: response.status, tenantId: notice.tenantId }, 'budget webhook refused the notice');
          return response.body?.cancel();
        })
        .catch((error: unknown) => log.warn({ err: error, tenantId: notice.tenantId }, 'budget webhook unreachable'))
        .finally(() => pending.delete(sent));
      pending.add(sent);
    },
    /** Resolves once every notice sent so far has been delivered or has failed. */
    async idle() {
      await Promise.all([...pending]);
    },
  };
}
