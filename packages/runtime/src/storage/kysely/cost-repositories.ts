import { sql, type Kysely } from 'kysely';
import type { BudgetRepository, CostEventRepository } from '../port.js';
import type { BudgetRecord, CostEventRecord, CostGroup } from '../records.js';
import { toPage } from './paging.js';
import { compileOnce, type QueryRunner } from './compiled-query.js';
import type { BudgetTable, CostEventsTable, TenantDb } from './tables.js';

const DAY_MS = 86_400_000;

function costFromRow(r: CostEventsTable): CostEventRecord {
  const n = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: r.id,
    agentId: r.agent_id,
    conversationId: r.conversation_id,
    messageId: r.message_id,
    provider: r.provider,
    model: r.model,
    inputTokens: n(r.input_tokens),
    outputTokens: n(r.output_tokens),
    costUsd: n(r.cost_usd),
    latencyMs: Number(r.latency_ms),
    outcome: r.outcome as CostEventRecord['outcome'],
    usageEstimated: Number(r.usage_estimated) === 1,
    usageAnomaly: r.usage_anomaly === null ? null : (r.usage_anomaly as CostEventRecord['usageAnomaly']),
    createdAt: Number(r.created_at),
  };
}

export function budgetFromRow(r: BudgetTable): BudgetRecord {
  return {
    monthlyLimitUsd: r.monthly_limit_usd === null ? null : Number(r.monthly_limit_usd),
    hard: Number(r.hard) === 1,
    thresholds: JSON.parse(r.thresholds) as number[],
    period: r.period,
    spentUsd: Number(r.spent_usd),
    reservedUsd: Number(r.reserved_usd),
    notified: JSON.parse(r.notified) as number[],
    updatedAt: Number(r.updated_at),
  };
}

const insertCost = compileOnce(
  (
    db: Kysely<TenantDb>,
    id: string,
    agentId: string,
    conversationId: string | null,
    messageId: string | null,
    provider: string,
    model: string,
    inputTokens: number | null,
    outputTokens: number | null,
    costUsd: number | null,
    latencyMs: number,
    outcome: string,
    usageEstimated: number,
    usageAnomaly: string | null,
    createdAt: number,
  ) =>
    db.insertInto('cost_events').values({
      id,
      agent_id: agentId,
      conversation_id: conversationId,
      message_id: messageId,
      provider,
      model,
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      cost_usd: costUsd,
      latency_ms: latencyMs,
      outcome,
      usage_estimated: usageEstimated,
      usage_anomaly: usageAnomaly,
      created_at: createdAt,
    }),
);

export function createCostEventRepository(db: Kysely<TenantDb>, runner: QueryRunner): CostEventRepository {
  return {
    async insert(e) {
      const usageEstimated = e.usageEstimated ? 1 : 0;
      const { id, agentId, conversationId, messageId, provider, model, inputTokens, outputTokens, costUsd } = e;
      await runner.write(
        db,
        insertCost(db, id, agentId, conversationId, messageId, provider, model, inputTokens, outputTokens, costUsd, e.latencyMs, e.outcome, usageEstimated, e.usageAnomaly, e.createdAt),
      );
    },
    async list(page, range) {
      let q = db
        .selectFrom('cost_events')
        .selectAll()
        .where('created_at', '>=', range.from)
        .where('created_at', '<', range.to)
        .orderBy('id')
        .limit(page.limit + 1);
      if (page.after !== undefined) q = q.where('id', '>', page.after);
      return toPage(await q.execute(), page, costFromRow);
    },
    async listByConversation(conversationId) {
      const rows = await db
        .selectFrom('cost_events')
        .selectAll()
        .where('conversation_id', '=', conversationId)
        .orderBy('id')
        .execute();
      return rows.map(costFromRow);
    },
    async summary(range, groupBy) {
      // Integer division of epoch ms by a day is the same in SQLite and Postgres (bigint).
      const key =
        groupBy === 'day'
          ? sql<string>`cast(created_at / ${sql.lit(DAY_MS)} as text)`
          : groupBy === 'model'
            ? sql<string>`provider || '/' || model`
            : sql<string>`agent_id`;
      const rows = await db
        .selectFrom('cost_events')
        .select([
          key.as('key'),
          sql<number>`coalesce(sum(cost_usd), 0)`.as('usd'),
          sql<number>`coalesce(sum(input_tokens), 0)`.as('input_tokens'),
          sql<number>`coalesce(sum(output_tokens), 0)`.as('output_tokens'),
          sql<number>`count(*)`.as('calls'),
        ])
        .where('created_at', '>=', range.from)
        .where('created_at', '<', range.to)
        .groupBy(key)
        .orderBy(key)
        .execute();
      const groups: CostGroup[] = rows.map((r) => ({
        key: groupBy === 'day' ? new Date(Number(r.key) * DAY_MS).toISOString().slice(0, 10) : String(r.key),
        usd: Number(r.usd),
        inputTokens: Number(r.input_tokens),
        outputTokens: Number(r.output_tokens),
        calls: Number(r.calls),
      }));
      const sum = (pick: (g: CostGroup) => number) => groups.reduce((a, g) => a + pick(g), 0);
      return {
        totalUsd: sum((g) => g.usd),
        inputTokens: sum((g) => g.inputTokens),
        outputTokens: sum((g) => g.outputTokens),
        calls: sum((g) => g.calls),
        groups,
      };
    },
  };
}

/** The budget as seen in `period`: a stored row of an earlier month reads as a fresh month. */
export function budgetInPeriod(stored: BudgetRecord, period: string): BudgetRecord {
  return stored.period === period ? stored : { ...stored, period, spentUsd: 0, notified: [] };
}

/** Portable SQL: the running total of the period, or zero once a new month has begun. */
const spentIn = (period: string) => sql<number>`case when period = ${period} then spent_usd else 0 end`;

/** The columns a write in `period` sets so that a stored row of an earlier month starts afresh. */
const rollover = (period: string) => ({
  spent_usd: spentIn(period),
  notified: sql<string>`case when period = ${period} then notified else '[]' end`,
  period,
});

const reserveBudget = compileOnce((db: Kysely<TenantDb>, amountUsd: number, period: string, at: number) =>
  db
    .updateTable('budget')
    .set({ ...rollover(period), reserved_usd: sql<number>`reserved_usd + ${amountUsd}`, updated_at: at })
    .where('id', '=', 1)
    .where((eb) =>
      eb.or([
        eb('monthly_limit_usd', 'is', null),
        eb('hard', '=', 0),
        // As canReserve: a limit already reached refuses even a free call (a limit of 0 blocks).
        eb.and([
          eb(sql<number>`${spentIn(period)} + reserved_usd`, '<', sql<number>`monthly_limit_usd - 1e-9`),
          eb(sql<number>`${spentIn(period)} + reserved_usd + ${amountUsd}`, '<=', sql<number>`monthly_limit_usd + 1e-9`),
        ]),
      ]),
    ),
);

const settleBudget = compileOnce((db: Kysely<TenantDb>, reservedUsd: number, spentUsd: number, period: string, at: number) =>
  db
    .updateTable('budget')
    .set({
      ...rollover(period),
      spent_usd: sql<number>`${spentIn(period)} + ${spentUsd}`,
      // Amounts are whole nano-dollars, so a remainder below half of one is float noise: 0.
      reserved_usd: sql<number>`case when reserved_usd - ${reservedUsd} < 5e-10 then 0 else reserved_usd - ${reservedUsd} end`,
      updated_at: at,
    })
    .where('id', '=', 1)
    .returningAll(),
);

const budgetRow = compileOnce((db: Kysely<TenantDb>) => db.selectFrom('budget').selectAll().where('id', '=', 1));

export function createBudgetRepository(db: Kysely<TenantDb>, runner: QueryRunner): BudgetRepository {
  const read = async () => {
    const [row] = await runner.read(db, budgetRow(db));
    if (row === undefined) throw new Error('the budget row is missing');
    return budgetFromRow(row);
  };

  return {
    async get(period) {
      return budgetInPeriod(await read(), period);
    },
    async configure(settings, period, at) {
      await db
        .updateTable('budget')
        .set({
          ...rollover(period),
          monthly_limit_usd: settings.monthlyLimitUsd,
          hard: settings.hard ? 1 : 0,
          thresholds: JSON.stringify(settings.thresholds),
          updated_at: at,
        })
        .where('id', '=', 1)
        .execute();
      return read();
    },
    async reserve(amountUsd, period, at) {
      const { changed } = await runner.write(db, reserveBudget(db, amountUsd, period, at));
      return changed > 0;
    },
    async settle(reservedUsd, spentUsd, period, at) {
      const {
        rows: [row],
      } = await runner.write(db, settleBudget(db, reservedUsd, spentUsd, period, at));
      if (row === undefined) throw new Error('the budget row is missing');
      const after = budgetFromRow(row);
      // One statement did the update, so the total before it is simply the total minus this spend.
      return { before: after.spentUsd - spentUsd, after };
    },
    async markNotified(thresholds, period) {
      const row = await read();
      if (row.period !== period) return;
      const merged = [...new Set([...row.notified, ...thresholds])].sort((a, b) => a - b);
      await db.updateTable('budget').set({ notified: JSON.stringify(merged) }).where('id', '=', 1).execute();
    },
  };
}
