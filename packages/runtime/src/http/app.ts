import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import Fastify from 'fastify';
import fastifySwagger from '@fastify/swagger';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { ulid } from '../lib/ids.js';
import { Metrics } from '../observability/metrics.js';
import { defaultMigrationsRoot, loadMigrationSets, type MigrationSets } from '../storage/migrations.js';
import type { StorageBackend } from '../storage/port.js';
import { openPostgresBackend } from '../storage/postgres/backend.js';
import { openSqliteBackend } from '../storage/sqlite/backend.js';
import { createIsolator } from '../tenants/isolator.js';
import { TenantManager } from '../tenants/manager.js';
import { TenantPool } from '../tenants/pool.js';
import { errorBody, errorHandler, sendRouteNotFound } from './errors.js';
import { registerInputStringCheck } from './input-strings.js';
import { registerJsonBodyParser } from './json-body.js';
import { loadPricing } from '../cost/pricing.js';
import { resolveEncryptionKey } from '../lib/encryption-key.js';
import { SecretBox } from '../lib/secret-box.js';
import { DatabaseRateLimiter } from '../limits/db-rate-limiter.js';
import { LocalConcurrencyLimiter, type ConcurrencyLimiter } from '../limits/concurrency-limiter.js';
import { LocalRateLimiter, type RateLimiter } from '../limits/rate-limiter.js';
import { RedisConcurrencyLimiter } from '../limits/redis-concurrency-limiter.js';
import { RedisRateLimiter } from '../limits/redis-rate-limiter.js';
import { createWebhookNotifier } from '../notifications/webhook-notifier.js';
import { Pipeline } from '../pipeline/orchestrator.js';
import { createProviderResolver } from '../pipeline/provider-resolver.js';
import { createAddressGuard } from '../providers/address-guard.js';
import { createProviders, type Providers, type ProvidersOptions } from '../providers/registry.js';
import { agentRoutes } from './routes/agents.js';
import { conversationRoutes } from './routes/conversations.js';
import { costRoutes } from './routes/costs.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { messageRoutes } from './routes/messages.js';
import { openAiRoutes } from './routes/openai-compatible.js';
import { providerRoutes } from './routes/providers.js';
import { auditRoutes } from './routes/audit.js';
import { healthRoutes } from './routes/health.js';
import { keyRoutes } from './routes/keys.js';
import { tenantRoutes } from './routes/tenants.js';
import { sessionRoutes } from './routes/session.js';
import { conversationTitleRoutes } from './routes/conversation-titles.js';
import { tenantUsageRoutes } from './routes/tenant-usage.js';
import { providerModelRoutes } from './routes/provider-models.js';
import type { App } from './types.js';

/** Replaced by the offline bundle's build (esbuild `define`) with the version it stamps. */
declare const AGENTIK_BUILD_VERSION: string | undefined;

/** The runtime's version: the one stamped by the offline bundle's build, else the workspace's. */
export const VERSION = typeof AGENTIK_BUILD_VERSION === 'string' ? AGENTIK_BUILD_VERSION : '0.1.0';

export interface BuildAppOptions {
  config: Config;
  /** Where log lines go (default: stdout). Tests pass a stream to read them. */
  logStream?: DestinationStream;
  /** Migration files to use instead of the ones shipped (tests use broken sets). */
  migrations?: MigrationSets;
  /** Overrides of the provider settings built from the config (tests point them at fakes). */
  providers?: ProvidersOptions;
  /** A rate limiter other than the in-process one. */
  rateLimiter?: RateLimiter;
}

/** What the composition root builds besides the HTTP app. */
export interface Runtime {
  app: App;
  manager: TenantManager;
  backend: StorageBackend;
  pool: TenantPool;
  metrics: Metrics;
  log: Logger;
  pipeline: Pipeline;
  providers: Providers;
  /** Resolves once pending budget webhooks have been delivered (tests). */
  notificationsIdle(): Promise<void>;
}

/** Provider settings from the config: Ollama always (the air-gapped default), the others when set. */
export function providerOptions(config: Config): ProvidersOptions {
  const p = config.providers;
  const http = {
    headersTimeoutMs: p.timeoutMs,
    bodyTimeoutMs: p.timeoutMs,
    maxRetries: p.retries,
    connectionsPerOrigin: config.upstream.connectionsPerOrigin,
  };
  const openai = p.openaiApiKey !== undefined || p.openaiBaseUrl !== undefined;
  return {
    ollama: { baseUrl: p.ollamaUrl },
    ...(openai ? { openai: { baseUrl: p.openaiBaseUrl, apiKey: p.openaiApiKey } } : {}),
    ...(p.openaiBaseUrl !== undefined ? { openaiCompatible: { baseUrl: p.openaiBaseUrl, apiKey: p.openaiApiKey } } : {}),
    ...(p.anthropicApiKey !== undefined || p.anthropicBaseUrl !== undefined
      ? { anthropic: { baseUrl: p.anthropicBaseUrl, apiKey: p.anthropicApiKey } }
      : {}),
    http,
  };
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

/**
 * Request lines name the path but not the query string: queries carry tenant content (search
 * terms) that has no place in an operator's logs.
 */
function serializeRequest(req: { method?: string; url?: string; ip?: string }) {
  return { method: req.method, path: (req.url ?? '').split('?')[0], remoteAddress: req.ip };
}

export function createLogger(config: Config, stream?: DestinationStream): Logger {
  return pino(
    { level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' }, serializers: { req: serializeRequest } },
    stream,
  );
}

/** Opens the storage backend named by the config (the only place that picks an adapter). */
export async function openBackend(config: Config, migrations?: MigrationSets, log?: Logger): Promise<StorageBackend> {
  const sets = migrations ?? loadMigrationSets(config.migrationsDir ?? defaultMigrationsRoot(config.storage));
  if (config.storage === 'postgres') {
    if (config.database.url === undefined) throw new Error('AGENTIK_DATABASE_URL is required when AGENTIK_STORAGE=postgres');
    return openPostgresBackend({
      databaseUrl: config.database.url,
      poolSize: config.database.poolSize,
      migrations: sets,
      onIdleError: (error) => log?.warn({ err: error }, 'an idle database connection failed; the pool replaces it'),
    });
  }
  return openSqliteBackend({
    dataDir: config.dataDir,
    migrations: sets,
    onBackgroundFailure: (task, file, message) =>
      log?.warn({ task, file: path.basename(file), reason: message }, 'background work on a tenant file failed; the next write retries it'),
  });
}

/**
 * Model calls in flight per tenant: in Redis (leases, shared by replicas) when configured, else
 * in this process.
 */
function createConcurrencyLimiter(config: Config): { limiter: ConcurrencyLimiter; close(): Promise<void> } {
  if (config.redisUrl !== undefined) {
    const redis = new RedisConcurrencyLimiter(config.redisUrl);
    return { limiter: redis, close: () => redis.close() };
  }
  return { limiter: new LocalConcurrencyLimiter(), close: async () => undefined };
}

/** How many of one upstream origin's sockets a tenant may hold: its share, at least one. */
export function upstreamSharePerTenant(config: Config): number {
  return Math.max(1, Math.floor((config.upstream.connectionsPerOrigin * config.upstream.tenantSharePct) / 100));
}

/**
 * The per-tenant rate limiter: Redis when configured, else the database when replicas may share
 * it (Postgres), else in this process (SQLite serves one process).
 */
function createRateLimiter(config: Config, backend: StorageBackend): { limiter: RateLimiter; close(): Promise<void> } {
  if (config.redisUrl !== undefined) {
    const redis = new RedisRateLimiter(config.redisUrl);
    return { limiter: redis, close: () => redis.close() };
  }
  const limiter = backend.kind === 'postgres' ? new DatabaseRateLimiter(backend.master.rateWindows) : new LocalRateLimiter();
  return { limiter, close: async () => undefined };
}

/**
 * Slow clients cannot hold sockets open: the headers must arrive within the headers timeout, the
 * whole request within headers + body timeout (a body trickled a byte at a time is cut off with
 * 408), and an idle keep-alive connection closes after the idle timeout. Node checks the first
 * two on a timer, run here often enough for the check to fire near the limit.
 */
function connectionTimeouts(config: Config) {
  const { headersTimeoutMs, bodyTimeoutMs, idleTimeoutMs } = config.connections;
  return {
    requestTimeout: headersTimeoutMs + bodyTimeoutMs,
    keepAliveTimeout: idleTimeoutMs,
    http: {
      headersTimeout: headersTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, Math.max(100, Math.floor(Math.min(headersTimeoutMs, bodyTimeoutMs) / 4))),
    },
  };
}

/**
 * Closes a new connection at once when its client address already holds `max` open ones, so one
 * client cannot take every file descriptor. Behind a reverse proxy every connection comes from
 * the proxy: raise the cap or set 0 there and cap per client at the proxy.
 */
function capConnectionsPerIp(server: Server, max: number): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const ip = socket.remoteAddress ?? '';
    const n = open.get(ip) ?? 0;
    if (n >= max) {
      socket.destroy();
      return;
    }
    open.set(ip, n + 1);
    socket.once('close', () => {
      const left = (open.get(ip) ?? 1) - 1;
      if (left === 0) open.delete(ip);
      else open.set(ip, left);
    });
  });
}

/**
 * The composition root: builds every component from the config and wires them into a Fastify
 * app that is not listening yet (tests call `app.inject`, `serve` calls `app.listen`).
 */
export async function buildApp(options: BuildAppOptions): Promise<Runtime> {
  const { config } = options;
  const log = createLogger(config, options.logStream);
  const backend = await openBackend(config, options.migrations, log);
  let poolOpen = true;
  const pool = new TenantPool(
    (tenantId) => backend.openTenant(tenantId),
    config.tenantPoolSize,
    (tenantId, error) => log.error({ err: error, tenantId }, 'closing a tenant store failed'),
  );
  const manager = new TenantManager({ backend, pool, log });
  const metrics = new Metrics(
    { tenantCounts: () => backend.master.tenants.countByStatus(), poolStats: () => pool.stats() },
    { tenantLabels: config.metricsTenantLabels },
  );
  if (config.metricsTenantLabels) {
    log.warn('AGENTIK_METRICS_TENANT_LABELS=true: cost and token metrics get one series per tenant and model; with many tenants this grows Prometheus storage and query cost');
  }
  const box = new SecretBox(resolveEncryptionKey(config.encryptionKey, config.dataDir));
  // Tenant-chosen provider URLs reach only addresses the guard allows, checked when saved and
  // again on every connection (DNS may change in between).
  const guard = createAddressGuard({ allowHosts: config.providers.allowHosts, ownAddresses: [config.host] });
  const providers = createProviders({ ...(options.providers ?? providerOptions(config)), tenantUrlGuard: guard });
  const notifier = createWebhookNotifier(config.budgetWebhookUrl, log);
  const rateLimiter = options.rateLimiter ? { limiter: options.rateLimiter, close: async () => undefined } : createRateLimiter(config, backend);
  const concurrency = createConcurrencyLimiter(config);
  const pipeline = new Pipeline({
    providers: createProviderResolver(providers, box, config.providers.tenantUrls),
    pricing: await loadPricing(config.pricingFile),
    platformOpenAiFree: config.providers.openaiFree,
    rateLimiter: rateLimiter.limiter,
    concurrency: concurrency.limiter,
    upstreamShare: { limiter: new LocalConcurrencyLimiter(), perTenant: upstreamSharePerTenant(config) },
    notifier,
    log,
    now: Date.now,
    observeStage: (stage, seconds) => metrics.observeStage(stage, seconds),
    recordUsage: (usage) => metrics.recordUsage(usage),
    defaultMaxTokens: config.defaultMaxTokens,
    defaultContextTokens: config.defaultContextTokens,
    maxToolIterations: 5,
    toolTimeoutMs: 5_000,
  });

  const app = Fastify({
    loggerInstance: log,
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { maxParamLength: 200 },
    genReqId: () => ulid(),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ...connectionTimeouts(config),
    frameworkErrors: (error, _request, reply) => {
      const raw = reply as unknown as { code(status: number): { send(body: unknown): unknown } };
      void raw.code(400).send(errorBody('MALFORMED_REQUEST', error.message));
    },
  }).withTypeProvider<ZodTypeProvider>() as unknown as App;

  if (config.connections.maxPerIp > 0) capConnectionsPerIp(app.server, config.connections.maxPerIp);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => void sendRouteNotFound(request, reply));
  registerJsonBodyParser(app);
  registerInputStringCheck(app);

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
  // Fastify closes idle keep-alive connections when it starts closing, but a connection whose
  // request was in flight turns idle only afterwards and would hold shutdown for the whole
  // keep-alive timeout; telling the client to close it lets the process exit at once.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) void reply.header('connection', 'close');
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
  messageRoutes(app, { pipeline, pool });
  conversationRoutes(app);
  costRoutes(app);
  providerRoutes(app, { box, tenantUrls: config.providers.tenantUrls, guard });
  sessionRoutes(app, { manager, providers });
  conversationTitleRoutes(app);
  tenantUsageRoutes(app, { manager, pool, master: backend.master });
  providerModelRoutes(app, { providers });
  openAiRoutes(app, { pipeline, pool });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  dashboardRoutes(app, { dir: config.dashboardDir });

  app.addHook('onClose', async () => {
    poolOpen = false;
    await notifier.idle();
    await pool.closeAll();
    await providers.close();
    await rateLimiter.close();
    await concurrency.close();
    await backend.close();
  });

  await app.ready();
  return { app, manager, backend, pool, metrics, log, pipeline, providers, notificationsIdle: () => notifier.idle() };
}
