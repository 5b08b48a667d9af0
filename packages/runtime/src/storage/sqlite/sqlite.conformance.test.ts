import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineStorageConformance } from '../conformance.js';
import { defaultMigrationsRoot, loadMigrationSets } from '../migrations.js';
import { openSqliteBackend } from './backend.js';

let dataDir: string | undefined;

defineStorageConformance('sqlite', {
  async open() {
    dataDir = mkdtempSync(path.join(tmpdir(), 'agentik-conformance-'));
    return openSqliteBackend({ dataDir, migrations: loadMigrationSets(defaultMigrationsRoot('sqlite')) });
  },
  async teardown() {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  },
});
