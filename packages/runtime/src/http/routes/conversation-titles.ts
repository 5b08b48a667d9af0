import { z } from 'zod';
import { idList } from './id-list.js';
import { TENANT_READ, ctxOf, type App } from '../types.js';

/** `GET /api/conversations/titles?ids=cv_1,cv_2`: up to 100 ids, comma-separated. */
export const ConversationTitlesQuery = z.strictObject({
  ids: idList(100),
});

/** A conversation's title: its first user message, cut at 80 characters; ids that are not the tenant's are left out. */
export const ConversationTitles = z.object({ data: z.array(z.object({ id: z.string(), title: z.string() })) });

const TITLE_CHARS = 80;

/** The title of a conversation from its first message: one line, at most 80 characters. */
export function titleOf(firstMessage: string): string {
  const line = firstMessage.replace(/\s+/g, ' ').trim();
  return line.length > TITLE_CHARS ? `${line.slice(0, TITLE_CHARS - 1).trimEnd()}…` : line;
}

/**
 * Titles for a page of conversations, so a chat list can show what each was about (the list
 * route returns no message text). Reads each conversation's messages, so it takes at most 100 ids.
 */
export async function conversationTitleRoutes(app: App) {
  app.get(
    '/api/conversations/titles',
    { config: TENANT_READ, schema: { tags: ['conversations'], querystring: ConversationTitlesQuery, response: { 200: ConversationTitles } } },
    async (request) => {
      const { store } = ctxOf(request);
      const data: { id: string; title: string }[] = [];
      for (const id of request.query.ids) {
        if (!(await store.conversations.get(id))) continue;
        const first = (await store.messages.listByConversation(id)).find((m) => m.role === 'user');
        if (first) data.push({ id, title: titleOf(first.content) });
      }
      return { data };
    },
  );
}
