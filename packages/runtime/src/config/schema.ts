import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().min(1);
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const secret = z.string().min(1).max(4096);
/**
 * A host name or IPv4 address (optionally /prefix), then optionally :port; or an IPv6 address
 * (optionally /prefix), bare or in brackets, and then optionally :port.
 */
const ALLOW_HOST =
  /^(?:(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?:\/\d{1,2})?)(?::\d{1,5})?|[0-9a-f:.]*:[0-9a-f:.]*(?:\/\d{1,3})?|\[[0-9a-f:.]+(?:\/\d{1,3})?\](?::\d{1,5})?)$/;
/** An on/off setting, off unless set to `true`. */
const flag = z.enum(['true', 'false'], { error: 'must be true or false' }).default('false');

/**
 * Every setting of the runtime, with its default. `README.md` documents each one in one table
 * and `config/schema.test.ts` fails when the two drift apart.
 */
export const ConfigSchema = z.object({
  AGENTIK_HOST: z.string().min(1).default('127.0.0.1'),
  AGENTIK_PORT: port.default(3000),
  AGENTIK_DATA_DIR: z.string().min(1).default('./data'),
  AGENTIK_STORAGE: z.enum(['sqlite', 'postgres']).default('sqlite'),
  AGENTIK_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' }).max(4096).optional(),
  AGENTIK_DATABASE_POOL_SIZE: positiveInt.max(1_000).default(10),
  AGENTIK_REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).max(4096).optional(),
  AGENTIK_TENANT_POOL_SIZE: positiveInt.max(100_000).default(256),
  AGENTIK_LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  AGENTIK_OPERATOR_KEY: z
    .string()
    .min(32, 'must be at least 32 characters')
    .max(512)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional(),
  AGENTIK_BODY_LIMIT_BYTES: positiveInt.max(64 * 1024 * 1024).default(1024 * 1024),
  AGENTIK_MIGRATIONS_DIR: z.string().min(1).optional(),
  AGENTIK_SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  AGENTIK_OLLAMA_URL: httpUrl.default('http://127.0.0.1:11434'),
  AGENTIK_OPENAI_BASE_URL: httpUrl.optional(),
  AGENTIK_OPENAI_API_KEY: secret.optional(),
  AGENTIK_OPENAI_FREE: flag,
  AGENTIK_ANTHROPIC_BASE_URL: httpUrl.optional(),
  AGENTIK_ANTHROPIC_API_KEY: secret.optional(),
  AGENTIK_ENCRYPTION_KEY: z
    .string()
    .regex(/^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, 'must be 32 bytes: 64 hex characters or base64')
    .optional(),
  AGENTIK_TENANT_PROVIDER_URLS: z.enum(['deny', 'allow']).default('deny'),
  AGENTIK_PROVIDER_TIMEOUT_MS: positiveInt.max(3_600_000).default(120_000),
  AGENTIK_PROVIDER_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  AGENTIK_DEFAULT_MAX_TOKENS: positiveInt.max(1_000_000).default(1024),
  AGENTIK_DEFAULT_CONTEXT_TOKENS: positiveInt.min(256).max(2_000_000).default(8192),
  AGENTIK_MAX_TOOL_ITERATIONS: positiveInt.max(50).default(5),
  AGENTIK_TOOL_TIMEOUT_MS: positiveInt.max(600_000).default(5_000),
  AGENTIK_PRICING_FILE: z.string().min(1).optional(),
  AGENTIK_BUDGET_WEBHOOK_URL: httpUrl.optional(),
  AGENTIK_DASHBOARD_DIR: z.string().min(1).optional(),
  AGENTIK_HEADERS_TIMEOUT_MS: positiveInt.max(600_000).default(10_000),
  AGENTIK_BODY_TIMEOUT_MS: positiveInt.max(3_600_000).default(30_000),
  AGENTIK_IDLE_TIMEOUT_MS: positiveInt.max(600_000).default(5_000),
  AGENTIK_MAX_CONNECTIONS_PER_IP: z.coerce.number().int().min(0).max(1_000_000).default(256),
  AGENTIK_UPSTREAM_CONNECTIONS: positiveInt.max(100_000).default(128),
  AGENTIK_UPSTREAM_TENANT_SHARE_PCT: positiveInt.max(100).default(50),
  AGENTIK_TENANT_PROVIDER_ALLOW_HOSTS: z
    .string()
    .max(8192)
    .transform((v) => v.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== ''))
    .superRefine((hosts, ctx) => {
      const bad = hosts.find((h) => !ALLOW_HOST.test(h));
      if (bad !== undefined) ctx.addIssue({ code: 'custom', message: `"${bad.slice(0, 100)}" is not a host name, an IP address or an IP range (CIDR)` });
    })
    .optional(),
  AGENTIK_METRICS_TENANT_LABELS: flag,
});

/**
 * Settings that hold secrets. Each may instead come from a file named by `<NAME>_FILE` (the
 * Docker and Kubernetes secrets convention); setting both is an error.
 */
export const SECRET_SETTINGS = [
  'AGENTIK_OPERATOR_KEY',
  'AGENTIK_ENCRYPTION_KEY',
  'AGENTIK_DATABASE_URL',
  'AGENTIK_OPENAI_API_KEY',
  'AGENTIK_ANTHROPIC_API_KEY',
  'AGENTIK_REDIS_URL',
] as const satisfies ReadonlyArray<keyof typeof ConfigSchema.shape>;

export type ConfigInput = z.input<typeof ConfigSchema>;

/** The validated configuration, in the names the code uses. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  storage: 'sqlite' | 'postgres';
  /** Postgres settings (used when `storage` is `postgres`; the URL is then required). */
  database: {
    url: string | undefined;
    poolSize: number;
  };
  /** Redis for the rate limiter shared by replicas; unset: the database (Postgres) or in-process. */
  redisUrl: string | undefined;
  tenantPoolSize: number;
  logLevel: (typeof LOG_LEVELS)[number];
  operatorKey: string | undefined;
  bodyLimitBytes: number;
  migrationsDir: string | undefined;
  shutdownTimeoutMs: number;
  providers: {
    ollamaUrl: string;
    openaiBaseUrl: string | undefined;
    openaiApiKey: string | undefined;
    /**
     * The operator declares its AGENTIK_OPENAI_BASE_URL endpoint free (a self-hosted vLLM):
     * `openai-compatible` calls to it are priced at 0. Never assumed: false by default.
     */
    openaiFree: boolean;
    anthropicBaseUrl: string | undefined;
    anthropicApiKey: string | undefined;
    /** Whether tenants may point a provider at a base URL of their own. */
    tenantUrls: 'deny' | 'allow';
    /**
     * Hosts, addresses and ranges a tenant URL may reach although they are loopback, private,
     * link-local or the runtime's own (AGENTIK_TENANT_PROVIDER_ALLOW_HOSTS, lower-case).
     */
    allowHosts: string[];
    timeoutMs: number;
    retries: number;
  };
  encryptionKey: string | undefined;
  defaultMaxTokens: number;
  defaultContextTokens: number;
  /** The tool loop of one message. */
  tools: {
    /** Most model calls one message may take (the last one's tool calls are not run). */
    maxIterations: number;
    /** Longest one tool call may run (ms) before it answers the model with an error. */
    timeoutMs: number;
  };
  pricingFile: string | undefined;
  budgetWebhookUrl: string | undefined;
  /** Folder of the built dashboard (`index.html` + `assets/`); unset: `packages/dashboard/dist`. */
  dashboardDir: string | undefined;
  /** What one client connection may take of the server (slow clients, many sockets). */
  connections: {
    /** Time from a connection's start to the end of the request headers. */
    headersTimeoutMs: number;
    /** Time for the body after the headers (the whole request gets headers + body). */
    bodyTimeoutMs: number;
    /** How long an idle keep-alive connection stays open between requests. */
    idleTimeoutMs: number;
    /** Most open connections from one client address; 0: no cap. */
    maxPerIp: number;
  };
  /** Upstream (LLM server) connection pools and a tenant's share of them. */
  upstream: {
    /** Sockets per upstream origin, per process. */
    connectionsPerOrigin: number;
    /** Most of one origin's sockets one tenant may hold at once, in percent. */
    tenantSharePct: number;
  };
  /** Cost and token metrics carry a `tenant` label (one series per tenant and model). */
  metricsTenantLabels: boolean;
}
