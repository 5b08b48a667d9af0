import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigSchema, SECRET_SETTINGS } from './schema.js';

const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');

describe('configuration table in README.md', () => {
  const documented = [...readme.matchAll(/^\|\s*`(AGENTIK_[A-Z_]+)`\s*\|\s*([^|]+)\|/gm)].map((m) => ({
    name: m[1]!,
    defaultText: m[2]!.trim(),
  }));

  it('lists exactly the settings of the schema', () => {
    expect(documented.map((d) => d.name).sort()).toEqual(Object.keys(ConfigSchema.shape).sort());
  });

  it('shows the default the schema applies', () => {
    const defaults = ConfigSchema.parse({});
    for (const { name, defaultText } of documented) {
      const value = defaults[name as keyof typeof defaults];
      if (value === undefined) continue;
      expect(defaultText, name).toBe(`\`${String(value)}\``);
    }
  });

  it('marks exactly the secret settings as readable from <NAME>_FILE', () => {
    const marked = [...readme.matchAll(/^\|\s*`(AGENTIK_[A-Z_]+)`\s*\|[^|]+\|\s*Secret \(or `(AGENTIK_[A-Z_]+)`\)/gm)].map((m) => {
      expect(m[2]).toBe(`${m[1]}_FILE`);
      return m[1];
    });
    expect(marked.sort()).toEqual([...SECRET_SETTINGS].sort());
    for (const name of SECRET_SETTINGS) expect(readme).toContain(`\`${name}_FILE\``);
  });
});
