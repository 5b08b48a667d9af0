import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultMigrationsRoot, loadMigrationSets } from '../migrations.js';
import type { StorageBackend, TenantStoreHandle } from '../port.js';
import { openSqliteBackend } from './backend.js';
import { openDatabase } from './open-database.js';

/**
 * `readTogether` on SQLite: the reads it starts run in one read transaction, so they see one
 * snapshot of the file. Another connection's commit between two of them shows it: a read
 * transaction of its own per statement would see the second one's rows.
 */
describe('SQLite readTogether', () => {
  let dataDir: string;
  let backend: StorageBackend;
  let handle: TenantStoreHandle;
  const tenantId = 'tenant_read_together';

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'agentik-read-together-'));
    backend = openSqliteBackend({ dataDir, migrations: loadMigrationSets(defaultMigrationsRoot('sqlite')) });
    await backend.provisionTenant(tenantId);
    handle = await backend.openTenant(tenantId);
  });

  afterAll(async () => {
    await handle.close();
    await backend.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reads started together see one snapshot; later reads see the other connection’s commit', async () => {
    const { store } = handle;
    const other = openDatabase(path.join(dataDir, 'tenants', `${tenantId}.db`), true);
    try {
      const putOther = (provider: string) =>
        other.prepare('INSERT INTO provider_credentials (provider, base_url, api_key, updated_at) VALUES (?, NULL, NULL, 1)').run(provider);
      const [before, after] = store.readTogether(() => {
        const first = store.providerCredentials.list();
        putOther('openai');
        return [first, store.providerCredentials.list()];
      });
      expect(await before).toEqual([]);
      expect(await after).toEqual([]);
      expect((await store.providerCredentials.list()).map((c) => c.provider)).toEqual(['openai']);

      // Outside readTogether each read is a transaction of its own and sees the commit at once.
      const first = store.providerCredentials.list();
      putOther('anthropic');
      const second = store.providerCredentials.list();
      expect((await first).map((c) => c.provider)).toEqual(['openai']);
      expect((await second).map((c) => c.provider)).toEqual(['anthropic', 'openai']);
    } finally {
      other.close();
    }
  });
});
