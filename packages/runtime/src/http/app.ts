import Fastify from 'fastify';
import fastifySwagger from '@fastify/swagger';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { ulid } from '../lib/ids.js';
import { Metrics } from '../observability/metrics.js';
import { defaultMigrationsRoot, loadMigrationSets, type MigrationSets } from '../storage/migrations.js';
import type { StorageBackend } from '../storage/port.js';
import { openSqliteBackend } from '../storage/sqlite/backend.js';
import { createIsolator } from '../tenants/isolator.js';
import { TenantManager } from '../tenants/manager.js';
import { TenantPool } from '../tenants/pool.js';
import { errorBody, errorHandler } from './errors.js';
import { registerJsonBodyParser } from './json-body.js';
import { agentRoutes } from './routes/agents.js';
import { auditRoutes } from './routes/audit.js';
import { healthRoutes } from './routes/health.js';
import { keyRoutes } from './routes/keys.js';
import { tenantRoutes } from './routes/tenants.js';
import type { App } from './types.js';

export const VERSION = '0.1.0';

export interface BuildAppOptions {
  config: Config;
  /** Where log lines go (default: stdout). Tests pass a stream to read them. */
  logStream?: DestinationStream;
  /** Migration files to use instead of the ones shipped (tests use broken sets). */
  migrations?: MigrationSets;
}

/** What the composition root builds besides the HTTP app. */
export interface Runtime {
  app: App;
  manager: TenantManager;
  backend: StorageBackend;
  pool: TenantPool;
  metrics: Metrics;
  log: Logger;
}

/** Secrets never reach a log line, even if some code passes a header or key object to one. */
const REDACT = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'authorization',
  'key',
  'secret',
  '*.key',
  '*.secret',
  '*.apiKey',
];

export function createLogger(config: Config, stream?: DestinationStream): Logger {
  return pino({ level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' } }, stream);
}

/** Opens the storage backend named by the config. */
export function openBackend(config: Config, migrations?: MigrationSets): StorageBackend {
  const sets = migrations ?? loadMigrationSets(config.migrationsDir ?? defaultMigrationsRoot('sqlite'));
  return openSqliteBackend({ dataDir: config.dataDir, migrations: sets });
}

/**
 * The composition root: builds every component from the config and wires them into a Fastify
 * app that is not listening yet (tests call `app.inject`, `serve` calls `app.listen`).
 */
export async function buildApp(options: BuildAppOptions): Promise<Runtime> {
  const { config } = options;
  const log = createLogger(config, options.logStream);
  const backend = openBackend(config, options.migrations);
  let poolOpen = true;
  const pool = new TenantPool(
    (tenantId) => backend.openTenant(tenantId),
    config.tenantPoolSize,
    (tenantId, error) => log.error({ err: error, tenantId }, 'closing a tenant store failed'),
  );
  const manager = new TenantManager({ backend, pool, log });
  const metrics = new Metrics({ tenantCounts: () => backend.master.tenants.countByStatus(), poolStats: () => pool.stats() });

  const app = Fastify({
    loggerInstance: log,
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { maxParamLength: 200 },
    genReqId: () => ulid(),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    frameworkErrors: (error, _request, reply) => {
      const raw = reply as unknown as { code(status: number): { send(body: unknown): unknown } };
      void raw.code(400).send(errorBody('MALFORMED_REQUEST', error.message));
    },
  }).withTypeProvider<ZodTypeProvider>() as unknown as App;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    const path = (request.url.split('?')[0] ?? '').slice(0, 200);
    void reply.code(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${path}`));
  });
  registerJsonBodyParser(app);

  app.decorateRequest('principal', null);
  app.decorateRequest('tenantContext', null);
  const isolator = createIsolator({ master: backend.master, manager, pool, log });
  app.addHook('onRequest', isolator);

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode >= 400 && typeof payload === 'string') {
      const code = /"code":"([A-Z_]+)"/.exec(payload)?.[1];
      if (code) metrics.errors.inc({ code });
    }
    return payload;
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Agentik OS API', version: VERSION },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });

  healthRoutes(app, { backend, metrics, poolUsable: () => poolOpen });
  tenantRoutes(app, { manager });
  keyRoutes(app, { manager });
  agentRoutes(app);
  auditRoutes(app);
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.addHook('onClose', async () => {
    poolOpen = false;
    await pool.closeAll();
    await backend.close();
  });

  await app.ready();
  return { app, manager, backend, pool, metrics, log };
}
