import { fileURLToPath } from 'node:url';

/** packages/dashboard */
export const DASHBOARD_DIR = fileURLToPath(new URL('..', import.meta.url));
export const DIST_DIR = fileURLToPath(new URL('../dist', import.meta.url));
/** Screenshots go here (ignored by git). */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../test-results/screenshots', import.meta.url));
export const OPERATOR_KEY = 'agk_e2e_operator_key_0123456789abcdefghijklmnopqrstu';
/** What the fake LLM answers, streamed a token every 45 ms. */
export const REPLY_TEXT = 'Streaming works: one token at a time, all the way to the end.';
