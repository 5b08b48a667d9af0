import { parseArgs } from 'node:util';
import { CreateKeyBody, CreateTenantBody, UpdateTenantBody } from '@agentik/shared';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { VERSION, createLogger } from '../http/app.js';
import { openBackend } from '../http/plugins/storage.js';
import { BackupError } from '../backup/sqlite-backup.js';
import { backupData, restoreBackup } from '../backup/backup-data.js';
import { AppError } from '../lib/app-error.js';
import { presentTenant } from '../http/present.js';
import { loadMigrationSets, defaultMigrationsRoot } from '../storage/migrations.js';
import type { StorageBackend } from '../storage/port.js';
import { KeyService } from '../tenants/key-service.js';
import { TenantManager } from '../tenants/manager.js';
import { TenantPool } from '../tenants/pool.js';
import type { CliIo } from './io.js';
import { serve } from './serve.js';
import { updateCommand } from '../updates/update-command.js';

const USAGE = `usage: agentik <command>

  serve                                   start the server
  migrate                                 bring the master store and every tenant store up to date
  tenant create --name N --owner O [--slug S] [--plan free|pro|enterprise]
  tenant list [--json]
  tenant delete <id|slug>
  tenant update <id|slug> [--plan P] [--rpm N|none] [--max-agents N|none] [--max-keys N|none] [--max-concurrent-calls N|none]
                                          set the plan or override its limits (none: back to the plan's)
  key create (--tenant <id|slug> --role owner|admin|member|viewer | --operator) [--name N]
  key revoke <keyId> [--tenant <id|slug>]
  backup --out DIR                        consistent copy of the data while the server runs (SQLite)
  restore --from DIR [--force]            put a backup back into the data folder (server stopped)
  healthcheck [--url http://127.0.0.1:3000]   exit 0 when /ready answers 200
  update check|apply|rollback|status|recover [options]   offline updates (agentik update --help)
  version`;

class UsageError extends Error {}

async function withManager<T>(config: Config, fn: (m: TenantManager, b: StorageBackend, keys: KeyService) => Promise<T>): Promise<T> {
  const backend = await openBackend(config);
  const pool = new TenantPool((id) => backend.openTenant(id), 4);
  const manager = new TenantManager({ backend, pool, log: createLogger({ ...config, logLevel: 'warn' }, process.stderr) });
  try {
    return await fn(manager, backend, new KeyService({ manager, pool, now: Date.now }));
  } finally {
    await pool.closeAll();
    await backend.close();
  }
}

function valuesOf<O extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(args: string[], options: O) {
  return parseArgs({ args, options, allowPositionals: true, strict: true });
}

async function tenantCommand(config: Config, args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'create') {
    const { values } = valuesOf(rest, {
      name: { type: 'string' },
      owner: { type: 'string' },
      slug: { type: 'string' },
      plan: { type: 'string' },
    });
    const body = CreateTenantBody.safeParse(values);
    if (!body.success) throw new UsageError(body.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n'));
    const tenant = await withManager(config, (m) => m.createTenant(body.data, 'cli'));
    io.out(JSON.stringify({ id: tenant.id, slug: tenant.slug, name: tenant.name, plan: tenant.plan }));
    return 0;
  }
  if (sub === 'list') {
    const { values } = valuesOf(rest, { json: { type: 'boolean' } });
    await withManager(config, async (m) => {
      let after: string | undefined;
      do {
        const page = await m.listTenants({ after, limit: 200 });
        for (const t of page.items) {
          io.out(values.json ? JSON.stringify(t) : `${t.id}  ${t.slug}  ${t.plan}  ${t.status}  ${t.name}`);
        }
        after = page.nextCursor ?? undefined;
      } while (after);
    });
    return 0;
  }
  if (sub === 'delete') {
    const ref = rest[0];
    if (!ref) throw new UsageError('tenant delete needs an id or slug');
    const deleted = await withManager(config, async (m) => {
      const tenant = await m.getTenant(ref);
      return tenant ? m.deleteTenant(tenant.id, 'cli') : false;
    });
    if (!deleted) {
      io.err(`no live tenant ${ref}`);
      return 1;
    }
    io.out(`deleted ${ref}`);
    return 0;
  }
  if (sub === 'update') return tenantUpdate(config, rest, io);
  throw new UsageError(`unknown tenant command ${sub ?? ''}`);
}

/** `tenant update` options and the limit each one overrides. */
const LIMIT_OPTIONS = {
  rpm: 'requestsPerMinute',
  'max-agents': 'maxAgents',
  'max-keys': 'maxKeys',
  'max-concurrent-calls': 'maxConcurrentCalls',
} as const;

/** "none" clears an override; a whole number sets it; anything else is left for the schema to refuse. */
function limitArg(value: string): number | null | string {
  if (value === 'none') return null;
  return /^[0-9]+$/.test(value) ? Number(value) : value;
}

async function tenantUpdate(config: Config, args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = valuesOf(args, {
    plan: { type: 'string' },
    rpm: { type: 'string' },
    'max-agents': { type: 'string' },
    'max-keys': { type: 'string' },
    'max-concurrent-calls': { type: 'string' },
  });
  const ref = positionals[0];
  if (!ref) throw new UsageError('tenant update needs an id or slug');
  const limits: Record<string, unknown> = {};
  for (const [option, name] of Object.entries(LIMIT_OPTIONS)) {
    const value = values[option as keyof typeof values];
    if (typeof value === 'string') limits[name] = limitArg(value);
  }
  const input = { ...(values.plan !== undefined ? { plan: values.plan } : {}), ...(Object.keys(limits).length > 0 ? { limits } : {}) };
  if (Object.keys(input).length === 0) throw new UsageError('tenant update needs --plan or a limit option');
  const body = UpdateTenantBody.safeParse(input);
  if (!body.success) {
    const option = (path: PropertyKey[]) =>
      path[0] === 'limits' ? Object.entries(LIMIT_OPTIONS).find(([, name]) => name === path[1])?.[0] ?? String(path[1]) : String(path[0]);
    throw new UsageError(body.error.issues.map((i) => `--${option(i.path)}: ${i.message}`).join('\n'));
  }
  const tenant = await withManager(config, async (m) => {
    const found = await m.getTenant(ref);
    if (!found || found.status === 'deleted') throw new AppError('TENANT_NOT_FOUND', `no live tenant ${ref}`);
    return m.updateTenant(found.id, body.data, 'cli');
  });
  io.out(JSON.stringify(presentTenant(tenant)));
  return 0;
}

async function keyCommand(config: Config, args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = valuesOf(rest, {
    tenant: { type: 'string' },
    role: { type: 'string' },
    name: { type: 'string' },
    operator: { type: 'boolean' },
  });
  return withManager(config, async (m, _backend, keys) => {
    const tenantId = async () => {
      if (values.tenant === undefined) return null;
      const tenant = await m.getActiveTenant(values.tenant);
      if (!tenant) throw new AppError('TENANT_NOT_FOUND', `no active tenant ${values.tenant}`);
      return tenant.id;
    };
    if (sub === 'create') {
      if (values.operator) {
        const issued = await m.createKey(null, 'operator', values.name ?? 'operator', 'cli');
        io.out(JSON.stringify({ id: issued.record.id, key: issued.secret, role: 'operator' }));
        return 0;
      }
      const body = CreateKeyBody.safeParse({ role: values.role, name: values.name });
      const id = await tenantId();
      if (!body.success || id === null) throw new UsageError('key create needs --tenant and --role, or --operator');
      const issued = await keys.issue(id, body.data.role, body.data.name ?? null, 'cli');
      io.out(JSON.stringify({ id: issued.record.id, key: issued.secret, role: body.data.role }));
      return 0;
    }
    if (sub === 'revoke') {
      const keyId = positionals[0];
      if (!keyId) throw new UsageError('key revoke needs a key id');
      const tenant = await tenantId();
      const revoked = tenant === null ? await m.revokeKey(keyId, null, 'cli') : await keys.revoke(keyId, tenant, 'cli');
      if (!revoked) {
        io.err(`no live key ${keyId}`);
        return 1;
      }
      io.out(`revoked ${keyId}`);
      return 0;
    }
    throw new UsageError(`unknown key command ${sub ?? ''}`);
  });
}

async function migrateCommand(config: Config, io: CliIo): Promise<number> {
  const sets = loadMigrationSets(config.migrationsDir ?? defaultMigrationsRoot('sqlite'));
  io.out(`master store: ${sets.master.length} migrations current`);
  await withManager(config, async (m, backend) => {
    let after: string | undefined;
    let count = 0;
    do {
      const page = await m.listTenants({ after, limit: 200 });
      for (const t of page.items) {
        if (t.status === 'deleted') continue;
        const handle = await backend.openTenant(t.id);
        await handle.close();
        count += 1;
      }
      after = page.nextCursor ?? undefined;
    } while (after);
    io.out(`tenant stores: ${count} at ${sets.tenant.length} migrations`);
    // An installer seeds the first operator key here, through the environment of this one
    // process, so that the key never has to sit in a configuration file that `serve` reads.
    if (config.operatorKey !== undefined) {
      const operator = await m.ensureOperatorKey(config.operatorKey);
      io.out(operator.created ? 'operator key: AGENTIK_OPERATOR_KEY adopted' : 'operator key: one exists already, AGENTIK_OPERATOR_KEY ignored');
    }
  });
  return 0;
}

function backupCommand(config: Config, args: string[], io: CliIo): number {
  const { values } = valuesOf(args, { out: { type: 'string' } });
  if (!values.out) throw new UsageError('backup needs --out DIR (a new or empty folder)');
  const manifest = backupData(config, values.out, VERSION);
  const bytes = manifest.files.reduce((sum, f) => sum + f.size, 0);
  io.out(`backup: master.db and ${manifest.tenants} tenant stores, ${bytes} bytes, each checked with integrity_check`);
  io.out(values.out);
  return 0;
}

function restoreCommand(config: Config, args: string[], io: CliIo): number {
  const { values } = valuesOf(args, { from: { type: 'string' }, force: { type: 'boolean' } });
  if (!values.from) throw new UsageError('restore needs --from DIR (a folder written by agentik backup)');
  const result = restoreBackup(config, values.from, { force: values.force });
  io.out(`restored master.db and ${result.manifest.tenants} tenant stores from ${result.manifest.createdAt} into ${config.dataDir}`);
  if (result.setAside) io.out(`the data that was there is kept in ${result.setAside}`);
  return 0;
}

async function healthcheck(config: Config, args: string[], io: CliIo): Promise<number> {
  const { values } = valuesOf(args, { url: { type: 'string' } });
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const base = values.url ?? `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
  try {
    const response = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(5_000) });
    io.out(`${response.status} ${await response.text()}`);
    return response.status === 200 ? 0 : 1;
  } catch (error) {
    io.err(`not ready: ${(error as Error).message}`);
    return 1;
  }
}

/** Runs one CLI invocation and returns its exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...args] = argv;
  if (command === 'version' || command === '--version') {
    io.out(VERSION);
    return 0;
  }
  if (command === 'update') return updateCommand(args, io);
  if (command === undefined || command === 'help' || command === '--help') {
    io.out(USAGE);
    return command === undefined ? 2 : 0;
  }
  try {
    const config = loadConfig(io.env);
    switch (command) {
      case 'serve':
        return await serve(config, io);
      case 'migrate':
        return await migrateCommand(config, io);
      case 'tenant':
        return await tenantCommand(config, args, io);
      case 'key':
        return await keyCommand(config, args, io);
      case 'backup':
        return backupCommand(config, args, io);
      case 'restore':
        return restoreCommand(config, args, io);
      case 'healthcheck':
        return await healthcheck(config, args, io);
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(error.message);
      return 78;
    }
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof BackupError) {
      io.err(`${command}: ${error.message}`);
      return 1;
    }
    if (error instanceof AppError) {
      io.err(`${error.code}: ${error.message}`);
      return 1;
    }
    io.err(`error: ${(error as Error).message}`);
    return 1;
  }
}

