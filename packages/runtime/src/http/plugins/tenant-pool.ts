import fp from 'fastify-plugin';
import { TenantPool } from '../../tenants/pool.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Open tenant stores (a bounded LRU); every store is closed on shutdown. */
    pool: TenantPool;
    /** False once shutdown has begun closing the pool (`/ready` reports it). */
    poolUsable(): boolean;
  }
}

/** `app.pool`: the tenant stores of `app.backend`, closed on shutdown before the backend. */
export const tenantPoolPlugin = fp<{ size: number }>(
  async (app, opts) => {
    let open = true;
    const pool = new TenantPool(
      (tenantId) => app.backend.openTenant(tenantId),
      opts.size,
      (tenantId, error) => app.log.error({ err: error, tenantId }, 'closing a tenant store failed'),
    );
    app.decorate('pool', pool);
    app.decorate('poolUsable', () => open);
    app.addHook('onClose', async () => {
      open = false;
      await pool.closeAll();
    });
  },
  { name: 'agentik-tenant-pool', dependencies: ['agentik-storage'] },
);
