import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';

/**
 * A transaction over an array: work appends to a scratch copy, which replaces the committed array
 * only when the whole function succeeds. Records how many transactions ran and their sizes.
 */
function arrayStore() {
  const committed: string[] = [];
  const sizes: number[] = [];
  let failCommit = false;
  const transaction = async <T>(fn: (tx: string[]) => Promise<T>): Promise<T> => {
    const scratch: string[] = [];
    const result = await fn(scratch);
    // An I/O wait inside the transaction, as a real database has.
    await new Promise((resolve) => setImmediate(resolve));
    if (failCommit) throw new Error('disk full');
    committed.push(...scratch);
    sizes.push(scratch.length);
    return result;
  };
  return {
    committed,
    sizes,
    transaction,
    failCommits(on: boolean) {
      failCommit = on;
    },
  };
}

describe('group commit', () => {
  it('puts the work submitted in one turn of the event loop in one transaction', async () => {
    const s = arrayStore();
    const group = new GroupCommit<string[]>(s.transaction);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        group.submit(async (tx) => {
          tx.push(`w${i}`);
          return i * 2;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => i * 2));
    expect(s.sizes).toEqual([10]);
    expect(s.committed).toEqual(Array.from({ length: 10 }, (_, i) => `w${i}`));
  });

  it('resolves a unit only after its transaction has committed', async () => {
    const s = arrayStore();
    const group = new GroupCommit<string[]>(s.transaction);
    let committedWhenResolved: string[] | undefined;
    await group.submit(async (tx) => tx.push('a')).then(() => {
      committedWhenResolved = [...s.committed];
    });
    expect(committedWhenResolved).toEqual(['a']);
  });

  it('collects work submitted during a commit into the next transaction', async () => {
    const s = arrayStore();
    const group = new GroupCommit<string[]>(s.transaction);
    const first = group.submit(async (tx) => tx.push('first'));
    // Let the first batch start, then submit while it is committing.
    await new Promise((resolve) => setImmediate(resolve));
    const later = [1, 2, 3].map((i) => group.submit(async (tx) => tx.push(`later${i}`)));
    await Promise.all([first, ...later]);
    expect(s.sizes).toEqual([1, 3]);
  });

  it('bounds a transaction at 64 units', async () => {
    const s = arrayStore();
    const group = new GroupCommit<string[]>(s.transaction);
    await Promise.all(Array.from({ length: 150 }, (_, i) => group.submit(async (tx) => tx.push(`w${i}`))));
    expect(s.sizes).toEqual([64, 64, 22]);
    expect(new Set(s.committed).size).toBe(150);
  });

  it('when one unit fails, runs the others again alone and rejects only the failed one', async () => {
    const s = arrayStore();
    const group = new GroupCommit<string[]>(s.transaction);
    const settled = await Promise.allSettled(
      ['a', 'b', 'bad', 'c'].map((name) =>
        group.submit(async (tx) => {
          if (name === 'bad') throw new Error('no such thing');
          tx.push(name);
          return name;
        }),
      ),
    );
    expect(settled.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual(['a', 'b', 'no such thing', 'c']);
    // The failed batch committed nothing; then a, b and c committed one by one.
    expect(s.sizes).toEqual([1, 1, 1]);
    expect(s.committed).toEqual(['a', 'b', 'c']);
  });

  it('gives a failed commit to every unit of the batch and keeps working afterwards', async () => {
    const s = arrayStore();
    const group = new GroupCommit<string[]>(s.transaction);
    s.failCommits(true);
    const settled = await Promise.allSettled([group.submit(async (tx) => tx.push('x')), group.submit(async (tx) => tx.push('y'))]);
    expect(settled.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((settled[0] as PromiseRejectedResult).reason).toMatchObject({ message: 'disk full' });
    expect(s.committed).toEqual([]);
    s.failCommits(false);
    await group.submit(async (tx) => tx.push('z'));
    expect(s.committed).toEqual(['z']);
  });
});
