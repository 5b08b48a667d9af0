import { z } from 'zod';
import {
  Conversation,
  ConversationList,
  ConversationListQuery,
  ConversationWithMessages,
  IdParams,
  RenameConversationBody,
  SearchQuery,
  SearchResult,
} from '@agentik/shared';
import { deleteConversation, getConversation, listConversations, renameConversation, searchMessages } from '../../memory/conversations.js';
import type { ConversationRecord, CostEventRecord, MessageRecord } from '../../storage/records.js';
import { iso, presentPage } from '../present.js';
import { TENANT_READ, TENANT_WRITE, ctxOf, type App } from '../types.js';


function presentConversation(c: ConversationRecord) {
  return {
    id: c.id,
    agentId: c.agentId,
    userId: c.userId,
    source: c.source,
    title: c.title ?? null,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

function presentMessage(m: MessageRecord, cost: CostEventRecord | undefined) {
  return {
    id: m.id,
    role: m.role,
    content: m.content,
    tokens: m.tokens,
    usage: cost ? { inputTokens: cost.inputTokens, outputTokens: cost.outputTokens } : null,
    costUsd: cost?.costUsd ?? null,
    createdAt: iso(m.createdAt),
  };
}

/** Conversations of the caller's tenant: list, read, rename, delete, full-text search. */
export async function conversationRoutes(app: App, deps: { now: () => number }) {
  app.get(
    '',
    { config: TENANT_READ, schema: { tags: ['conversations'], querystring: ConversationListQuery, response: { 200: ConversationList } } },
    async (request) => {
      const { agentId, cursor, limit } = request.query;
      return presentPage(await listConversations(ctxOf(request), { after: cursor, limit }, agentId), presentConversation);
    },
  );

  app.get(
    '/search',
    { config: TENANT_READ, schema: { tags: ['conversations'], querystring: SearchQuery, response: { 200: SearchResult } } },
    async (request) => {
      const { q, agentId, limit } = request.query;
      const hits = await searchMessages(ctxOf(request), q, agentId, limit);
      return {
        data: hits.map((h) => ({
          conversationId: h.conversationId,
          messageId: h.messageId,
          agentId: h.agentId,
          role: h.role,
          content: h.content,
          createdAt: iso(h.createdAt),
        })),
      };
    },
  );

  app.get(
    '/:id',
    { config: TENANT_READ, schema: { tags: ['conversations'], params: IdParams, response: { 200: ConversationWithMessages } } },
    async (request) => {
      const { conversation, messages, costs } = await getConversation(ctxOf(request), request.params.id);
      return { ...presentConversation(conversation), messages: messages.map((m) => presentMessage(m, costs.get(m.id))) };
    },
  );

  app.patch(
    '/:id',
    {
      config: TENANT_WRITE,
      schema: { tags: ['conversations'], params: IdParams, body: RenameConversationBody, response: { 200: Conversation } },
    },
    async (request) => presentConversation(await renameConversation(ctxOf(request), request.params.id, request.body.title, deps.now())),
  );

  app.delete(
    '/:id',
    { config: TENANT_WRITE, schema: { tags: ['conversations'], params: IdParams, response: { 204: z.null() } } },
    async (request, reply) => {
      await deleteConversation(ctxOf(request), request.params.id, deps.now());
      return reply.code(204).send(null);
    },
  );
}
