import fp from 'fastify-plugin';
import { createWebhookNotifier } from '../../adapters/notifications/webhook-notifier.js';
import type { BudgetNotifier } from '../../pipeline/deps.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Budget notices to the operator's webhook; shutdown waits for the ones under way. */
    notifier: BudgetNotifier & { idle(): Promise<void> };
  }
}

/** `app.notifier`: posts to `url` (none: drops notices); on close, waits for pending posts. */
export const notifierPlugin = fp<{ url: string | undefined }>(
  async (app, opts) => {
    const notifier = createWebhookNotifier(opts.url, app.log);
    app.decorate('notifier', notifier);
    app.addHook('onClose', () => notifier.idle());
  },
  { name: 'agentik-notifier' },
);
