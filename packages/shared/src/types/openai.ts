import { z } from 'zod';

/** The subset of OpenAI's chat completion request the runtime reads; other fields are accepted and ignored. */
export const OpenAiChatRequest = z.looseObject({
  model: z.string().min(1).max(200),
  messages: z
    .array(
      z.looseObject({
        role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
        content: z
          .union([
            z.string(),
            z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
            z.null(),
          ])
          .optional(),
      }),
    )
    .min(1)
    .max(1_000),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  user: z.string().max(200).optional(),
});
export type OpenAiChatRequest = z.infer<typeof OpenAiChatRequest>;
