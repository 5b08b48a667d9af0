import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../lib/ids.js';
import { UniqueViolation, type StorageBackend } from '../port.js';
import { T0, tenantRecord, keyRecord, agentRecord, type ConformanceSuite } from './fixtures.js';

/** Transactions of the master and tenant stores: rollback as a whole, group commits, and what concurrent reads see. */
export function defineTransactionConformance(suite: ConformanceSuite): void {
  describe('transactions', () => {
    let backend: StorageBackend;
    const freshTenant = () => suite.freshTenant();
    beforeAll(() => {
      backend = suite.backend();
    });

    it('rolls a master transaction back as a whole', async () => {
      const t = tenantRecord();
      await expect(
        backend.master.transaction(async (tx) => {
          await tx.tenants.insert(t);
          await tx.transaction(async (inner) => inner.keys.insert(keyRecord(t.id)));
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await backend.master.tenants.findById(t.id)).toBeUndefined();
    });

    it('a key or tenant read while a master transaction is open waits for it and sees only what it committed', async () => {
      const t = tenantRecord();
      const key = keyRecord(t.id);
      let inside!: () => void;
      const opened = new Promise<void>((resolve) => (inside = resolve));
      const failing = backend.master.transaction(async (tx) => {
        await tx.tenants.insert(t);
        await tx.keys.insert(key);
        inside();
        await new Promise((resolve) => setTimeout(resolve, 30));
        throw new Error('rolled back');
      });
      // Attach the expectation now: under load the reads below can outlast the 30 ms, and a
      // rejection with no handler yet is an unhandled rejection that fails the whole run.
      const rolledBack = expect(failing).rejects.toThrow('rolled back');
      await opened;
      const [tenant, found] = await Promise.all([backend.master.tenants.findById(t.id), backend.master.keys.findByHash(key.hash)]);
      await rolledBack;
      expect(tenant).toBeUndefined();
      expect(found).toBeUndefined();
      await backend.master.tenants.insert(t);
      await backend.master.keys.insert(key);
      expect(await backend.master.keys.findByHash(key.hash)).toEqual(key);
      expect(await backend.master.tenants.findById(t.id)).toEqual(t);
    });

    it('appends tenant audit events and rolls tenant transactions back as a whole', async () => {
      const { store } = await freshTenant();
      const e = { id: newId('audit'), at: T0, actor: 'key:1', action: 'agent.created', target: null, details: { a: [1, 2] } };
      await store.audit.append(e);
      expect((await store.audit.list({ limit: 10 })).items).toEqual([e]);
      await expect(
        store.transaction(async (tx) => {
          await tx.agents.insert(agentRecord('ghost'));
          await tx.transaction(async (inner) => inner.audit.append({ ...e, id: newId('audit') }));
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.agents.count()).toBe(0);
      expect((await store.audit.list({ limit: 10 })).items).toHaveLength(1);
      const n = await store.transaction(async (tx) => {
        const before = await tx.agents.countForInsert();
        await tx.agents.insert(agentRecord('real'));
        return [before, await tx.agents.count()];
      });
      expect(n).toEqual([0, 1]);
    });

    it('group transactions: concurrent work commits together, and one failure loses nobody else’s write', async () => {
      const { store } = await freshTenant();
      const taken = agentRecord('taken');
      await store.agents.insert(taken);
      const names = Array.from({ length: 12 }, (_, i) => `group-${i}`);
      const results = await Promise.allSettled(
        names.map((name, i) =>
          store.groupTransaction(async (tx) => {
            await tx.agents.insert(agentRecord(name));
            // The seventh unit collides with an existing name: its whole unit must vanish.
            if (i === 6) await tx.agents.insert({ ...agentRecord(taken.name), id: newId('agent') });
            await tx.audit.append({ id: newId('audit'), at: T0, actor: 'key:1', action: 'agent.created', target: name, details: {} });
            return name;
          }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(names.map((_, i) => (i === 6 ? 'rejected' : 'fulfilled')));
      expect((results[6] as PromiseRejectedResult).reason).toBeInstanceOf(UniqueViolation);
      expect((results[0] as PromiseFulfilledResult<string>).value).toBe('group-0');
      const stored = (await store.agents.list({ limit: 50 })).items.map((a) => a.name).sort();
      expect(stored).toEqual([taken.name, ...names.filter((_, i) => i !== 6)].sort());
      const audited = (await store.audit.list({ limit: 50 })).items.map((e) => e.target).sort();
      expect(audited).toEqual(names.filter((_, i) => i !== 6).sort());
      // Inside a transaction, group work simply joins it.
      await store.transaction(async (tx) => {
        await tx.groupTransaction(async (inner) => inner.agents.insert(agentRecord('nested')));
        expect(await tx.agents.findByName('nested')).toBeDefined();
      });
    });

    it('a read while another transaction is open never sees that transaction’s uncommitted writes', async () => {
      const { store } = await freshTenant();
      const agent = agentRecord('before');
      await store.agents.insert(agent);
      const conversationId = newId('conversation');
      let inside!: () => void;
      const opened = new Promise<void>((resolve) => (inside = resolve));
      const failing = store.transaction(async (tx) => {
        await tx.agents.update(agent.id, { name: 'uncommitted', updatedAt: T0 + 1 });
        await tx.conversations.create({ id: conversationId, agentId: agent.id, userId: null, source: 'api', createdAt: T0, updatedAt: T0 });
        inside();
        await new Promise((resolve) => setTimeout(resolve, 30));
        throw new Error('rolled back');
      });
      // Attach the expectation now: under load the reads below can outlast the 30 ms, and a
      // rejection with no handler yet is an unhandled rejection that fails the whole run.
      const rolledBack = expect(failing).rejects.toThrow('rolled back');
      await opened;
      // Issued while the transaction is open (between two of its awaits), answered after it ends.
      const [byId, byName, conversation] = await Promise.all([
        store.agents.get(agent.id),
        store.agents.findByName('uncommitted'),
        store.conversations.get(conversationId),
      ]);
      await rolledBack;
      expect(byId?.name).toBe('before');
      expect(byName).toBeUndefined();
      expect(conversation).toBeUndefined();
      expect(await store.messages.recent(conversationId, 5)).toEqual([]);
    });

    it('readTogether hands back what its reads started, each read answered as alone', async () => {
      const { store } = await freshTenant();
      const agent = agentRecord('together');
      await store.agents.insert(agent);
      await store.providerCredentials.put({ provider: 'openai', baseUrl: null, apiKeyCiphertext: 'sealed', updatedAt: T0 });
      const reads = store.readTogether(() => ({
        byName: store.agents.findByName('together'),
        byId: store.agents.get(agent.id),
        missing: store.agents.get(newId('agent')),
        credentials: store.providerCredentials.list(),
      }));
      expect((await reads.byName)?.id).toBe(agent.id);
      expect((await reads.byId)?.name).toBe('together');
      expect(await reads.missing).toBeUndefined();
      expect((await reads.credentials).map((c) => c.provider)).toEqual(['openai']);
      // A failing read fails alone, and the store goes on working.
      expect(() => store.readTogether(() => { throw new Error('in reads'); })).toThrow('in reads');
      expect((await store.agents.get(agent.id))?.name).toBe('together');
    });

    it('readTogether while a transaction is open does not read what it has not committed', async () => {
      const { store } = await freshTenant();
      const agent = agentRecord('before');
      await store.agents.insert(agent);
      let inside!: () => void;
      const opened = new Promise<void>((resolve) => (inside = resolve));
      const failing = store.transaction(async (tx) => {
        await tx.agents.update(agent.id, { name: 'uncommitted', updatedAt: T0 + 1 });
        inside();
        await new Promise((resolve) => setTimeout(resolve, 30));
        throw new Error('rolled back');
      });
      const rolledBack = expect(failing).rejects.toThrow('rolled back');
      await opened;
      // SQLite: the connection is inside that transaction, so no read transaction of its own.
      const read = store.readTogether(() => store.agents.get(agent.id));
      await rolledBack;
      expect((await read)?.name).toBe('before');
    });
  });
}
