import path from 'node:path';
import { ConfigSchema, type Config } from './schema.js';

/** Thrown when the environment holds invalid settings; `issues` lists every one of them. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the AGENTIK_* variables of `env` once. Unknown AGENTIK_* names are errors too, since a
 * typo would otherwise fall back to a default without a word.
 */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const known = new Set(Object.keys(ConfigSchema.shape));
  const issues: string[] = [];
  const input: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('AGENTIK_') || value === undefined) continue;
    if (!known.has(name)) {
      issues.push(`${name}: unknown setting`);
      continue;
    }
    if (value === '') continue;
    input[name] = value;
  }
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) issues.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);
  const c = parsed.data;
  return {
    host: c.AGENTIK_HOST,
    port: c.AGENTIK_PORT,
    dataDir: path.resolve(c.AGENTIK_DATA_DIR),
    storage: c.AGENTIK_STORAGE,
    tenantPoolSize: c.AGENTIK_TENANT_POOL_SIZE,
    logLevel: c.AGENTIK_LOG_LEVEL,
    operatorKey: c.AGENTIK_OPERATOR_KEY,
    bodyLimitBytes: c.AGENTIK_BODY_LIMIT_BYTES,
    migrationsDir: c.AGENTIK_MIGRATIONS_DIR ? path.resolve(c.AGENTIK_MIGRATIONS_DIR) : undefined,
    shutdownTimeoutMs: c.AGENTIK_SHUTDOWN_TIMEOUT_MS,
  };
}
