import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigSchema, SECRET_SETTINGS, type Config } from './schema.js';

/** Largest secret file read: secrets are short, and a wrong path must not read a huge file. */
const MAX_SECRET_FILE_BYTES = 64 * 1024;

/** Thrown when the environment holds invalid settings; `issues` lists every one of them. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The value of a secret from the file `<name>_FILE` names, without one trailing newline. Problems
 * become issues naming the variable and the path, never the file's content.
 */
function readSecretFile(fileVar: string, file: string, issues: string[]): string | undefined {
  try {
    const stat = statSync(file);
    if (!stat.isFile()) {
      issues.push(`${fileVar}: ${file} is not a regular file`);
      return undefined;
    }
    if (stat.size > MAX_SECRET_FILE_BYTES) {
      issues.push(`${fileVar}: ${file} is larger than ${MAX_SECRET_FILE_BYTES} bytes`);
      return undefined;
    }
    const value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    if (value === '') issues.push(`${fileVar}: ${file} is empty`);
    return value === '' ? undefined : value;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'read error';
    issues.push(`${fileVar}: cannot read ${file} (${code})`);
    return undefined;
  }
}

/**
 * Parses the AGENTIK_* variables of `env` once. Unknown AGENTIK_* names are errors too, since a
 * typo would otherwise fall back to a default without a word. Each secret setting may come from
 * the file `<NAME>_FILE` names instead (see SECRET_SETTINGS).
 */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const known = new Set(Object.keys(ConfigSchema.shape));
  const secretFiles = new Map<string, string>(SECRET_SETTINGS.map((name) => [`${name}_FILE`, name]));
  const issues: string[] = [];
  const input: Record<string, string> = {};
  const fromFile = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('AGENTIK_') || value === undefined) continue;
    const secret = secretFiles.get(name);
    if (secret !== undefined) {
      if (value !== '') fromFile.set(secret, value);
      continue;
    }
    if (!known.has(name)) {
      issues.push(`${name}: unknown setting`);
      continue;
    }
    if (value === '') continue;
    input[name] = value;
  }
  for (const [name, file] of fromFile) {
    if (input[name] !== undefined) {
      issues.push(`${name}_FILE: ${name} is set too; set only one of them`);
      continue;
    }
    const value = readSecretFile(`${name}_FILE`, file, issues);
    if (value !== undefined) input[name] = value;
  }
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = issue.path.join('.');
      const source = fromFile.has(name) ? ` (read from ${name}_FILE)` : '';
      issues.push(`${name}${source}: ${issue.message}`);
    }
  }
  // Checked on the raw input so that it is listed together with any other error.
  if (input.AGENTIK_STORAGE === 'postgres' && input.AGENTIK_DATABASE_URL === undefined) {
    issues.push('AGENTIK_DATABASE_URL: required when AGENTIK_STORAGE=postgres (postgres://user:password@host:5432/database)');
  }
  // Replicas share tenants' encrypted provider keys, so they must share the key: one generated
  // into each replica's own data dir would make a key saved through one unreadable by the others.
  if (input.AGENTIK_STORAGE === 'postgres' && input.AGENTIK_ENCRYPTION_KEY === undefined) {
    issues.push('AGENTIK_ENCRYPTION_KEY: required when AGENTIK_STORAGE=postgres, the same on every replica (64 hex digits, e.g. from `openssl rand -hex 32`)');
  }
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);
  const c = parsed.data;
  return {
    host: c.AGENTIK_HOST,
    port: c.AGENTIK_PORT,
    dataDir: path.resolve(c.AGENTIK_DATA_DIR),
    storage: c.AGENTIK_STORAGE,
    database: { url: c.AGENTIK_DATABASE_URL, poolSize: c.AGENTIK_DATABASE_POOL_SIZE },
    redisUrl: c.AGENTIK_REDIS_URL,
    tenantPoolSize: c.AGENTIK_TENANT_POOL_SIZE,
    logLevel: c.AGENTIK_LOG_LEVEL,
    operatorKey: c.AGENTIK_OPERATOR_KEY,
    bodyLimitBytes: c.AGENTIK_BODY_LIMIT_BYTES,
    migrationsDir: c.AGENTIK_MIGRATIONS_DIR ? path.resolve(c.AGENTIK_MIGRATIONS_DIR) : undefined,
    shutdownTimeoutMs: c.AGENTIK_SHUTDOWN_TIMEOUT_MS,
    providers: {
      ollamaUrl: c.AGENTIK_OLLAMA_URL,
      openaiBaseUrl: c.AGENTIK_OPENAI_BASE_URL,
      openaiApiKey: c.AGENTIK_OPENAI_API_KEY,
      openaiFree: c.AGENTIK_OPENAI_FREE === 'true',
      anthropicBaseUrl: c.AGENTIK_ANTHROPIC_BASE_URL,
      anthropicApiKey: c.AGENTIK_ANTHROPIC_API_KEY,
      tenantUrls: c.AGENTIK_TENANT_PROVIDER_URLS,
      timeoutMs: c.AGENTIK_PROVIDER_TIMEOUT_MS,
      retries: c.AGENTIK_PROVIDER_RETRIES,
      allowHosts: c.AGENTIK_TENANT_PROVIDER_ALLOW_HOSTS ?? [],
    },
    encryptionKey: c.AGENTIK_ENCRYPTION_KEY,
    defaultMaxTokens: c.AGENTIK_DEFAULT_MAX_TOKENS,
    defaultContextTokens: c.AGENTIK_DEFAULT_CONTEXT_TOKENS,
    tools: { maxIterations: c.AGENTIK_MAX_TOOL_ITERATIONS, timeoutMs: c.AGENTIK_TOOL_TIMEOUT_MS },
    pricingFile: c.AGENTIK_PRICING_FILE ? path.resolve(c.AGENTIK_PRICING_FILE) : undefined,
    budgetWebhookUrl: c.AGENTIK_BUDGET_WEBHOOK_URL,
    dashboardDir: c.AGENTIK_DASHBOARD_DIR ? path.resolve(c.AGENTIK_DASHBOARD_DIR) : undefined,
    connections: {
      headersTimeoutMs: c.AGENTIK_HEADERS_TIMEOUT_MS,
      bodyTimeoutMs: c.AGENTIK_BODY_TIMEOUT_MS,
      idleTimeoutMs: c.AGENTIK_IDLE_TIMEOUT_MS,
      maxPerIp: c.AGENTIK_MAX_CONNECTIONS_PER_IP,
    },
    upstream: {
      connectionsPerOrigin: c.AGENTIK_UPSTREAM_CONNECTIONS,
      tenantSharePct: c.AGENTIK_UPSTREAM_TENANT_SHARE_PCT,
    },
    metricsTenantLabels: c.AGENTIK_METRICS_TENANT_LABELS === 'true',
  };
}
