import { describe, expect, it } from 'vitest';
import { newId } from '../../lib/ids.js';
import { T0, type ConformanceSuite } from './fixtures.js';

/** Full-text search of past messages. */
export function defineSearchConformance(suite: ConformanceSuite): void {
  describe('search', () => {
    const freshTenant = () => suite.freshTenant();

    it('searches past messages by words, newest first, optionally within one agent', async () => {
      const { store } = await freshTenant();
      const agentA = newId('agent');
      const agentB = newId('agent');
      const convA = { id: newId('conversation'), agentId: agentA, userId: null, source: 'api' as const, createdAt: T0, updatedAt: T0 };
      const convB = { ...convA, id: newId('conversation'), agentId: agentB };
      await store.conversations.create(convA);
      await store.conversations.create(convB);
      const say = async (conversationId: string, content: string) => {
        const m = { id: newId('message'), conversationId, role: 'user' as const, content, tokens: null, createdAt: T0 };
        await store.messages.append(m);
        return m;
      };
      const m1 = await say(convA.id, 'The blue whale is the largest animal');
      await say(convA.id, 'Penguins live in the south');
      const m3 = await say(convB.id, 'A blue Whale song at night');
      const hits = await store.messages.search(['blue', 'whale'], undefined, 10);
      expect(hits.map((h) => h.messageId)).toEqual([m3.id, m1.id]);
      expect(hits[1]).toEqual({ messageId: m1.id, conversationId: convA.id, agentId: agentA, role: 'user', content: m1.content, createdAt: T0 });
      expect((await store.messages.search(['whale'], agentA, 10)).map((h) => h.messageId)).toEqual([m1.id]);
      expect(await store.messages.search(['whale'], undefined, 1)).toHaveLength(1);
      expect(await store.messages.search(['whale', 'penguins'], undefined, 10)).toEqual([]);
      expect(await store.messages.search([], undefined, 10)).toEqual([]);
      // Query syntax of either engine is just text here.
      for (const nasty of ['"', "'", 'OR', 'NOT', '*', '&', '|', '!', ':*', '(', ')', "'; drop table messages; --"]) {
        expect(await store.messages.search([nasty], undefined, 10)).toEqual([]);
      }
      await store.conversations.delete(convB.id);
      expect((await store.messages.search(['whale'], undefined, 10)).map((h) => h.messageId)).toEqual([m1.id]);
    });
  });
}
