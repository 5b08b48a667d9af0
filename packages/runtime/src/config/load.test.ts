import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.js';
import { ConfigSchema, SECRET_SETTINGS } from './schema.js';

const VALID_KEY = 'agk_config_test_operator_key_0123456789';

/** Runs loadConfig and returns the ConfigError it throws (fails the test when it does not). */
function configErrorOf(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      dataDir: path.resolve('./data'),
      storage: 'sqlite',
      tenantPoolSize: 256,
      logLevel: 'info',
      operatorKey: undefined,
      bodyLimitBytes: 1024 * 1024,
      migrationsDir: undefined,
      shutdownTimeoutMs: 10_000,
      providers: {
        ollamaUrl: 'http://127.0.0.1:11434',
        openaiApiKey: undefined,
        openaiFree: false,
        anthropicApiKey: undefined,
        tenantUrls: 'deny',
        timeoutMs: 120_000,
        retries: 2,
      },
      encryptionKey: undefined,
      defaultMaxTokens: 1024,
      defaultContextTokens: 8192,
      tools: { maxIterations: 5, timeoutMs: 5_000 },
    });
  });

  it('ignores variables outside the AGENTIK_ namespace and treats empty values as unset', () => {
    const config = loadConfig({ PATH: 'bin', HOME: 'home', AGENTIK_PORT: '', AGENTIK_LOG_LEVEL: undefined });
    expect(config.port).toBe(3000);
    expect(config.logLevel).toBe('info');
  });

  /** A valid value for every setting, and what the loaded config holds for it. */
  const SAMPLES: Record<string, [string, (c: ReturnType<typeof loadConfig>) => unknown, unknown]> = {
    AGENTIK_HOST: ['0.0.0.0', (c) => c.host, '0.0.0.0'],
    AGENTIK_PORT: ['8080', (c) => c.port, 8080],
    AGENTIK_DATA_DIR: ['some/dir', (c) => c.dataDir, path.resolve('some/dir')],
    AGENTIK_STORAGE: ['postgres', (c) => c.storage, 'postgres'],
    AGENTIK_DATABASE_URL: ['postgres://agentik:pw@127.0.0.1:5432/agentik', (c) => c.database.url, 'postgres://agentik:pw@127.0.0.1:5432/agentik'],
    AGENTIK_DATABASE_POOL_SIZE: ['4', (c) => c.database.poolSize, 4],
    AGENTIK_REDIS_URL: ['redis://127.0.0.1:6379/0', (c) => c.redisUrl, 'redis://127.0.0.1:6379/0'],
    AGENTIK_TENANT_POOL_SIZE: ['16', (c) => c.tenantPoolSize, 16],
    AGENTIK_LOG_LEVEL: ['debug', (c) => c.logLevel, 'debug'],
    AGENTIK_OPERATOR_KEY: [VALID_KEY, (c) => c.operatorKey, VALID_KEY],
    AGENTIK_BODY_LIMIT_BYTES: ['2048', (c) => c.bodyLimitBytes, 2048],
    AGENTIK_MIGRATIONS_DIR: ['mig', (c) => c.migrationsDir, path.resolve('mig')],
    AGENTIK_SHUTDOWN_TIMEOUT_MS: ['500', (c) => c.shutdownTimeoutMs, 500],
    AGENTIK_OLLAMA_URL: ['http://127.0.0.1:1234', (c) => c.providers.ollamaUrl, 'http://127.0.0.1:1234'],
    AGENTIK_OPENAI_BASE_URL: ['https://llm.internal/v1', (c) => c.providers.openaiBaseUrl, 'https://llm.internal/v1'],
    AGENTIK_OPENAI_API_KEY: ['sk-test', (c) => c.providers.openaiApiKey, 'sk-test'],
    AGENTIK_OPENAI_FREE: ['true', (c) => c.providers.openaiFree, true],
    AGENTIK_ANTHROPIC_BASE_URL: ['http://127.0.0.1:9', (c) => c.providers.anthropicBaseUrl, 'http://127.0.0.1:9'],
    AGENTIK_ANTHROPIC_API_KEY: ['ant-test', (c) => c.providers.anthropicApiKey, 'ant-test'],
    AGENTIK_ENCRYPTION_KEY: ['ab'.repeat(32), (c) => c.encryptionKey, 'ab'.repeat(32)],
    AGENTIK_TENANT_PROVIDER_URLS: ['allow', (c) => c.providers.tenantUrls, 'allow'],
    AGENTIK_PROVIDER_TIMEOUT_MS: ['5000', (c) => c.providers.timeoutMs, 5000],
    AGENTIK_PROVIDER_RETRIES: ['0', (c) => c.providers.retries, 0],
    AGENTIK_DEFAULT_MAX_TOKENS: ['64', (c) => c.defaultMaxTokens, 64],
    AGENTIK_DEFAULT_CONTEXT_TOKENS: ['256', (c) => c.defaultContextTokens, 256],
    AGENTIK_MAX_TOOL_ITERATIONS: ['2', (c) => c.tools.maxIterations, 2],
    AGENTIK_TOOL_TIMEOUT_MS: ['250', (c) => c.tools.timeoutMs, 250],
    AGENTIK_PRICING_FILE: ['prices.json', (c) => c.pricingFile, path.resolve('prices.json')],
    AGENTIK_BUDGET_WEBHOOK_URL: ['https://hooks.example.test/b', (c) => c.budgetWebhookUrl, 'https://hooks.example.test/b'],
    AGENTIK_DASHBOARD_DIR: ['dash', (c) => c.dashboardDir, path.resolve('dash')],
    AGENTIK_HEADERS_TIMEOUT_MS: ['2000', (c) => c.connections.headersTimeoutMs, 2000],
    AGENTIK_BODY_TIMEOUT_MS: ['3000', (c) => c.connections.bodyTimeoutMs, 3000],
    AGENTIK_IDLE_TIMEOUT_MS: ['4000', (c) => c.connections.idleTimeoutMs, 4000],
    AGENTIK_MAX_CONNECTIONS_PER_IP: ['0', (c) => c.connections.maxPerIp, 0],
    AGENTIK_UPSTREAM_CONNECTIONS: ['64', (c) => c.upstream.connectionsPerOrigin, 64],
    AGENTIK_UPSTREAM_TENANT_SHARE_PCT: ['50', (c) => c.upstream.tenantSharePct, 50],
    AGENTIK_TENANT_PROVIDER_ALLOW_HOSTS: [
      ' vllm.lan , 10.0.0.0/8,[::1],LocalHost,127.0.0.1:8000,[fd00::5]:8000,fd00::/8,gpu.lan:443',
      (c) => c.providers.allowHosts,
      ['vllm.lan', '10.0.0.0/8', '[::1]', 'localhost', '127.0.0.1:8000', '[fd00::5]:8000', 'fd00::/8', 'gpu.lan:443'],
    ],
    AGENTIK_METRICS_TENANT_LABELS: ['true', (c) => c.metricsTenantLabels, true],
  };

  it('reads and converts every setting, all at once', () => {
    const env = Object.fromEntries(Object.entries(SAMPLES).map(([name, [value]]) => [name, value]));
    const config = loadConfig(env);
    for (const [name, [, read, expected]] of Object.entries(SAMPLES)) expect(read(config), name).toEqual(expected);
  });

  it('has a tested sample for every setting of the schema', () => {
    // A setting added to the schema without a case here fails this check.
    expect(Object.keys(ConfigSchema.shape).sort()).toEqual(Object.keys(SAMPLES).sort());
  });

  it('accepts port 0 (any free port) and the edges of each range', () => {
    expect(loadConfig({ AGENTIK_PORT: '0' }).port).toBe(0);
    expect(loadConfig({ AGENTIK_PORT: '65535' }).port).toBe(65_535);
    expect(loadConfig({ AGENTIK_TENANT_POOL_SIZE: '1' }).tenantPoolSize).toBe(1);
    expect(loadConfig({ AGENTIK_BODY_LIMIT_BYTES: String(64 * 1024 * 1024) }).bodyLimitBytes).toBe(64 * 1024 * 1024);
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) {
      expect(loadConfig({ AGENTIK_LOG_LEVEL: level }).logLevel).toBe(level);
    }
  });

  // Each invalid value of each setting, with the variable name the error must mention.
  const invalid: Array<[string, string]> = [
    ['AGENTIK_PORT', '-1'],
    ['AGENTIK_PORT', '65536'],
    ['AGENTIK_PORT', 'http'],
    ['AGENTIK_PORT', '80.5'],
    ['AGENTIK_STORAGE', 'postgres-ish'],
    ['AGENTIK_STORAGE', 'SQLITE'],
    ['AGENTIK_DATABASE_URL', 'mysql://127.0.0.1/agentik'],
    ['AGENTIK_DATABASE_POOL_SIZE', '0'],
    ['AGENTIK_REDIS_URL', 'http://127.0.0.1:6379'],
    ['AGENTIK_TENANT_POOL_SIZE', '0'],
    ['AGENTIK_TENANT_POOL_SIZE', '100001'],
    ['AGENTIK_TENANT_POOL_SIZE', 'many'],
    ['AGENTIK_LOG_LEVEL', 'verbose'],
    ['AGENTIK_LOG_LEVEL', 'INFO'],
    ['AGENTIK_OPERATOR_KEY', 'short'],
    ['AGENTIK_OPERATOR_KEY', 'has spaces in it 0123456789abcdefghijkl'],
    ['AGENTIK_OPERATOR_KEY', 'x'.repeat(513)],
    ['AGENTIK_BODY_LIMIT_BYTES', '0'],
    ['AGENTIK_BODY_LIMIT_BYTES', String(64 * 1024 * 1024 + 1)],
    ['AGENTIK_BODY_LIMIT_BYTES', '1MiB'],
    ['AGENTIK_SHUTDOWN_TIMEOUT_MS', '0'],
    ['AGENTIK_SHUTDOWN_TIMEOUT_MS', 'soon'],
    ['AGENTIK_OLLAMA_URL', 'ftp://127.0.0.1:11434'],
    ['AGENTIK_OLLAMA_URL', 'localhost'],
    ['AGENTIK_OPENAI_BASE_URL', 'not a url'],
    ['AGENTIK_ANTHROPIC_BASE_URL', 'file://hosts/x'],
    ['AGENTIK_BUDGET_WEBHOOK_URL', 'javascript:alert(1)'],
    ['AGENTIK_OPENAI_API_KEY', 'k'.repeat(4097)],
    ['AGENTIK_OPENAI_FREE', 'yes'],
    ['AGENTIK_ENCRYPTION_KEY', 'abc'],
    ['AGENTIK_ENCRYPTION_KEY', 'g'.repeat(64)],
    ['AGENTIK_TENANT_PROVIDER_URLS', 'maybe'],
    ['AGENTIK_TENANT_PROVIDER_ALLOW_HOSTS', 'http://vllm.lan'],
    ['AGENTIK_TENANT_PROVIDER_ALLOW_HOSTS', 'a b'],
    ['AGENTIK_TENANT_PROVIDER_ALLOW_HOSTS', 'vllm.lan:80:80'],
    ['AGENTIK_UPSTREAM_TENANT_SHARE_PCT', '101'],
    ['AGENTIK_UPSTREAM_CONNECTIONS', '0'],
    ['AGENTIK_MAX_CONNECTIONS_PER_IP', '-1'],
    ['AGENTIK_BODY_TIMEOUT_MS', '0'],
    ['AGENTIK_PROVIDER_TIMEOUT_MS', '0'],
    ['AGENTIK_PROVIDER_RETRIES', '11'],
    ['AGENTIK_PROVIDER_RETRIES', '-1'],
    ['AGENTIK_DEFAULT_MAX_TOKENS', '0'],
    ['AGENTIK_DEFAULT_CONTEXT_TOKENS', '255'],
    ['AGENTIK_MAX_TOOL_ITERATIONS', '0'],
    ['AGENTIK_MAX_TOOL_ITERATIONS', '51'],
    ['AGENTIK_TOOL_TIMEOUT_MS', '0'],
    ['AGENTIK_TOOL_TIMEOUT_MS', 'soon'],
    ['AGENTIK_METRICS_TENANT_LABELS', 'yes'],
    ['AGENTIK_METRICS_TENANT_LABELS', 'TRUE'],
  ];
  it.each(invalid)('rejects %s=%s and names the variable', (name, value) => {
    const error = configErrorOf({ [name]: value });
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatch(new RegExp(`^${name}: `));
    expect(error.message).toContain(name);
  });

  it('rejects unknown AGENTIK_* variables, since a typo would silently fall back to a default', () => {
    const error = configErrorOf({ AGENTIK_PROT: '8080' });
    expect(error.issues).toEqual(['AGENTIK_PROT: unknown setting']);
  });

  it('requires AGENTIK_DATABASE_URL with AGENTIK_STORAGE=postgres, listed with the other errors', () => {
    const error = configErrorOf({ AGENTIK_STORAGE: 'postgres', AGENTIK_ENCRYPTION_KEY: 'ab'.repeat(32), AGENTIK_PORT: 'abc' });
    expect(error.issues.map((i) => i.split(':')[0]).sort()).toEqual(['AGENTIK_DATABASE_URL', 'AGENTIK_PORT']);
    expect(error.message).toMatch(/AGENTIK_DATABASE_URL: required when AGENTIK_STORAGE=postgres/);
    expect(loadConfig({ AGENTIK_STORAGE: 'postgres', AGENTIK_DATABASE_URL: 'postgresql://a@127.0.0.1/b', AGENTIK_ENCRYPTION_KEY: 'ab'.repeat(32) }).database).toEqual({
      url: 'postgresql://a@127.0.0.1/b',
      poolSize: 10,
    });
  });

  it('requires AGENTIK_ENCRYPTION_KEY with AGENTIK_STORAGE=postgres, since replicas must share it', () => {
    const error = configErrorOf({ AGENTIK_STORAGE: 'postgres', AGENTIK_DATABASE_URL: 'postgresql://a@127.0.0.1/b' });
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatch(/^AGENTIK_ENCRYPTION_KEY: required when AGENTIK_STORAGE=postgres, the same on every replica/);
    // SQLite serves one process: there a generated key file is fine.
    expect(loadConfig({}).encryptionKey).toBeUndefined();
  });

  it('rejects an unknown variable even when it is empty', () => {
    expect(configErrorOf({ AGENTIK_FOO: '' }).issues).toEqual(['AGENTIK_FOO: unknown setting']);
  });

  it('lists every error together, not only the first', () => {
    const error = configErrorOf({
      AGENTIK_PORT: 'abc',
      AGENTIK_LOG_LEVEL: 'loud',
      AGENTIK_TENANT_POOL_SIZE: '-3',
      AGENTIK_FOO: 'bar',
      AGENTIK_BAR: '1',
      AGENTIK_DATA_DIR: 'fine/dir',
    });
    const names = error.issues.map((i) => i.split(':')[0]).sort();
    expect(names).toEqual(['AGENTIK_BAR', 'AGENTIK_FOO', 'AGENTIK_LOG_LEVEL', 'AGENTIK_PORT', 'AGENTIK_TENANT_POOL_SIZE']);
    expect(error.message.split('\n')[0]).toBe('invalid configuration:');
    expect(error.message.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(5);
    expect(error.name).toBe('ConfigError');
  });
});

describe('secrets from files (<NAME>_FILE)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentik-config-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, content, { mode: 0o600 });
    return p;
  };

  /** A valid value of each secret setting, and where the loaded config holds it. */
  const SECRETS: Record<(typeof SECRET_SETTINGS)[number], [string, (c: ReturnType<typeof loadConfig>) => unknown]> = {
    AGENTIK_OPERATOR_KEY: [VALID_KEY, (c) => c.operatorKey],
    AGENTIK_ENCRYPTION_KEY: ['cd'.repeat(32), (c) => c.encryptionKey],
    AGENTIK_DATABASE_URL: ['postgres://agentik:s3cret@db:5432/agentik', (c) => c.database.url],
    AGENTIK_OPENAI_API_KEY: ['sk-from-file', (c) => c.providers.openaiApiKey],
    AGENTIK_ANTHROPIC_API_KEY: ['sk-ant-from-file', (c) => c.providers.anthropicApiKey],
    AGENTIK_REDIS_URL: ['redis://:pw@cache:6379/0', (c) => c.redisUrl],
  };

  it('covers exactly the secret settings', () => {
    expect(Object.keys(SECRETS).sort()).toEqual([...SECRET_SETTINGS].sort());
  });

  it('reads every secret setting from its file, dropping one trailing newline', () => {
    const env: NodeJS.ProcessEnv = {};
    for (const [name, [value]] of Object.entries(SECRETS)) env[`${name}_FILE`] = file(name, `${value}\n`);
    const config = loadConfig(env);
    for (const [name, [value, read]] of Object.entries(SECRETS)) expect(read(config), name).toBe(value);
  });

  it('drops only one trailing newline (a CRLF counts as one) and keeps the rest of the content', () => {
    expect(loadConfig({ AGENTIK_OPENAI_API_KEY_FILE: file('crlf', 'sk-crlf\r\n') }).providers.openaiApiKey).toBe('sk-crlf');
    expect(loadConfig({ AGENTIK_OPENAI_API_KEY_FILE: file('bare', 'sk-bare') }).providers.openaiApiKey).toBe('sk-bare');
    // Two newlines: the value keeps one and then fails like the same value in the variable would.
    const error = configErrorOf({ AGENTIK_OPERATOR_KEY_FILE: file('two', `${VALID_KEY}\n\n`) });
    expect(error.issues).toEqual(['AGENTIK_OPERATOR_KEY (read from AGENTIK_OPERATOR_KEY_FILE): must be printable ASCII without spaces']);
  });

  it('satisfies the Postgres requirements from files', () => {
    const config = loadConfig({
      AGENTIK_STORAGE: 'postgres',
      AGENTIK_DATABASE_URL_FILE: file('db', 'postgres://a:b@127.0.0.1/c\n'),
      AGENTIK_ENCRYPTION_KEY_FILE: file('enc', `${'ef'.repeat(32)}\n`),
    });
    expect(config.database.url).toBe('postgres://a:b@127.0.0.1/c');
    expect(config.encryptionKey).toBe('ef'.repeat(32));
  });

  it('rejects a setting given both in the variable and in a file', () => {
    const error = configErrorOf({ AGENTIK_OPERATOR_KEY: VALID_KEY, AGENTIK_OPERATOR_KEY_FILE: file('both', VALID_KEY) });
    expect(error.issues).toEqual(['AGENTIK_OPERATOR_KEY_FILE: AGENTIK_OPERATOR_KEY is set too; set only one of them']);
    expect(error.message).not.toContain(VALID_KEY);
  });

  it('rejects a missing, unreadable, empty or oversized file, naming the variable and never the content', () => {
    const missing = path.join(dir, 'missing');
    expect(configErrorOf({ AGENTIK_ENCRYPTION_KEY_FILE: missing }).issues).toEqual([`AGENTIK_ENCRYPTION_KEY_FILE: cannot read ${missing} (ENOENT)`]);
    const folder = path.join(dir, 'folder');
    mkdirSync(folder);
    expect(configErrorOf({ AGENTIK_REDIS_URL_FILE: folder }).issues).toEqual([`AGENTIK_REDIS_URL_FILE: ${folder} is not a regular file`]);
    const empty = file('empty', '\n');
    expect(configErrorOf({ AGENTIK_OPENAI_API_KEY_FILE: empty }).issues).toEqual([`AGENTIK_OPENAI_API_KEY_FILE: ${empty} is empty`]);
    const big = file('big', 'k'.repeat(64 * 1024 + 1));
    expect(configErrorOf({ AGENTIK_ANTHROPIC_API_KEY_FILE: big }).issues).toEqual([`AGENTIK_ANTHROPIC_API_KEY_FILE: ${big} is larger than 65536 bytes`]);
    // An invalid value read from a file is reported against both names, without the value.
    const secret = 'postgres-password-not-a-url';
    const error = configErrorOf({ AGENTIK_DATABASE_URL_FILE: file('bad-url', secret) });
    expect(error.issues).toEqual(['AGENTIK_DATABASE_URL (read from AGENTIK_DATABASE_URL_FILE): must be a postgres:// URL']);
    expect(error.message).not.toContain(secret);
  });

  it('treats an empty <NAME>_FILE as unset and keeps _FILE of other settings unknown', () => {
    expect(loadConfig({ AGENTIK_OPERATOR_KEY_FILE: '' }).operatorKey).toBeUndefined();
    expect(configErrorOf({ AGENTIK_PORT_FILE: file('port', '8080') }).issues).toEqual(['AGENTIK_PORT_FILE: unknown setting']);
  });
});
