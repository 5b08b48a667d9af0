/**
 * Once for all browser tests: build the dashboard if there is no build, start the fake LLM
 * (Anthropic's wire protocol, streamed slowly enough to see), and start the REAL runtime with
 * its real CLI (`agentik serve` under tsx) on a temp data dir and a free loopback port, serving
 * that build. The tests get the URL and the operator key through `inject`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startFakeLlm, type FakeLlm, type FakeReply } from '../../runtime/src/test-support/fake-llm';
import { spawnServe, stopServe, type ServeChild } from '../../runtime/src/test-support/spawn-runtime';
import { DIST_DIR, REPLY_TEXT, DASHBOARD_DIR, OPERATOR_KEY, LONG_REPLY, MARKDOWN_REPLY, SECOND_REPLY } from './env';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    operatorKey: string;
  }
}

/**
 * Builds the dashboard when there is no build, in a process of its own: under vitest
 * NODE_ENV is `test`, which would bundle React's development build.
 */
function ensureBuild(): void {
  if (existsSync(path.join(DIST_DIR, 'index.html'))) return;
  const vite = path.join(path.dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  const result = spawnSync(process.execPath, [vite, 'build'], {
    cwd: DASHBOARD_DIR,
    env: { ...process.env, NODE_ENV: 'production' },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`vite build failed:\n${result.stdout}${result.stderr}`);
  process.stdout.write(result.stdout);
}

/** The text of the last user turn of a request (Anthropic's or OpenAI's shape). */
function lastUserText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? (body.messages as { role?: string; content?: unknown }[]) : [];
  const last = [...messages].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return JSON.stringify(last.content ?? '');
}

const failedOnce = new Set<string>();
const answered = new Set<string>();

/**
 * Replies the browser tests ask for by what they say: a message with FLAKY fails with a 503 the
 * first time (the LLM is down) and works after; LONG streams slowly enough to press Stop; MARKDOWN
 * answers with markdown that holds a script tag; AGAIN gets the usual reply the first time and
 * another one after (a regenerate must show a new reply), or, with DOWN, a 503 after.
 */
function scriptedReply(text: string): FakeReply | undefined {
  if (text.includes('AGAIN')) {
    if (answered.has(text) && text.includes('DOWN')) return { error: { status: 503 } };
    if (answered.has(text)) return { text: SECOND_REPLY, tokenDelayMs: 100, usage: { input: 24, output: 10 } };
    answered.add(text);
  }
  if (text.includes('FLAKY') && !failedOnce.has(text)) {
    failedOnce.add(text);
    return { error: { status: 503 } };
  }
  if (text.includes('LONG')) return { text: LONG_REPLY, tokenDelayMs: 120, usage: { input: 30, output: 200 } };
  if (text.includes('MARKDOWN')) return { text: MARKDOWN_REPLY, tokenDelayMs: 5, usage: { input: 24, output: 60 } };
  return undefined;
}

export default async function setup(project: TestProject) {
  ensureBuild();
  const llm: FakeLlm = await startFakeLlm({
    defaultReply: { text: REPLY_TEXT, tokenDelayMs: 45, usage: { input: 24, output: 8 } },
    replyFor: (body) => scriptedReply(lastUserText(body)),
  });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'agentik-e2e-'));
  // spawnServe drops any AGENTIK_* variable of the caller's shell (it would change the runtime
  // under test), picks a free port and waits for /ready.
  let runtime: ServeChild;
  try {
    runtime = await spawnServe(
      {
        AGENTIK_HOST: '127.0.0.1',
        AGENTIK_DATA_DIR: dataDir,
        AGENTIK_OPERATOR_KEY: OPERATOR_KEY,
        AGENTIK_LOG_LEVEL: 'warn',
        AGENTIK_DASHBOARD_DIR: DIST_DIR,
        AGENTIK_OLLAMA_URL: llm.url,
        // Anthropic pointed at the fake: its models are priced, so replies cost something.
        AGENTIK_ANTHROPIC_BASE_URL: llm.url,
        AGENTIK_ANTHROPIC_API_KEY: 'sk-ant-e2e-not-a-real-key',
        AGENTIK_PROVIDER_RETRIES: '0',
      },
      { name: 'the runtime', readyTimeoutMs: 90_000 },
    );
  } catch (error) {
    await llm.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  project.provide('baseUrl', runtime.url);
  project.provide('operatorKey', OPERATOR_KEY);

  return async () => {
    await stopServe(runtime);
    await llm.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
