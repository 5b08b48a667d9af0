import { afterAll, beforeAll, describe } from 'vitest';
import { newId } from '../lib/ids.js';
import type { StorageBackend, TenantStoreHandle } from './port.js';
import { defineBudgetConformance } from './conformance/budget.js';
import type { ConformanceSuite, ConformanceTarget } from './conformance/fixtures.js';
import { defineMasterConformance } from './conformance/master.js';
import { defineSearchConformance } from './conformance/search.js';
import { defineTenantConformance } from './conformance/tenant.js';
import { defineTransactionConformance } from './conformance/transactions.js';

export type { ConformanceTarget };

/**
 * THE storage contract: every adapter runs this suite unchanged (see sqlite.conformance.test.ts
 * and postgres.conformance.test.ts), by domain: master store, tenant stores, budgets, search and
 * transactions (`conformance/`). Each test works on fresh ids, so tests share one backend.
 */
export function defineStorageConformance(label: string, target: ConformanceTarget): void {
  describe(`storage conformance: ${label}`, () => {
    let backend: StorageBackend;
    const handles: TenantStoreHandle[] = [];
    const suite: ConformanceSuite = {
      backend: () => backend,
      async freshTenant() {
        const id = newId('tenant');
        await backend.provisionTenant(id);
        const handle = await backend.openTenant(id);
        handles.push(handle);
        return { id, store: handle.store, handle };
      },
    };

    beforeAll(async () => {
      backend = await target.open();
    });
    afterAll(async () => {
      for (const h of handles) await h.close();
      await backend?.close();
      await target.teardown?.();
    });

    defineMasterConformance(suite);
    defineTenantConformance(suite);
    defineBudgetConformance(suite);
    defineSearchConformance(suite);
    defineTransactionConformance(suite);
  });
}
