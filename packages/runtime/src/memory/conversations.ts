import { notFound } from '../lib/app-error.js';
import type { ConversationRecord, CostEventRecord, MessageHit, MessageRecord, Page, PageRequest } from '../storage/records.js';
import { auditEntry, type TenantContext } from '../tenants/context.js';

/** Conversations of the tenant in `ctx`: list, read with messages, delete, search. */

export function listConversations(ctx: TenantContext, page: PageRequest, agentId?: string): Promise<Page<ConversationRecord>> {
  return ctx.store.conversations.list(page, agentId);
}

/** A stored conversation with its messages and, per assistant message, the cost event of its call. */
export async function getConversation(
  ctx: TenantContext,
  id: string,
): Promise<{ conversation: ConversationRecord; messages: MessageRecord[]; costs: Map<string, CostEventRecord> }> {
  const conversation = await ctx.store.conversations.get(id);
  if (!conversation) throw notFound('conversation');
  const [messages, events] = await Promise.all([
    ctx.store.messages.listByConversation(id),
    ctx.store.costs.listByConversation(id),
  ]);
  const costs = new Map(events.filter((e) => e.messageId !== null).map((e) => [e.messageId as string, e]));
  return { conversation, messages, costs };
}

export async function deleteConversation(ctx: TenantContext, id: string, now = Date.now()): Promise<void> {
  const deleted = await ctx.store.transaction(async (tx) => {
    if (!(await tx.conversations.delete(id))) return false;
    await tx.audit.append(auditEntry(ctx.principal, now, 'conversation.deleted', `conversation:${id}`));
    return true;
  });
  if (!deleted) throw notFound('conversation');
}

/** Sets or (with null) clears the conversation's title, audited like a delete; returns the conversation. */
export async function renameConversation(ctx: TenantContext, id: string, title: string | null, now = Date.now()): Promise<ConversationRecord> {
  const renamed = await ctx.store.transaction(async (tx) => {
    if (!(await tx.conversations.rename(id, title))) return undefined;
    await tx.audit.append(auditEntry(ctx.principal, now, 'conversation.renamed', `conversation:${id}`, { title }));
    return tx.conversations.get(id);
  });
  if (!renamed) throw notFound('conversation');
  return renamed;
}

/**
 * The words of a search: letters and digits of any script, at most 8 of them, each at most 64
 * characters. Everything else (quotes, operators, punctuation) is dropped, so a query is only
 * ever words to match.
 */
export function searchTerms(query: string): string[] {
  const words = query.normalize('NFC').match(/[\p{L}\p{N}_]+/gu) ?? [];
  return [...new Set(words.map((w) => w.slice(0, 64)))].slice(0, 8);
}

/** Full-text search over the tenant's past messages, optionally of one agent. */
export function searchMessages(ctx: TenantContext, query: string, agentId: string | undefined, limit: number): Promise<MessageHit[]> {
  return ctx.store.messages.search(searchTerms(query), agentId, limit);
}
