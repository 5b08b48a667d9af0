import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.js';

/** The repository README's settings table: each setting's meaning, by name, in table order. */
export function runtimeSettingsTable(): Record<string, string> {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8').split('\n');
  const header = readme.findIndex((line) => /^\| name \| default \| meaning \|$/.test(line.trim()));
  if (header < 0) throw new Error('README.md: no settings table (| name | default | meaning |)');
  const table: Record<string, string> = {};
  for (const line of readme.slice(header + 2)) {
    const match = /^\| `(AGENTIK_[A-Z0-9_]+)` \|[^|]*\| (.*) \|$/.exec(line);
    if (!match) break;
    table[match[1]!] = match[2]!.replace(/\\\|/g, '|');
  }
  return table;
}

/** The runtime's settings, as the repository README's settings table lists them. */
export function runtimeSettings(): string[] {
  return Object.keys(runtimeSettingsTable());
}

/** Settings the chart sets itself from its own values (not in `runtime.config`). */
export const CHART_MANAGED = ['AGENTIK_HOST', 'AGENTIK_PORT', 'AGENTIK_DATA_DIR', 'AGENTIK_STORAGE'];

/** Secret settings: from Secrets only (secrets.*, postgres.*, redis.*), never the ConfigMap. */
export const SECRET_SETTINGS = [
  'AGENTIK_OPERATOR_KEY',
  'AGENTIK_ENCRYPTION_KEY',
  'AGENTIK_DATABASE_URL',
  'AGENTIK_REDIS_URL',
  'AGENTIK_OPENAI_API_KEY',
  'AGENTIK_ANTHROPIC_API_KEY',
];

/** `AGENTIK_<NAME>_FILE` settings (a file holding a secret): the chart passes secrets as variables instead. */
export const isFileVariant = (name: string) => name.endsWith('_FILE') && name !== 'AGENTIK_PRICING_FILE';
