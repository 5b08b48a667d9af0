import type { Role } from '@agentik/shared';
import type { TenantStore } from '../storage/port.js';
import type { TenantRecord } from '../storage/records.js';
import type { Principal, TenantContext } from './context.js';
import type { TenantLease } from './pool.js';

/**
 * The tenant context of one request, owning the request's one lease on the tenant's store. The
 * lease is held until both the response has closed and the route handler has finished (or is
 * known never to run): a handler that outlives its response, such as a run whose client went
 * away and is still billed, keeps its store, so an eviction cannot close it under a write.
 */
export class TenantScope implements TenantContext {
  readonly store: TenantStore;
  private responseOpen = true;
  private handler: 'waiting' | 'running' | 'done' = 'waiting';

  constructor(
    readonly tenant: TenantRecord,
    readonly principal: Principal,
    readonly role: Role,
    private readonly lease: TenantLease,
  ) {
    this.store = lease.store;
  }

  /** The response has closed: sent, or the client went away. */
  responseClosed(): void {
    this.responseOpen = false;
    this.settle();
  }

  /** Runs the route handler; the lease is held at least until it has finished. */
  async runHandler<T>(handler: () => T | Promise<T>): Promise<T> {
    this.handler = 'running';
    try {
      return await handler();
    } finally {
      this.handler = 'done';
      this.settle();
    }
  }

  /** A reply is on its way; if the handler has not started, it never will (an error before it). */
  replying(): void {
    if (this.handler !== 'waiting') return;
    this.handler = 'done';
    this.settle();
  }

  private settle(): void {
    // TenantLease.release is idempotent.
    if (!this.responseOpen && this.handler === 'done') this.lease.release();
  }
}
