import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().min(1);

/**
 * Every setting of the runtime, with its default. `README.md` documents each one in one table
 * and `config/schema.test.ts` fails when the two drift apart.
 */
export const ConfigSchema = z.object({
  AGENTIK_HOST: z.string().min(1).default('127.0.0.1'),
  AGENTIK_PORT: port.default(3000),
  AGENTIK_DATA_DIR: z.string().min(1).default('./data'),
  AGENTIK_STORAGE: z.enum(['sqlite']).default('sqlite'),
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
});

export type ConfigInput = z.input<typeof ConfigSchema>;

/** The validated configuration, in the names the code uses. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  storage: 'sqlite';
  tenantPoolSize: number;
  logLevel: (typeof LOG_LEVELS)[number];
  operatorKey: string | undefined;
  bodyLimitBytes: number;
  migrationsDir: string | undefined;
  shutdownTimeoutMs: number;
}
