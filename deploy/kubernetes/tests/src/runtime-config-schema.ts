import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './paths.js';
import { CHART_MANAGED, SECRET_SETTINGS, isFileVariant, runtimeSettingsTable } from './runtime-settings.js';

/** A JSON schema node, as much of it as this file reads and writes. */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  [keyword: string]: unknown;
}

/**
 * What values.schema.json must accept in `runtime.config`: the runtime's own settings schema
 * (the zod ConfigSchema of the built runtime, as JSON schema), less the settings the chart sets
 * itself and the secret ones, each described by the repository README's settings table. A new
 * runtime setting thus fails a test until the chart accepts it too.
 */
export async function runtimeConfigSchema(): Promise<Record<string, JsonSchema>> {
  const runtimeDir = path.join(repoRoot, 'packages/runtime');
  const { ConfigSchema } = (await import(pathToFileURL(path.join(runtimeDir, 'dist/config/schema.js')).href)) as { ConfigSchema: unknown };
  // The runtime's own copy of zod, so the schema and the converter are one library.
  const zodPath = createRequire(path.join(runtimeDir, 'package.json')).resolve('zod');
  const { z } = (await import(pathToFileURL(zodPath).href)) as { z: { toJSONSchema(schema: unknown, options: object): JsonSchema } };
  const all = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }).properties ?? {};
  const meanings = runtimeSettingsTable();
  const chosen: Record<string, JsonSchema> = {};
  for (const [name, node] of Object.entries(all)) {
    if (CHART_MANAGED.includes(name) || SECRET_SETTINGS.includes(name) || isFileVariant(name)) continue;
    const { default: _default, $schema: _schema, ...rest } = node;
    // Flags are the strings "true"/"false" to the runtime; a values file may write YAML booleans.
    const flag = Array.isArray(rest.enum) && rest.enum.length === 2 && rest.enum.includes('true') && rest.enum.includes('false');
    chosen[name] = {
      ...(flag ? { type: ['boolean', 'string'], enum: [true, false, 'true', 'false'] } : rest),
      description: meanings[name] ?? '',
    };
  }
  return chosen;
}
