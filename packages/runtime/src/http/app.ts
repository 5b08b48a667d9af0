import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import Fastify from 'fastify';
import fastifySwagger from '@fastify/swagger';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { ErrorCode } from '@agentik/shared';
import type { Config } from '../config/schema.js';
import { ulid } from '../lib/ids.js';
import { Metrics } from '../observability/metrics.js';
import type { MigrationSets } from '../storage/migrations.js';
import type { StorageBackend } from '../storage/port.js';
import { accessOf, createIsolator } from '../tenants/isolator.js';
import { KeyService } from '../tenants/key-service.js';
import { TenantManager } from '../tenants/manager.js';
import type { TenantPool } from '../tenants/pool.js';
import { createErrorHandler, createNotFoundHandler, errorBody } from './errors.js';
import { limitersPlugin } from './plugins/limiters.js';
import { notifierPlugin } from './plugins/notifier.js';
import { providersPlugin } from './plugins/providers.js';
import { storagePlugin } from './plugins/storage.js';
import { tenantPoolPlugin } from './plugins/tenant-pool.js';
import { registerInputStringCheck } from './input-strings.js';
import { registerJsonBodyParser } from './json-body.js';
import { loadPricing } from '../cost/pricing.js';
import { resolveEncryptionKey } from '../lib/encryption-key.js';
import { SecretBox } from '../lib/secret-box.js';
import { LocalConcurrencyLimiter } from '../limits/concurrency-limiter.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import { Pipeline } from '../pipeline/orchestrator.js';
import { createProviderResolver } from '../pipeline/provider-resolver.js';
import { createAddressGuard } from '../adapters/providers/address-guard.js';
import type { ProvidersOptions } from '../adapters/providers/registry.js';
import type { Providers } from '../providers/types.js';
import { agentRoutes } from './routes/agents.js';
import { conversationRoutes } from './routes/conversations.js';
import { budgetRoutes } from './routes/budget.js';
import { costRoutes } from './routes/costs.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { messageRoutes, regenerateRoutes } from './routes/messages.js';
import { openAiRoutes } from './routes/openai-compatible.js';
import { providerRoutes } from './routes/providers.js';
import { auditRoutes } from './routes/audit.js';
import { healthRoutes } from './routes/health.js';
import { keyRoutes } from './routes/keys.js';
import { tenantRoutes } from './routes/tenants.js';
import { toolRoutes } from './routes/tools.js';
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
  /** The clock every part of the app reads (default `Date.now`); tests may set the time. */
  now?: () => number;
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

/** How many of one upstream origin's sockets a tenant may hold: its share, at least one. */
export function upstreamSharePerTenant(config: Config): number {
  return Math.max(1, Math.floor((config.upstream.connectionsPerOrigin * config.upstream.tenantSharePct) / 100));
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
  const metrics = new Metrics(
    { tenantCounts: () => app.backend.master.tenants.countByStatus(), poolStats: () => app.pool.stats() },
    { tenantLabels: config.metricsTenantLabels },
  );
  if (config.metricsTenantLabels) {
    log.warn('AGENTIK_METRICS_TENANT_LABELS=true: cost and token metrics get one series per tenant and model; with many tenants this grows Prometheus storage and query cost');
  }
  const countError = (code: ErrorCode) => metrics.errors.inc({ code });
  const app = Fastify({
    loggerInstance: log,
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { maxParamLength: 200 },
    genReqId: () => ulid(),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ...connectionTimeouts(config),
    frameworkErrors: (error, _request, reply) => {
      countError('MALFORMED_REQUEST');
      const raw = reply as unknown as { code(status: number): { send(body: unknown): unknown } };
      void raw.code(400).send(errorBody('MALFORMED_REQUEST', error.message));
    },
  }).withTypeProvider<ZodTypeProvider>() as unknown as App;
  try {
    const { manager, pipeline } = await wire(app, options, metrics, countError);
    await app.ready();
    return {
      app,
      manager,
      backend: app.backend,
      pool: app.pool,
      metrics,
      log,
      pipeline,
      providers: app.providers,
      notificationsIdle: () => app.notifier.idle(),
    };
  } catch (error) {
    // Whatever the plugins opened before the failure (the storage backend, Redis) closes again.
    await app.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Registers the resources, each a plugin that closes itself when the app closes, in the reverse
 * order of registration: the notifier (pending webhooks), the tenant pool, the providers, the
 * limiters, then the storage backend. Then the hooks, the pipeline and the route plugins.
 */
async function wire(app: App, options: BuildAppOptions, metrics: Metrics, countError: (code: ErrorCode) => void) {
  const { config } = options;
  const log = app.log;
  const now = options.now ?? Date.now;
  await app.register(storagePlugin, { config, migrations: options.migrations });
  await app.register(limitersPlugin, { config, now, rateLimiter: options.rateLimiter });
  // Tenant-chosen provider URLs reach only addresses the guard allows, checked when saved and
  // again on every connection (DNS may change in between).
  const guard = createAddressGuard({ allowHosts: config.providers.allowHosts, ownAddresses: [config.host] });
  await app.register(providersPlugin, { options: { ...(options.providers ?? providerOptions(config)), tenantUrlGuard: guard } });
  await app.register(tenantPoolPlugin, { size: config.tenantPoolSize });
  await app.register(notifierPlugin, { url: config.budgetWebhookUrl });
  const { backend, pool, providers, limiters, notifier } = app;

  const manager = new TenantManager({ backend, pool, log, now });
  const keys = new KeyService({ manager, pool, now });
  const box = new SecretBox(resolveEncryptionKey(config.encryptionKey, config.dataDir));
  const pipeline = new Pipeline({
    providers: createProviderResolver(providers, box, config.providers.tenantUrls),
    pricing: await loadPricing(config.pricingFile),
    platformOpenAiFree: config.providers.openaiFree,
    rateLimiter: limiters.rate,
    concurrency: limiters.concurrency,
    upstreamShare: { limiter: new LocalConcurrencyLimiter(), perTenant: upstreamSharePerTenant(config) },
    notifier,
    log,
    now,
    observeStage: (stage, seconds) => metrics.observeStage(stage, seconds),
    recordUsage: (usage) => metrics.recordUsage(usage),
    defaultMaxTokens: config.defaultMaxTokens,
    defaultContextTokens: config.defaultContextTokens,
    maxToolIterations: config.tools.maxIterations,
    toolTimeoutMs: config.tools.timeoutMs,
  });

  if (config.connections.maxPerIp > 0) capConnectionsPerIp(app.server, config.connections.maxPerIp);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(createErrorHandler(countError));
  app.setNotFoundHandler(createNotFoundHandler(countError));
  registerJsonBodyParser(app);
  registerInputStringCheck(app);

  app.decorateRequest('principal', null);
  app.decorateRequest('tenantContext', null);
  const isolator = createIsolator({ master: backend.master, manager, pool, log, now });
  app.addHook('onRequest', isolator.onRequest);
  // Every tenant route's handler runs inside its request's tenant scope (routes register below).
  app.addHook('onRoute', (route) => {
    if (accessOf(route.config).scope === 'tenant') route.handler = isolator.scopedHandler(route.handler);
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
  // Fastify closes idle keep-alive connections when it starts closing, but a connection whose
  // request was in flight turns idle only afterwards and would hold shutdown for the whole
  // keep-alive timeout; telling the client to close it lets the process exit at once.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    isolator.replying(request);
    if (closing) void reply.header('connection', 'close');
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

  await app.register(healthRoutes, { backend, metrics, poolUsable: app.poolUsable });
  await app.register(tenantRoutes, { prefix: '/api/tenants', manager, keys });
  await app.register(keyRoutes, { prefix: '/api/keys', keys });
  await app.register(agentRoutes, { prefix: '/api/agents', now });
  await app.register(messageRoutes, { prefix: '/api/agents', pipeline });
  await app.register(auditRoutes, { prefix: '/api/audit' });
  await app.register(conversationRoutes, { prefix: '/api/conversations', now });
  await app.register(regenerateRoutes, { prefix: '/api/conversations', pipeline });
  await app.register(costRoutes, { prefix: '/api/costs', now });
  await app.register(budgetRoutes, { prefix: '/api/budget', now });
  await app.register(providerRoutes, { prefix: '/api/providers', box, tenantUrls: config.providers.tenantUrls, guard, now });
  await app.register(toolRoutes, { prefix: '/api/tools' });
  // Routes the dashboard needs (their paths are full, so no prefix).
  await app.register(sessionRoutes, { manager, providers });
  await app.register(conversationTitleRoutes);
  await app.register(tenantUsageRoutes, { manager, now });
  await app.register(providerModelRoutes, { providers });
  await app.register(openAiRoutes, { prefix: '/v1', pipeline, now });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(dashboardRoutes, { dir: config.dashboardDir });
  return { manager, pipeline };
}
