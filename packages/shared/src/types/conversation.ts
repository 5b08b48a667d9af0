import { z } from 'zod';
import { IsoDate, listOf } from './common.js';

/** `POST /api/agents/:id/messages` */
export const SendMessageBody = z.strictObject({
  content: z.string().min(1).max(100_000),
  conversationId: z.string().min(1).max(200).optional(),
  /** The tenant's own id for its end-user; conversations keep it. */
  userId: z.string().min(1).max(200).optional(),
});
export type SendMessageBody = z.infer<typeof SendMessageBody>;

/**
 * `POST /api/conversations/:id/regenerate`: `{}`, or no body at all (which Fastify hands over as
 * null); any field is refused.
 */
export const RegenerateBody = z.strictObject({}).nullish();
export type RegenerateBody = z.infer<typeof RegenerateBody>;

/** Usage of one reply; null where the provider reported nothing. */
export const ReplyUsage = z.object({ inputTokens: z.number().int().nullable(), outputTokens: z.number().int().nullable() });

/** The answer to a message, and the `data` of the SSE `done` event. */
export const MessageReply = z.object({
  conversationId: z.string(),
  message: z.object({ id: z.string(), role: z.literal('assistant'), content: z.string() }),
  usage: ReplyUsage,
  costUsd: z.number().nullable(),
});
export type MessageReply = z.infer<typeof MessageReply>;

export const Conversation = z.object({
  id: z.string(),
  agentId: z.string(),
  userId: z.string().nullable(),
  source: z.enum(['api', 'openai']),
  /** The title a user gave it; null until renamed (clients show the first message instead). */
  title: z.string().nullable(),
  createdAt: IsoDate,
  updatedAt: IsoDate,
});
export type Conversation = z.infer<typeof Conversation>;

/** `PATCH /api/conversations/:id`: a new title (trimmed, 1 to 200 characters), or null for the first message again. */
export const RenameConversationBody = z.strictObject({
  title: z.string().trim().min(1).max(200).nullable(),
});
export type RenameConversationBody = z.infer<typeof RenameConversationBody>;

export const StoredMessage = z.object({
  id: z.string(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  tokens: z.number().int().nullable(),
  /** For an assistant message: the usage of the call that produced it (null for user turns). */
  usage: ReplyUsage.nullable(),
  /** For an assistant message: what the call cost (null when unknown, and for user turns). */
  costUsd: z.number().nullable(),
  createdAt: IsoDate,
});
export type StoredMessage = z.infer<typeof StoredMessage>;

export const ConversationWithMessages = Conversation.extend({ messages: z.array(StoredMessage) });
export type ConversationWithMessages = z.infer<typeof ConversationWithMessages>;

export const ConversationList = listOf(Conversation);

export const ConversationListQuery = z.strictObject({
  agentId: z.string().min(1).max(200).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const SearchQuery = z.strictObject({
  q: z.string().min(1).max(500),
  agentId: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const SearchHit = z.object({
  conversationId: z.string(),
  messageId: z.string(),
  agentId: z.string(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  createdAt: IsoDate,
});
export type SearchHit = z.infer<typeof SearchHit>;

export const SearchResult = z.object({ data: z.array(SearchHit) });
