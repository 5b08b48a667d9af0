import { describe, expect, it } from 'vitest';
import { selectContext, turnTokens, type ContextTurn } from './context-window.js';
import { estimateMessageTokens } from './tokens.js';

/** A turn of exactly `tokens` tokens, labelled for readable assertions. */
function t(id: string, role: ContextTurn['role'], tokens: number): ContextTurn & { id: string } {
  return { id, role, content: id, tokens };
}

const ids = (turns: { id: string }[]) => turns.map((x) => x.id);

describe('selectContext', () => {
  const convo = [t('u1', 'user', 10), t('a1', 'assistant', 20), t('u2', 'user', 10), t('a2', 'assistant', 20), t('u3', 'user', 10)];

  it('keeps everything, in order, when it all fits', () => {
    const s = selectContext('', convo, 100, 0);
    expect(ids(s.turns)).toEqual(['u1', 'a1', 'u2', 'a2', 'u3']);
    expect(s.dropped).toEqual([]);
    expect(s).toMatchObject({ systemTokens: 0, turnTokens: 70, totalTokens: 70, availableTokens: 100, overflow: false });
  });

  it('keeps the most recent turns that fit and reports the dropped older ones', () => {
    const s = selectContext('', convo, 45, 0);
    expect(ids(s.turns)).toEqual(['u2', 'a2', 'u3']);
    expect(ids(s.dropped)).toEqual(['u1', 'a1']);
    expect(s.turnTokens).toBe(40);
    expect(s.overflow).toBe(false);
  });

  it('counts the system prompt and the reply reserve against the budget', () => {
    const system = 'You are terse.'; // 14 bytes -> 4 + 4 overhead
    expect(estimateMessageTokens(system)).toBe(8);
    const s = selectContext(system, convo, 60, 12);
    expect(s.availableTokens).toBe(48);
    expect(s.systemTokens).toBe(8);
    expect(ids(s.turns)).toEqual(['u2', 'a2', 'u3']);
    expect(s.totalTokens).toBe(48);
    expect(s.systemPrompt).toBe(system);
  });

  it('fits exactly at the budget and drops one more token over it', () => {
    expect(ids(selectContext('', convo, 70, 0).turns)).toHaveLength(5);
    const s = selectContext('', convo, 69, 0);
    expect(ids(s.turns)).toEqual(['u2', 'a2', 'u3']);
  });

  it('never splits a turn and leaves no gap, even when an older shorter turn would fit', () => {
    const turns = [t('u1', 'user', 1), t('a1', 'assistant', 50), t('u2', 'user', 5)];
    const s = selectContext('', turns, 10, 0);
    expect(ids(s.turns)).toEqual(['u2']);
    expect(ids(s.dropped)).toEqual(['u1', 'a1']);
  });

  it('starts the window with a user turn by default', () => {
    // a1 fits (60 tokens in all) but would open the window with an assistant turn.
    const s = selectContext('', convo, 60, 0);
    expect(ids(s.turns)).toEqual(['u2', 'a2', 'u3']);
    expect(s.turnTokens).toBe(40);
    const raw = selectContext('', convo, 60, 0, { startWithUser: false });
    expect(ids(raw.turns)).toEqual(['a1', 'u2', 'a2', 'u3']);
  });

  it('always keeps the newest user turn, reporting overflow when it alone is too big', () => {
    const turns = [t('u1', 'user', 10), t('a1', 'assistant', 10), t('u2', 'user', 500)];
    const s = selectContext('system', turns, 100, 20);
    expect(ids(s.turns)).toEqual(['u2']);
    expect(ids(s.dropped)).toEqual(['u1', 'a1']);
    expect(s.overflow).toBe(true);
    expect(s.totalTokens).toBe(500 + estimateMessageTokens('system'));
  });

  it('reports overflow when the reserve for the reply leaves no room', () => {
    const s = selectContext('', [t('u1', 'user', 10)], 100, 95);
    expect(s.availableTokens).toBe(5);
    expect(ids(s.turns)).toEqual(['u1']);
    expect(s.overflow).toBe(true);
    const negative = selectContext('', [t('u1', 'user', 10)], 100, 200);
    expect(negative.availableTokens).toBe(-100);
    expect(negative.overflow).toBe(true);
  });

  it('reports overflow when the system prompt alone is too big', () => {
    const s = selectContext('x'.repeat(400), [t('u1', 'user', 1)], 50, 0);
    expect(s.systemTokens).toBe(104);
    expect(s.overflow).toBe(true);
    expect(ids(s.turns)).toEqual(['u1']);
  });

  it('keeps the newest user turn and the turns after it together', () => {
    const turns = [t('u1', 'user', 10), t('u2', 'user', 10), t('a2', 'assistant', 10), t('x2', 'tool', 10)];
    const s = selectContext('', turns, 30, 0);
    expect(ids(s.turns)).toEqual(['u2', 'a2', 'x2']);
    expect(selectContext('', turns, 25, 0).overflow).toBe(true);
  });

  it('handles an empty conversation and one without user turns', () => {
    const empty = selectContext('hi', [], 100, 10);
    expect(empty).toMatchObject({ turns: [], dropped: [], overflow: false, turnTokens: 0 });
    const noUser = [t('a1', 'assistant', 10), t('a2', 'assistant', 10), t('a3', 'assistant', 10)];
    const s = selectContext('', noUser, 25, 0);
    expect(ids(s.turns)).toEqual(['a2', 'a3']);
    expect(s.overflow).toBe(false);
  });

  it('keeps nothing but the required turns with a zero budget', () => {
    const s = selectContext('', convo, 0, 0);
    expect(ids(s.turns)).toEqual(['u3']);
    expect(s.overflow).toBe(true);
  });

  it('estimates turns without a usable recorded count', () => {
    const turns: ContextTurn[] = [
      { role: 'user', content: 'x'.repeat(40) },
      { role: 'assistant', content: 'y'.repeat(40), tokens: null },
      { role: 'user', content: 'z'.repeat(40), tokens: Number.NaN },
      { role: 'assistant', content: 'w', tokens: -3 },
      { role: 'user', content: 'q'.repeat(400), tokens: 0 },
    ];
    expect(turns.map(turnTokens)).toEqual([14, 14, 14, 5, 0]);
    const s = selectContext('', turns, 33, 0);
    expect(s.turns).toEqual(turns.slice(2));
    expect(s.turnTokens).toBe(19);
  });

  it('returns the caller’s own turn objects', () => {
    const s = selectContext('', convo, 100, 0);
    expect(s.turns[0]).toBe(convo[0]);
  });

  it('rejects invalid budgets', () => {
    expect(() => selectContext('', convo, -1, 0)).toThrow(/budgetTokens/);
    expect(() => selectContext('', convo, 10, Number.NaN)).toThrow(/reserveForReply/);
    expect(() => selectContext('', convo, Number.POSITIVE_INFINITY, 0)).toThrow(RangeError);
  });
});
