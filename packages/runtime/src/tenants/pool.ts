import type { TenantStore, TenantStoreHandle } from '../storage/port.js';

/** A borrowed tenant store; `release` must be called once the work is done. */
export interface TenantLease {
  readonly store: TenantStore;
  release(): void;
}

interface Entry {
  opening: Promise<TenantStoreHandle>;
  handle: TenantStoreHandle | undefined;
  refs: number;
  evicted: boolean;
}

export interface TenantPoolStats {
  /** Open tenant stores, including evicted ones still in use. */
  size: number;
  capacity: number;
  evictions: number;
}

/**
 * A bounded LRU of open tenant stores. Stores open lazily on first use; when more than
 * `capacity` are open, the least recently used is evicted. An evicted store that is still in use
 * closes when its last lease is released, so a request never loses its store half-way.
 */
export class TenantPool {
  private readonly entries = new Map<string, Entry>();
  private readonly closing = new Set<Promise<void>>();
  private evictions = 0;
  private inUseEvicted = 0;

  constructor(
    private readonly open: (tenantId: string) => Promise<TenantStoreHandle>,
    private readonly capacity: number,
    private readonly onCloseError: (tenantId: string, error: unknown) => void = () => {},
  ) {}

  async acquire(tenantId: string): Promise<TenantLease> {
    let entry = this.entries.get(tenantId);
    if (entry) {
      // Re-insert to mark it most recently used.
      this.entries.delete(tenantId);
      this.entries.set(tenantId, entry);
    } else {
      const opening = this.open(tenantId);
      const fresh: Entry = { opening, handle: undefined, refs: 0, evicted: false };
      entry = fresh;
      this.entries.set(tenantId, fresh);
      opening.then(
        (h) => {
          fresh.handle = h;
        },
        () => {
          if (this.entries.get(tenantId) === fresh) this.entries.delete(tenantId);
        },
      );
      this.trim();
    }
    entry.refs += 1;
    let handle: TenantStoreHandle;
    try {
      handle = await entry.opening;
    } catch (error) {
      entry.refs -= 1;
      throw error;
    }
    const held = entry;
    let released = false;
    return {
      store: handle.store,
      release: () => {
        if (released) return;
        released = true;
        held.refs -= 1;
        if (held.evicted && held.refs === 0) {
          this.inUseEvicted -= 1;
          this.closeEntry(tenantId, held);
        }
      },
    };
  }

  /** Drops the tenant's store from the pool, closing it now or when its last lease ends. */
  evict(tenantId: string): Promise<void> {
    const entry = this.entries.get(tenantId);
    if (!entry) return Promise.resolve();
    this.entries.delete(tenantId);
    return this.retire(tenantId, entry);
  }

  stats(): TenantPoolStats {
    return { size: this.entries.size + this.inUseEvicted, capacity: this.capacity, evictions: this.evictions };
  }

  /** Closes every store; waits for the ones being closed already. */
  async closeAll(): Promise<void> {
    const all = [...this.entries.entries()];
    this.entries.clear();
    await Promise.all(all.map(([id, entry]) => this.closeEntry(id, entry)));
    await Promise.all([...this.closing]);
  }

  private trim(): void {
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      const entry = this.entries.get(oldest)!;
      this.entries.delete(oldest);
      this.evictions += 1;
      void this.retire(oldest, entry);
    }
  }

  private retire(tenantId: string, entry: Entry): Promise<void> {
    entry.evicted = true;
    if (entry.refs > 0) {
      this.inUseEvicted += 1;
      return Promise.resolve();
    }
    return this.closeEntry(tenantId, entry);
  }

  private closeEntry(tenantId: string, entry: Entry): Promise<void> {
    const done = entry.opening
      .then((h) => h.close())
      .catch((error: unknown) => this.onCloseError(tenantId, error));
    this.closing.add(done);
    return done.finally(() => this.closing.delete(done));
  }
}
