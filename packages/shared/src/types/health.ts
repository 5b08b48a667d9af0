import { z } from 'zod';

export const Health = z.object({ status: z.literal('ok') });

/** `GET /ready`: each check with its own state; the status is 503 when any is not ok. */
export const Readiness = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })),
});
export type Readiness = z.infer<typeof Readiness>;
