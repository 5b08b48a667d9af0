import { Health, Readiness } from '@agentik/shared';
import type { StorageBackend } from '../../storage/port.js';
import type { Metrics } from '../../observability/metrics.js';
import type { App } from '../types.js';

/** `/health` (process alive), `/ready` (stores usable, migrations current), `/metrics`. */
export async function healthRoutes(app: App, deps: { backend: StorageBackend; metrics: Metrics; poolUsable: () => boolean }) {
  app.get('/health', { schema: { tags: ['health'], response: { 200: Health } } }, async () => ({ status: 'ok' as const }));

  app.get(
    '/ready',
    { schema: { tags: ['health'], response: { 200: Readiness, 503: Readiness } } },
    async (_request, reply) => {
      const checks = await deps.backend.readiness();
      checks.tenantPool = deps.poolUsable() ? { ok: true } : { ok: false, detail: 'tenant pool is closed' };
      const ok = Object.values(checks).every((c) => c.ok);
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not_ready', checks });
    },
  );

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}
