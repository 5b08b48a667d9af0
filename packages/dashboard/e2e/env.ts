import { fileURLToPath } from 'node:url';

/** packages/dashboard */
export const DASHBOARD_DIR = fileURLToPath(new URL('..', import.meta.url));
export const DIST_DIR = fileURLToPath(new URL('../dist', import.meta.url));
/** Screenshots go here (ignored by git). */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../test-results/screenshots', import.meta.url));
export const OPERATOR_KEY = 'agk_e2e_operator_key_0123456789abcdefghijklmnopqrstu';
/** What the fake LLM answers, streamed a token every 45 ms. */
export const REPLY_TEXT = 'Streaming works: one token at a time, all the way to the end.';
/** What the fake LLM answers to a message with AGAIN in it that it has answered before (the regenerate test). */
export const SECOND_REPLY = 'A second answer, not the same as the first one.';
/** What the fake LLM streams, slowly, to a message with LONG in it (the Stop test). */
export const LONG_REPLY = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');
/** What the fake LLM answers to a message with MARKDOWN in it: markdown with raw HTML that must stay text. */
export const MARKDOWN_REPLY = [
  '## Result',
  '',
  'Here is **bold**, *italic*, `inline code` and a [link](https://example.com/docs).',
  '',
  '- first item',
  '- second item',
  '',
  '<script>window.pwned = true</script>',
  '<img src="x" onerror="window.pwned = true">',
  '[bad](javascript:window.pwned=true)',
  '',
  '```ts',
  'const answer: number = 42; // the answer',
  '```',
].join('\n');
