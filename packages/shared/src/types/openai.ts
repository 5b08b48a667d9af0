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

/** `GET /v1/models`: the tenant's agents, by name, as models. */
export const OpenAiModelList = z.object({
  object: z.literal('list'),
  data: z.array(z.object({ id: z.string(), object: z.literal('model'), created: z.number().int(), owned_by: z.string() })),
});
export type OpenAiModelList = z.infer<typeof OpenAiModelList>;

/** Token counts of a completion; left out when the provider reported none. */
export const OpenAiUsage = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});

/** `POST /v1/chat/completions` without `stream`: one completion (a streamed one is SSE chunks). */
export const OpenAiChatCompletion = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  /** The agent's name. */
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ role: z.literal('assistant'), content: z.string(), refusal: z.null() }),
      logprobs: z.null(),
      finish_reason: z.enum(['stop', 'length']),
    }),
  ),
  usage: OpenAiUsage.optional(),
});
export type OpenAiChatCompletion = z.infer<typeof OpenAiChatCompletion>;
