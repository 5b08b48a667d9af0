import fp from 'fastify-plugin';
import type { Config } from '../../config/schema.js';
import { DatabaseRateLimiter } from '../../adapters/limits/db-rate-limiter.js';
import { RedisConcurrencyLimiter } from '../../adapters/limits/redis-concurrency-limiter.js';
import { RedisRateLimiter } from '../../adapters/limits/redis-rate-limiter.js';
import { LocalConcurrencyLimiter, type ConcurrencyLimiter } from '../../limits/concurrency-limiter.js';
import { LocalRateLimiter, type RateLimiter } from '../../limits/rate-limiter.js';

/** The per-tenant limiters, and how to let go of what they hold. */
export interface Limiters {
  /** Requests per minute. */
  rate: RateLimiter;
  /** Model calls in flight. */
  concurrency: ConcurrencyLimiter;
  /** Closes the connections the limiters hold (Redis); a no-op for the others. */
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The per-tenant rate and concurrency limiters, closed on shutdown. */
    limiters: Limiters;
  }
}

/**
 * Requests per minute: Redis when configured, else the database when replicas may share it
 * (Postgres), else in this process (SQLite serves one process). Model calls in flight: Redis
 * (leases shared by replicas) when configured, else in this process. `rateLimiter` replaces the
 * rate limiter (tests); the caller then owns it. `now`: the app's clock.
 */
export const limitersPlugin = fp<{ config: Config; now: () => number; rateLimiter?: RateLimiter }>(
  async (app, opts) => {
    const redisUrl = opts.config.redisUrl;
    const closing: Array<() => Promise<void>> = [];
    let rate = opts.rateLimiter;
    if (rate === undefined && redisUrl !== undefined) {
      const redis = new RedisRateLimiter(redisUrl, opts.now);
      closing.push(() => redis.close());
      rate = redis;
    }
    rate ??= app.backend.kind === 'postgres' ? new DatabaseRateLimiter(app.backend.master.rateWindows, opts.now) : new LocalRateLimiter(opts.now);
    let concurrency: ConcurrencyLimiter = new LocalConcurrencyLimiter();
    if (redisUrl !== undefined) {
      const redis = new RedisConcurrencyLimiter(redisUrl);
      closing.push(() => redis.close());
      concurrency = redis;
    }
    const limiters: Limiters = {
      rate,
      concurrency,
      close: async () => {
        for (const close of closing) await close();
      },
    };
    app.decorate('limiters', limiters);
    app.addHook('onClose', () => limiters.close());
  },
  { name: 'agentik-limiters', dependencies: ['agentik-storage'] },
);
