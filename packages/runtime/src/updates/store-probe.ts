import { randomInt } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { openBackend } from '../http/plugins/storage.js';

/** Up to this many tenants every store is read; past it, a random sample of this size. */
export const PROBE_ALL_UP_TO = 200;

export interface ProbeResult {
  /** Live tenants in the master store. */
  live: number;
  /** Tenant stores read. */
  read: number;
  /** `<tenant id>: <error>` of every store that could not be read. */
  failures: string[];
}

/**
 * The last part of the health gate: `/ready` checks the master store, not that every tenant
 * store survived its migration. This opens the tenant stores through the release's own backend
 * code (every one, or a random sample past {@link PROBE_ALL_UP_TO}) and reads from each what the
 * API reads first: agents, conversations with their latest messages, the audit log.
 */
export async function probeTenantStores(config: Config, limit = PROBE_ALL_UP_TO): Promise<ProbeResult> {
  const backend = await openBackend(config);
  try {
    const ids: string[] = [];
    let after: string | undefined;
    do {
      const page = await backend.master.tenants.list({ after, limit: 200 });
      for (const t of page.items) if (t.status !== 'deleted') ids.push(t.id);
      after = page.nextCursor ?? undefined;
    } while (after);
    let chosen = ids;
    if (ids.length > limit) {
      const pool = [...ids];
      chosen = [];
      while (chosen.length < limit) chosen.push(pool.splice(randomInt(pool.length), 1)[0]!);
    }
    const failures: string[] = [];
    for (const id of chosen) {
      try {
        const handle = await backend.openTenant(id);
        try {
          const store = handle.store;
          await store.agents.list({ limit: 5 });
          const conversations = await store.conversations.list({ limit: 5 });
          for (const c of conversations.items) await store.messages.recent(c.id, 5);
          await store.audit.list({ limit: 5 });
        } finally {
          await handle.close();
        }
      } catch (error) {
        failures.push(`${id}: ${(error as Error).message}`);
      }
    }
    return { live: ids.length, read: chosen.length - failures.length, failures };
  } finally {
    await backend.close();
  }
}
