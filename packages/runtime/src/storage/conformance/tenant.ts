import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../lib/ids.js';
import { UniqueViolation, type StorageBackend } from '../port.js';
import { T0, DAY, agentRecord, costEvent, type ConformanceSuite } from './fixtures.js';

/** Tenant stores: provisioning, agents, isolation, conversations and messages, cost events, provider credentials, readiness. */
export function defineTenantConformance(suite: ConformanceSuite): void {
  describe('tenant stores', () => {
    let backend: StorageBackend;
    const freshTenant = () => suite.freshTenant();
    beforeAll(() => {
      backend = suite.backend();
    });

    it('provisions, opens and destroys a tenant store', async () => {
      const id = newId('tenant');
      expect(await backend.tenantExists(id)).toBe(false);
      await expect(backend.openTenant(id)).rejects.toThrow();
      await backend.provisionTenant(id);
      expect(await backend.tenantExists(id)).toBe(true);
      await expect(backend.provisionTenant(id)).rejects.toThrow();
      const handle = await backend.openTenant(id);
      await handle.store.agents.insert(agentRecord('kept'));
      await handle.close();
      // Closing a handle leaves the backend usable; reopening sees the data.
      const again = await backend.openTenant(id);
      expect(await again.store.agents.count()).toBe(1);
      await again.close();
      await backend.destroyTenant(id);
      expect(await backend.tenantExists(id)).toBe(false);
      await expect(backend.openTenant(id)).rejects.toThrow();
      // A new store under a new id starts empty.
      const fresh = await freshTenant();
      expect(await fresh.store.agents.count()).toBe(0);
    });

    it('keeps agents: insert, unique names, list pages, update, delete', async () => {
      const { store } = await freshTenant();
      const agents = ['alpha', 'beta', 'gamma'].map((n) => agentRecord(n));
      for (const a of agents) await store.agents.insert(a);
      expect(await store.agents.get(agents[0]!.id)).toEqual(agents[0]);
      expect(await store.agents.findByName('beta')).toEqual(agents[1]);
      await expect(store.agents.insert(agentRecord('alpha'))).rejects.toBeInstanceOf(UniqueViolation);
      const p1 = await store.agents.list({ limit: 2 });
      const p2 = await store.agents.list({ after: p1.nextCursor!, limit: 2 });
      expect([...p1.items, ...p2.items]).toEqual(agents);
      expect(p2.nextCursor).toBeNull();
      const updated = await store.agents.update(agents[0]!.id, { updatedAt: T0 + 1, name: 'alpha2', temperature: null, tools: [], contextTokens: 4096, description: 'd' });
      expect(updated).toEqual({ ...agents[0], name: 'alpha2', temperature: null, tools: [], contextTokens: 4096, description: 'd', updatedAt: T0 + 1 });
      await expect(store.agents.update(agents[0]!.id, { updatedAt: T0 + 2, name: 'beta' })).rejects.toBeInstanceOf(UniqueViolation);
      expect(await store.agents.update(newId('agent'), { updatedAt: T0 })).toBeUndefined();
      expect(await store.agents.delete(agents[1]!.id)).toBe(true);
      expect(await store.agents.delete(agents[1]!.id)).toBe(false);
      expect(await store.agents.count()).toBe(2);
    });

    it('keeps tenant stores apart', async () => {
      const a = await freshTenant();
      const b = await freshTenant();
      const agent = agentRecord('same-name');
      await a.store.agents.insert(agent);
      await b.store.agents.insert(agentRecord('same-name'));
      expect(await b.store.agents.get(agent.id)).toBeUndefined();
      expect(await b.store.agents.delete(agent.id)).toBe(false);
      expect(await a.store.agents.get(agent.id)).toEqual(agent);
      expect(await b.store.agents.count()).toBe(1);
    });

    it('keeps conversations and messages, recent turns, and deletes them together', async () => {
      const { store } = await freshTenant();
      const agentId = newId('agent');
      const conv = { id: newId('conversation'), agentId, userId: 'end-user-1', source: 'api' as const, createdAt: T0, updatedAt: T0 };
      const other = { ...conv, id: newId('conversation'), agentId: newId('agent'), userId: null, source: 'openai' as const };
      await store.conversations.create(conv);
      await store.conversations.create(other);
      expect(await store.conversations.get(conv.id)).toEqual({ ...conv, title: null });
      expect((await store.conversations.list({ limit: 10 }, agentId)).items).toEqual([{ ...conv, title: null }]);
      expect((await store.conversations.list({ limit: 10 })).items).toHaveLength(2);
      const messages = Array.from({ length: 5 }, (_, i) => ({
        id: newId('message'),
        conversationId: conv.id,
        role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
        content: `turn ${i}`,
        tokens: i === 0 ? null : i * 3,
        createdAt: T0 + i,
      }));
      for (const m of messages) await store.messages.append(m);
      expect(await store.messages.listByConversation(conv.id)).toEqual(messages);
      expect(await store.messages.recent(conv.id, 2)).toEqual(messages.slice(3));
      await store.conversations.touch(conv.id, T0 + 99);
      expect((await store.conversations.get(conv.id))?.updatedAt).toBe(T0 + 99);
      expect(await store.conversations.delete(conv.id)).toBe(true);
      expect(await store.conversations.delete(conv.id)).toBe(false);
      expect(await store.messages.listByConversation(conv.id)).toEqual([]);
      expect(await store.conversations.get(other.id)).toEqual({ ...other, title: null });
    });

    it('finds the last user turn and replaces the replies after it (regenerate), only while it is the last', async () => {
      const { store } = await freshTenant();
      const conv = { id: newId('conversation'), agentId: newId('agent'), userId: null, source: 'api' as const, createdAt: T0, updatedAt: T0 };
      const other = { ...conv, id: newId('conversation') };
      await store.conversations.create(conv);
      await store.conversations.create(other);
      const turn = (conversationId: string, role: 'user' | 'assistant', content: string, at: number) => ({
        id: newId('message'),
        conversationId,
        role,
        content,
        tokens: 3,
        createdAt: at,
      });
      expect(await store.messages.lastUserTurn(conv.id)).toBeUndefined();
      const [u1, a1, u2, a2, a2b] = [
        turn(conv.id, 'user', 'first', T0),
        turn(conv.id, 'assistant', 'first reply', T0 + 1),
        turn(conv.id, 'user', 'second', T0 + 2),
        turn(conv.id, 'assistant', 'second reply', T0 + 3),
        turn(conv.id, 'assistant', 'second reply, part two', T0 + 4),
      ];
      const elsewhere = [turn(other.id, 'user', 'other', T0), turn(other.id, 'assistant', 'other reply', T0 + 1)];
      for (const m of [u1, a1, u2, a2, a2b, ...elsewhere]) await store.messages.append(m);
      expect(await store.messages.lastUserTurn(conv.id)).toEqual(u2);

      // Every reply after the last user turn goes; the new one takes their place; the conversation is touched.
      const fresh = turn(conv.id, 'assistant', 'a better reply', T0 + 10);
      expect(await store.transaction((tx) => tx.messages.replaceReplies(u2.id, fresh))).toBe(true);
      expect(await store.messages.listByConversation(conv.id)).toEqual([u1, a1, u2, fresh]);
      expect((await store.conversations.get(conv.id))?.updatedAt).toBe(T0 + 10);
      // Outside a transaction it is atomic too, and may run again.
      const again = turn(conv.id, 'assistant', 'the best reply', T0 + 11);
      expect(await store.messages.replaceReplies(u2.id, again)).toBe(true);
      expect(await store.messages.listByConversation(conv.id)).toEqual([u1, a1, u2, again]);

      // An older user turn, another conversation's, or an unknown conversation: nothing changes.
      expect(await store.messages.replaceReplies(u1.id, turn(conv.id, 'assistant', 'stale', T0 + 12))).toBe(false);
      expect(await store.messages.replaceReplies(elsewhere[0]!.id, turn(conv.id, 'assistant', 'wrong', T0 + 12))).toBe(false);
      expect(await store.messages.replaceReplies(u2.id, turn(newId('conversation'), 'assistant', 'nowhere', T0 + 12))).toBe(false);
      expect(await store.messages.listByConversation(conv.id)).toEqual([u1, a1, u2, again]);
      expect((await store.conversations.get(conv.id))?.updatedAt).toBe(T0 + 11);
      expect(await store.messages.listByConversation(other.id)).toEqual(elsewhere);
      // A transaction that fails after the replacement takes it back.
      await expect(
        store.transaction(async (tx) => {
          await tx.messages.replaceReplies(u2.id, turn(conv.id, 'assistant', 'rolled back', T0 + 13));
          throw new Error('the booking failed');
        }),
      ).rejects.toThrow('the booking failed');
      expect(await store.messages.listByConversation(conv.id)).toEqual([u1, a1, u2, again]);
    });

    it('pages the audit log oldest first by default, or newest first, with the same cursor', async () => {
      const { store } = await freshTenant();
      const events = Array.from({ length: 5 }, (_, i) => ({ id: newId('audit'), at: T0 + i, actor: 'key:1', action: `thing.${i}`, target: null, details: {} }));
      for (const e of events) await store.audit.append(e);
      const walk = async (order?: 'asc' | 'desc') => {
        const seen: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await store.audit.list({ after, limit: 2 }, order);
          seen.push(...page.items.map((e) => e.action));
          if (page.nextCursor === null) return seen;
          after = page.nextCursor;
        }
      };
      const actions = events.map((e) => e.action);
      expect(await walk()).toEqual(actions);
      expect(await walk('asc')).toEqual(actions);
      expect(await walk('desc')).toEqual([...actions].reverse());
      expect((await store.audit.list({ limit: 10 }, 'desc')).items).toEqual([...events].reverse());
    });

    it('renames a conversation, keeps its time, clears the title with null, and reports an unknown id', async () => {
      const { store } = await freshTenant();
      const conv = { id: newId('conversation'), agentId: newId('agent'), userId: null, source: 'api' as const, createdAt: T0, updatedAt: T0 };
      const other = { ...conv, id: newId('conversation') };
      await store.conversations.create(conv);
      await store.conversations.create(other);
      expect(await store.conversations.rename(conv.id, 'Trip to Lisbon — «plans»')).toBe(true);
      expect(await store.conversations.get(conv.id)).toEqual({ ...conv, title: 'Trip to Lisbon — «plans»' });
      const titles = new Map((await store.conversations.list({ limit: 10 })).items.map((c) => [c.id, c.title]));
      expect(titles).toEqual(new Map([[conv.id, 'Trip to Lisbon — «plans»'], [other.id, null]]));
      expect(await store.conversations.rename(conv.id, null)).toBe(true);
      expect(await store.conversations.get(conv.id)).toEqual({ ...conv, title: null });
      expect(await store.conversations.rename(newId('conversation'), 'nobody')).toBe(false);
    });

    it('keeps each cost event\'s outcome (ok, aborted, failed), counts a failed run as a call, and refuses any other', async () => {
      const { store } = await freshTenant();
      const agent = newId('agent');
      const events = (['ok', 'aborted', 'failed'] as const).map((outcome, i) =>
        costEvent(agent, { createdAt: T0 + i, outcome, usageEstimated: outcome !== 'ok', costUsd: 0.5 }),
      );
      for (const e of events) await store.costs.insert(e);
      const range = { from: T0, to: T0 + DAY };
      expect((await store.costs.list({ limit: 10 }, range)).items).toEqual(events);
      const summary = await store.costs.summary(range, 'agent');
      expect(summary).toMatchObject({ calls: 3 });
      expect(summary.totalUsd).toBeCloseTo(1.5, 10);
      await expect(store.costs.insert(costEvent(agent, { createdAt: T0 + 5, outcome: 'lost' as never }))).rejects.toThrow();
      expect((await store.costs.list({ limit: 10 }, range)).items).toHaveLength(3);
    });

    it('records cost events, pages them by time and sums them by day, model and agent', async () => {
      const { store } = await freshTenant();
      const [a1, a2] = [newId('agent'), newId('agent')];
      const events = [
        costEvent(a1, { createdAt: T0 }),
        costEvent(a1, { createdAt: T0 + 1000, model: 'gpt-4o-mini', costUsd: 0.25, inputTokens: 1, outputTokens: 2 }),
        costEvent(a2, { createdAt: T0 + DAY, inputTokens: null, outputTokens: null, costUsd: null, outcome: 'aborted', usageEstimated: true }),
        costEvent(a2, { createdAt: T0 + DAY + 5, provider: 'ollama', model: 'llama3.2', costUsd: 0 }),
        costEvent(a2, { createdAt: T0 + 40 * DAY }),
      ];
      for (const e of events) await store.costs.insert(e);
      const range = { from: T0, to: T0 + 2 * DAY };
      const p1 = await store.costs.list({ limit: 3 }, range);
      const p2 = await store.costs.list({ after: p1.nextCursor!, limit: 3 }, range);
      expect([...p1.items, ...p2.items]).toEqual(events.slice(0, 4));
      const byDay = await store.costs.summary(range, 'day');
      expect(byDay).toMatchObject({ inputTokens: 21, outputTokens: 42, calls: 4 });
      expect(byDay.totalUsd).toBeCloseTo(0.75, 10);
      expect(byDay.groups.map((g) => [g.key, g.calls])).toEqual([
        ['2026-03-10', 2],
        ['2026-03-11', 2],
      ]);
      const byModel = await store.costs.summary(range, 'model');
      expect(byModel.groups.map((g) => g.key)).toEqual(['ollama/llama3.2', 'openai/gpt-4o', 'openai/gpt-4o-mini']);
      expect(byModel.groups[1]).toMatchObject({ key: 'openai/gpt-4o', calls: 2, inputTokens: 10, outputTokens: 20 });
      expect(byModel.groups[1]!.usd).toBeCloseTo(0.5, 10);
      const byAgent = await store.costs.summary(range, 'agent');
      expect(byAgent.groups.map((g) => [g.key, g.calls])).toEqual([
        [a1, 2],
        [a2, 2],
      ]);
      const empty = await store.costs.summary({ from: 0, to: 1 }, 'day');
      expect(empty).toEqual({ totalUsd: 0, inputTokens: 0, outputTokens: 0, calls: 0, groups: [] });
    });

    it('lists the cost events of one conversation only, oldest first', async () => {
      const { store } = await freshTenant();
      const agent = newId('agent');
      const [c1, c2] = [newId('conversation'), newId('conversation')];
      const mine = [
        costEvent(agent, { conversationId: c1, messageId: newId('message') }),
        costEvent(agent, { conversationId: c1, messageId: newId('message'), costUsd: null }),
      ];
      for (const e of [...mine, costEvent(agent, { conversationId: c2 }), costEvent(agent)]) await store.costs.insert(e);
      expect(await store.costs.listByConversation(c1)).toEqual(mine);
      expect(await store.costs.listByConversation(newId('conversation'))).toEqual([]);
    });

    it('keeps provider credentials, one per provider', async () => {
      const { store } = await freshTenant();
      await store.providerCredentials.put({ provider: 'openai', baseUrl: null, apiKeyCiphertext: 'v1:abc', updatedAt: T0 });
      await store.providerCredentials.put({ provider: 'anthropic', baseUrl: 'http://127.0.0.1:9', apiKeyCiphertext: null, updatedAt: T0 });
      await store.providerCredentials.put({ provider: 'openai', baseUrl: 'http://127.0.0.1:8', apiKeyCiphertext: 'v1:def', updatedAt: T0 + 1 });
      expect(await store.providerCredentials.get('openai')).toEqual({ provider: 'openai', baseUrl: 'http://127.0.0.1:8', apiKeyCiphertext: 'v1:def', updatedAt: T0 + 1 });
      expect((await store.providerCredentials.list()).map((c) => c.provider)).toEqual(['anthropic', 'openai']);
      expect(await store.providerCredentials.delete('openai')).toBe(true);
      expect(await store.providerCredentials.delete('openai')).toBe(false);
      expect(await store.providerCredentials.get('openai')).toBeUndefined();
    });

    it('reports itself ready with current migrations', async () => {
      const checks = await backend.readiness();
      expect(Object.keys(checks)).toContain('migrations');
      for (const check of Object.values(checks)) expect(check).toEqual({ ok: true });
    });
  });
}
