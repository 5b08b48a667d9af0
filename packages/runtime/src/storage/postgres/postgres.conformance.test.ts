import { defineStorageConformance } from '../conformance.js';
import { defaultMigrationsRoot, loadMigrationSets } from '../migrations.js';
import { createTestDatabase, type TestDatabase } from '../../test-support/postgres.js';
import { openPostgresBackend } from './backend.js';

let db: TestDatabase | undefined;

defineStorageConformance('postgres', {
  async open() {
    db = await createTestDatabase();
    return openPostgresBackend({ databaseUrl: db.url, poolSize: 10, migrations: loadMigrationSets(defaultMigrationsRoot('postgres')) });
  },
  async teardown() {
    await db?.drop();
  },
});
