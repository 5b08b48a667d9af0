import path from 'node:path';
import fp from 'fastify-plugin';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config/schema.js';
import { defaultMigrationsRoot, loadMigrationSets, type MigrationSets } from '../../storage/migrations.js';
import type { StorageBackend } from '../../storage/port.js';
import { openPostgresBackend } from '../../storage/postgres/backend.js';
import { openSqliteBackend } from '../../storage/sqlite/backend.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The storage backend (master store and tenant stores), closed last on shutdown. */
    backend: StorageBackend;
  }
}

/** How long a starting runtime waits for a Postgres that is not up yet. */
const DATABASE_STARTUP_WAIT_MS = 60_000;

/** Opens the storage backend named by the config (the only place that picks an adapter). */
export async function openBackend(config: Config, migrations?: MigrationSets, log?: Pick<FastifyBaseLogger, 'warn'>): Promise<StorageBackend> {
  const sets = migrations ?? loadMigrationSets(config.migrationsDir ?? defaultMigrationsRoot(config.storage));
  if (config.storage === 'postgres') {
    if (config.database.url === undefined) throw new Error('AGENTIK_DATABASE_URL is required when AGENTIK_STORAGE=postgres');
    return openPostgresBackend({
      databaseUrl: config.database.url,
      poolSize: config.database.poolSize,
      migrations: sets,
      onIdleError: (error) => log?.warn({ err: error }, 'an idle database connection failed; the pool replaces it'),
      // Started beside its database (Compose, a pod), the runtime waits for it instead of exiting.
      startupWait: {
        timeoutMs: DATABASE_STARTUP_WAIT_MS,
        onWait: (reason, attempt) => log?.warn({ reason, attempt }, 'the database is not reachable yet; waiting for it'),
      },
    });
  }
  return openSqliteBackend({
    dataDir: config.dataDir,
    migrations: sets,
    onBackgroundFailure: (task, file, message) =>
      log?.warn({ task, file: path.basename(file), reason: message }, 'background work on a tenant file failed; the next write retries it'),
  });
}

/** `app.backend`: opened (and migrated) when the plugin loads, closed when the app closes. */
export const storagePlugin = fp<{ config: Config; migrations?: MigrationSets }>(
  async (app, opts) => {
    const backend = await openBackend(opts.config, opts.migrations, app.log);
    app.decorate('backend', backend);
    app.addHook('onClose', () => backend.close());
  },
  { name: 'agentik-storage' },
);
