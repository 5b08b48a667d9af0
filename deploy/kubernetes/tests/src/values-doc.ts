import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, parseDocument, type YAMLMap } from 'yaml';
import { chartDir } from './paths.js';

/** One documented value of values.yaml: its dotted path, default and `# --` description. */
export interface DocumentedValue {
  key: string;
  default: unknown;
  description: string;
}

export interface ValuesDoc {
  documented: DocumentedValue[];
  /** Leaves (scalars, lists, empty maps) that neither they nor a parent document. */
  undocumented: string[];
}

/**
 * Reads values.yaml the way helm-docs does: a comment starting with `--` above a key documents
 * it (and, for a map, everything in it); other maps are walked into.
 */
export function readValuesDoc(file = path.join(chartDir, 'values.yaml')): ValuesDoc {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const documented: DocumentedValue[] = [];
  const undocumented: string[] = [];
  const walk = (map: YAMLMap, prefix: string) => {
    map.items.forEach((pair, i) => {
      const key = `${prefix}${String((pair.key as { value: unknown }).value)}`;
      // The comment above a map's first key is kept on the map itself.
      const comment = (pair.key as { commentBefore?: string }).commentBefore ?? (i === 0 ? map.commentBefore : undefined) ?? '';
      const lines = comment.split('\n').map((l) => l.trim());
      const start = lines.findIndex((l) => l.startsWith('--'));
      if (start >= 0) {
        const description = lines.slice(start).join(' ').replace(/^--\s*/, '').trim();
        documented.push({ key, default: (pair.value as { toJSON(): unknown } | null)?.toJSON() ?? null, description });
      } else if (isMap(pair.value) && pair.value.items.length > 0) {
        walk(pair.value, `${key}.`);
      } else {
        undocumented.push(key);
      }
    });
  };
  walk(doc.contents as YAMLMap, '');
  return { documented, undocumented };
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The README's table of values, one row per documented value, in values.yaml's order. */
export function valuesTable(values: DocumentedValue[]): string {
  const rows = values.map((v) => `| \`${v.key}\` | \`${cell(JSON.stringify(v.default))}\` | ${cell(v.description)} |`);
  return ['| key | default | description |', '|---|---|---|', ...rows].join('\n');
}

export const TABLE_START = '<!-- values-table:start (made from values.yaml by src/values-docs.test.ts) -->';
export const TABLE_END = '<!-- values-table:end -->';
