/**
 * A cheap, deterministic token estimate for budgeting the context window before the provider
 * tells us the real count. It is an ESTIMATE, not a tokenizer: it runs in O(n) with no model
 * files, which matters because it runs on every message of every request.
 *
 * Rule: ceil(UTF-8 bytes / 4). For English and code that is the usual "4 characters per token";
 * counting bytes rather than characters keeps the estimate honest for other scripts (Cyrillic
 * counts about 0.5 token per letter, CJK about 0.75 per character, emoji about 1), where
 * characters / 4 would undercount several times over and overflow the model's window.
 */

/** Bytes of UTF-8 text that the estimate counts as one token. */
export const BYTES_PER_TOKEN = 4;

/**
 * Tokens every chat message costs beyond its text (role markers and separators in the
 * providers' chat templates); also the floor of an empty message.
 */
export const MESSAGE_OVERHEAD_TOKENS = 4;

/** Estimated tokens of `text` alone: ceil(UTF-8 bytes / 4); 0 for the empty string. */
export function estimateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / BYTES_PER_TOKEN);
}

/** Estimated tokens of one chat message with `content`: its text plus the per-message overhead. */
export function estimateMessageTokens(content: string): number {
  return estimateTokens(content) + MESSAGE_OVERHEAD_TOKENS;
}
