/**
 * Counts what a runtime process sends to Postgres, for `postgres.ts`: loaded into the server's
 * process with `--import` (plain JavaScript, since it runs before tsx is registered), it wraps
 * `pg.Client.prototype.query`, the one call through which pg, kysely and the pool send every
 * query. A call is one round trip (pg sends parse, bind, execute and sync together, a
 * multi-statement simple query is one message, and a submittable with a `statements` list sends
 * them all before one sync); `statements` counts the statements (`;`-separated parts).
 * The parent asks over IPC with `{ type: 'pg-counts' }` and gets `{ type: 'pg-counts', queries,
 * statements, texts }`; `texts` (the query texts and how often each ran) only when
 * BENCH_PG_STATEMENTS=1, since keeping them costs a little CPU per query.
 */
import { createRequire } from 'node:module';

const requireFromRuntime = createRequire(new URL('../../packages/runtime/package.json', import.meta.url));
const pg = requireFromRuntime('pg');

const counts = { queries: 0, statements: 0 };
const texts = process.env.BENCH_PG_STATEMENTS === '1' ? new Map() : undefined;

const statementsIn = (text) => text.split(';').filter((part) => part.trim() !== '').length;

const query = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(config, values, callback) {
  // A pipeline of several statements (the runtime's own submittable) lists them in `statements`.
  const parts = Array.isArray(config?.statements) ? config.statements.map((s) => s.text) : [typeof config === 'string' ? config : config?.text];
  if (parts.every((text) => typeof text === 'string')) {
    counts.queries++;
    counts.statements += parts.reduce((n, text) => n + statementsIn(text), 0);
    if (texts) {
      const key = (config?.name ? `[${config.name}] ` : '') + parts.map((text) => text.replace(/\s+/g, ' ').slice(0, 120)).join(' | ');
      texts.set(key, (texts.get(key) ?? 0) + 1);
    }
  }
  return query.call(this, config, values, callback);
};

process.on('message', (message) => {
  if (message?.type !== 'pg-counts') return;
  process.send?.({ type: 'pg-counts', ...counts, texts: texts ? [...texts] : undefined });
});
