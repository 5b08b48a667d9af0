import { estimateMessageTokens } from './tokens.js';

/** Who said a turn. */
export type TurnRole = 'user' | 'assistant' | 'tool';

/** One stored turn of a conversation, as `selectContext` needs it. */
export interface ContextTurn {
  /** Who said it. */
  role: TurnRole;
  /** The text of the turn. */
  content: string;
  /**
   * The turn's size in tokens when known (e.g. recorded from the provider's usage); used as is.
   * When absent, `null` or not a finite non-negative number it is estimated with
   * `estimateMessageTokens`.
   */
  tokens?: number | null;
}

/** Options of `selectContext`. */
export interface SelectContextOptions {
  /**
   * Drop kept turns from the old end until the window starts with a user turn (default `true`):
   * providers such as Anthropic reject a conversation that opens with an assistant turn, and a
   * tool result cut off from the call that produced it is meaningless.
   */
  startWithUser?: boolean;
}

/** What `selectContext` chose. */
export interface ContextSelection<T extends ContextTurn> {
  /** The system prompt, always sent. */
  systemPrompt: string;
  /** Turns to send, oldest first: a contiguous run ending at the newest turn. */
  turns: T[];
  /** Older turns left out, oldest first; they stay stored and can be recalled by search. */
  dropped: T[];
  /** Estimated tokens of the system prompt (0 when it is empty). */
  systemTokens: number;
  /** Tokens of the kept turns. */
  turnTokens: number;
  /** `systemTokens + turnTokens`. */
  totalTokens: number;
  /** Tokens available for the prompt: `budgetTokens - reserveForReply` (may be negative). */
  availableTokens: number;
  /**
   * True when the system prompt plus the turns that must be kept (the newest user turn and
   * everything after it) do not fit: the caller should reject the request rather than send it.
   */
  overflow: boolean;
}

function checkCount(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a finite, non-negative token count, got ${String(value)}`);
  }
}

/** The tokens of one turn: its recorded count when usable, else the estimate. */
export function turnTokens(turn: ContextTurn): number {
  const t = turn.tokens;
  if (typeof t === 'number' && Number.isFinite(t) && t >= 0) return t;
  return estimateMessageTokens(turn.content);
}

function lastUserIndex(turns: readonly ContextTurn[]): number {
  for (let i = turns.length - 1; i >= 0; i--) if (turns[i]?.role === 'user') return i;
  return -1;
}

/**
 * Chooses the context to send: the system prompt plus the most recent turns that fit in
 * `budgetTokens - reserveForReply`, in their original order. Turns are never split, and the kept
 * turns are a contiguous run ending at the newest turn (no gaps: a turn that does not fit stops
 * the selection even if an older, shorter one would fit). The newest user turn and every turn
 * after it are always kept, even when they alone exceed the budget; `overflow` then tells the
 * caller to reject the request.
 * @param systemPrompt the agent's system prompt ('' for none)
 * @param turns the conversation, oldest first, including the new user turn
 * @param budgetTokens the agent's context budget in tokens
 * @param reserveForReply tokens kept free for the reply (usually the agent's `maxTokens`)
 * @throws RangeError when a token count is negative or not finite
 */
export function selectContext<T extends ContextTurn>(
  systemPrompt: string,
  turns: readonly T[],
  budgetTokens: number,
  reserveForReply: number,
  options: SelectContextOptions = {},
): ContextSelection<T> {
  checkCount('budgetTokens', budgetTokens);
  checkCount('reserveForReply', reserveForReply);
  const startWithUser = options.startWithUser ?? true;
  const systemTokens = systemPrompt === '' ? 0 : estimateMessageTokens(systemPrompt);
  const availableTokens = budgetTokens - reserveForReply;
  const sizes = turns.map(turnTokens);

  // The newest user turn and everything after it must go; with no user turn nothing must.
  const required = lastUserIndex(turns);
  let start = required === -1 ? turns.length : required;
  let used = systemTokens;
  for (let i = start; i < turns.length; i++) used += sizes[i] ?? 0;
  const overflow = used > availableTokens;

  if (!overflow) {
    while (start > 0 && used + (sizes[start - 1] ?? 0) <= availableTokens) {
      start -= 1;
      used += sizes[start] ?? 0;
    }
  }
  if (startWithUser) {
    while (start < required && turns[start]?.role !== 'user') {
      used -= sizes[start] ?? 0;
      start += 1;
    }
  }
  return {
    systemPrompt,
    turns: turns.slice(start),
    dropped: turns.slice(0, start),
    systemTokens,
    turnTokens: used - systemTokens,
    totalTokens: used,
    availableTokens,
    overflow,
  };
}
