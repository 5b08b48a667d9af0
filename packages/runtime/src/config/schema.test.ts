import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from './schema.js';

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
});
