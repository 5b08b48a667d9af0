import { z } from 'zod';
import { IsoDate, listOf } from './common.js';

export const CostGroupBy = z.enum(['day', 'model', 'agent']);

const dateOrTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

/** `GET /api/costs/summary`: [from, to) as dates or timestamps; defaults to the current month. */
export const CostSummaryQuery = z.strictObject({
  from: dateOrTime.optional(),
  to: dateOrTime.optional(),
  groupBy: CostGroupBy.default('day'),
});

export const CostGroup = z.object({
  key: z.string(),
  usd: z.number(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  calls: z.number().int(),
});

export const CostSummary = z.object({
  from: IsoDate,
  to: IsoDate,
  totalUsd: z.number(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  calls: z.number().int(),
  groups: z.array(CostGroup),
});
export type CostSummary = z.infer<typeof CostSummary>;

export const CostEventsQuery = z.strictObject({
  from: dateOrTime.optional(),
  to: dateOrTime.optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const CostEvent = z.object({
  id: z.string(),
  agentId: z.string(),
  conversationId: z.string().nullable(),
  messageId: z.string().nullable(),
  provider: z.string(),
  model: z.string(),
  inputTokens: z.number().int().nullable(),
  outputTokens: z.number().int().nullable(),
  costUsd: z.number().nullable(),
  latencyMs: z.number().int(),
  /**
   * `ok`: the reply was delivered; `aborted`: the caller went away; `failed`: the request ended in
   * an error after the model had produced output or usage, which is booked all the same.
   */
  outcome: z.enum(['ok', 'aborted', 'failed']),
  usageEstimated: z.boolean(),
  /**
   * Set when the provider reported usage out of bounds and the call was booked at its bound:
   * `over_bound` (above the request's bound) or `invalid` (not a non-negative integer).
   */
  usageAnomaly: z.enum(['over_bound', 'invalid']).nullable(),
  createdAt: IsoDate,
});
export type CostEvent = z.infer<typeof CostEvent>;

export const CostEventList = listOf(CostEvent);

/** `PUT /api/budget` */
export const BudgetBody = z.strictObject({
  /** USD per calendar month (UTC); null removes the limit. */
  monthlyLimitUsd: z.number().min(0).max(1e9).nullable(),
  /** Hard: calls are refused once the limit would be passed. Soft: only notifications. */
  hard: z.boolean().default(true),
  /** Percentages of the limit that raise a notification, e.g. [50, 80, 100]. */
  thresholds: z.array(z.number().positive().max(1000)).max(10).default([50, 80, 100]),
});
export type BudgetBody = z.input<typeof BudgetBody>;

export const Budget = z.object({
  monthlyLimitUsd: z.number().nullable(),
  hard: z.boolean(),
  thresholds: z.array(z.number()),
  period: z.string(),
  spentUsd: z.number(),
  reservedUsd: z.number(),
  remainingUsd: z.number().nullable(),
});
export type Budget = z.infer<typeof Budget>;
