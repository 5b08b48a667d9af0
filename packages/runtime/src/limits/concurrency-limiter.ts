/** One slot of a concurrency limit, held until released. */
export interface Lease {
  /** Gives the slot back; a second call does nothing. */
  release(): void;
}

/** Counts things in flight per key (a tenant, a tenant's share of an upstream) against a limit. */
export interface ConcurrencyLimiter {
  /** A slot under `key` when fewer than `limit` are held, else undefined. */
  acquire(key: string, limit: number): Promise<Lease | undefined>;
  /** Slots held under `key` right now (as far as this limiter can tell). */
  held(key: string): Promise<number>;
}

/**
 * A counter per key in this process: one Map lookup per acquire and per release, no I/O. Enough
 * for one process, and for what is per process by nature (a share of this process's sockets).
 */
export class LocalConcurrencyLimiter implements ConcurrencyLimiter {
  private readonly counts = new Map<string, number>();

  acquire(key: string, limit: number): Promise<Lease | undefined> {
    return Promise.resolve(this.tryAcquire(key, limit));
  }

  /** The synchronous form of {@link acquire}. */
  tryAcquire(key: string, limit: number): Lease | undefined {
    const n = this.counts.get(key) ?? 0;
    if (n >= limit) return undefined;
    this.counts.set(key, n + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const left = (this.counts.get(key) ?? 1) - 1;
        if (left <= 0) this.counts.delete(key);
        else this.counts.set(key, left);
      },
    };
  }

  held(key: string): Promise<number> {
    return Promise.resolve(this.counts.get(key) ?? 0);
  }
}
