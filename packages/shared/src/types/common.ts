import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../errors.js';

/** Milliseconds since the epoch are rendered as ISO-8601 strings in every API body. */
export const IsoDate = z.string().describe('ISO-8601 timestamp');

/** `{"error":{"code","message"}}`, the body of every error response. */
export const ErrorResponse = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
  }),
});

/** Query of every list route: an opaque cursor from the previous page and a page size. */
export const ListQuery = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type ListQuery = z.infer<typeof ListQuery>;

/** Lists are `{"data":[...],"nextCursor":string|null}`. */
export function listOf<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), nextCursor: z.string().nullable() });
}

/** A route parameter holding an id; its shape is not checked so that a bad id reads as unknown. */
export const IdParams = z.strictObject({ id: z.string().min(1).max(200) });

/** Text that must not be blank and must not carry control characters other than tab/newline. */
export function text(max: number) {
  return z
    .string()
    .max(max)
    // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
    .refine((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s), 'must not contain control characters');
}
