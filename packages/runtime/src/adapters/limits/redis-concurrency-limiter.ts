import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { AppError } from '../../lib/app-error.js';
import type { ConcurrencyLimiter, Lease } from '../../limits/concurrency-limiter.js';

/**
 * Takes a slot when fewer than ARGV[1] unexpired leases are held: leases are the members of one
 * sorted set per key, scored by their expiry on Redis's clock (so replicas' clocks do not matter).
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1`;

/** Pushes the expiry of a lease still held (XX: a lease that already expired is not revived). */
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1`;

const COUNT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])`;

type LeaseCommands = Redis & {
  agentikAcquire(key: string, limit: number, ttlMs: number, id: string): Promise<number>;
  agentikRenew(key: string, ttlMs: number, id: string): Promise<number>;
  agentikCount(key: string): Promise<number>;
};

/**
 * A concurrency limit shared by every replica through Redis. A slot is a lease with an expiry:
 * this process renews the leases it holds every third of `ttlMs`, so a replica that crashes (or
 * loses Redis) stops renewing and its slots come back within `ttlMs` instead of leaking. One
 * round trip per acquire and one (not awaited) per release. When Redis cannot be reached the call
 * is refused with SERVICE_UNAVAILABLE rather than let through unlimited.
 */
export class RedisConcurrencyLimiter implements ConcurrencyLimiter {
  private readonly redis: LeaseCommands;
  /** Leases this process holds: id -> Redis key, renewed by the timer. */
  private readonly leases = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;
  private readonly idPrefix = randomBytes(6).toString('hex');
  private seq = 0;

  /**
   * @param url `redis://[:password@]host:port[/db]` or `rediss://...`
   * @param ttlMs how long a lease outlives its last renewal (a crashed replica's slots return after it)
   */
  constructor(
    url: string,
    private readonly ttlMs = 30_000,
    private readonly prefix = 'agentik:cc:',
  ) {
    const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 5_000, lazyConnect: true });
    redis.defineCommand('agentikAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    redis.defineCommand('agentikRenew', { numberOfKeys: 1, lua: RENEW });
    redis.defineCommand('agentikCount', { numberOfKeys: 1, lua: COUNT });
    // Connection errors surface on the commands that fail; the client reconnects by itself.
    redis.on('error', () => undefined);
    this.redis = redis as LeaseCommands;
    this.timer = setInterval(() => void this.renewAll(), Math.max(100, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  async acquire(key: string, limit: number): Promise<Lease | undefined> {
    const redisKey = this.prefix + key;
    const id = `${this.idPrefix}:${(this.seq += 1)}`;
    let ok: number;
    try {
      ok = await this.redis.agentikAcquire(redisKey, limit, this.ttlMs, id);
    } catch {
      throw new AppError('SERVICE_UNAVAILABLE', 'the concurrency limiter (Redis) is not reachable');
    }
    if (ok !== 1) return undefined;
    this.leases.set(id, redisKey);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.leases.delete(id);
        // A failed ZREM leaves the slot taken until its lease expires (ttlMs at most).
        this.redis.zrem(redisKey, id).catch(() => undefined);
      },
    };
  }

  async held(key: string): Promise<number> {
    return Number(await this.redis.agentikCount(this.prefix + key));
  }

  private async renewAll(): Promise<void> {
    if (this.leases.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [id, redisKey] of this.leases) (pipeline as unknown as LeaseCommands).agentikRenew(redisKey, this.ttlMs, id);
    await pipeline.exec().catch(() => undefined);
  }

  /** Stops renewing and closes the connection (the app's onClose). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
