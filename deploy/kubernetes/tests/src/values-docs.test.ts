import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chartDir } from './paths.js';
import { runtimeConfigSchema, type JsonSchema } from './runtime-config-schema.js';
import { CHART_MANAGED, SECRET_SETTINGS, runtimeSettings } from './runtime-settings.js';
import { TABLE_END, TABLE_START, readValuesDoc, valuesTable } from './values-doc.js';

const readmePath = path.join(chartDir, 'README.md');
const schemaPath = path.join(chartDir, 'values.schema.json');
// AGENTIK_UPDATE_CHART_DOCS=1 rewrites the README's values table and the schema's runtime.config
// from their sources (values.yaml; the runtime's settings) instead of comparing with them.
const UPDATE = process.env.AGENTIK_UPDATE_CHART_DOCS === '1';
const FIX = 'out of date: run `pnpm build && AGENTIK_UPDATE_CHART_DOCS=1 pnpm --dir deploy/kubernetes/tests exec vitest run src/values-docs.test.ts`';
const { documented, undocumented } = readValuesDoc();
const keys = documented.map((v) => v.key);

interface SchemaNode {
  $ref?: string;
  properties?: Record<string, SchemaNode>;
}
const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as SchemaNode & { definitions: Record<string, SchemaNode> };
const resolve = (node: SchemaNode) => (node.$ref ? schema.definitions[node.$ref.replace('#/definitions/', '')]! : node);

describe('values.yaml, values.schema.json and the README table', () => {
  it('documents every value with a "# --" comment', () => {
    expect(undocumented).toEqual([]);
    for (const v of documented) expect(v.description.length, v.key).toBeGreaterThan(10);
  });

  it('lists every value in the README table, with its default and description', () => {
    const readme = readFileSync(readmePath, 'utf8');
    const start = readme.indexOf(TABLE_START);
    const end = readme.indexOf(TABLE_END);
    expect(start, 'README.md has the table markers').toBeGreaterThan(0);
    const expected = valuesTable(documented);
    if (UPDATE) {
      writeFileSync(readmePath, `${readme.slice(0, start + TABLE_START.length)}\n${expected}\n${readme.slice(end)}`);
      return;
    }
    expect(readme.slice(start + TABLE_START.length, end).trim(), `README.md values table ${FIX}`).toBe(expected);
  });

  it('has a schema entry for every documented value, and a documented value for every schema entry', () => {
    const schemaKeys: string[] = [];
    const walk = (node: SchemaNode, prefix: string) => {
      for (const [name, child] of Object.entries(resolve(node).properties ?? {})) {
        const key = `${prefix}${name}`;
        if (keys.includes(key) || !resolve(child).properties) schemaKeys.push(key);
        else walk(child, `${key}.`);
      }
    };
    walk(schema, '');
    expect(schemaKeys.sort()).toEqual([...keys].sort());
  });

  it('keeps the value names that outside tests set', () => {
    const contract = [
      'runtime.replicas',
      'runtime.storage',
      'runtime.persistence.size',
      'postgres.existingSecret',
      'postgres.secretKey',
      'secrets.existingSecret',
      'secrets.operatorKey',
      'secrets.encryptionKey',
      'dashboard.replicas',
      'dashboard.autoscaling.enabled',
      'dashboard.autoscaling.minReplicas',
      'dashboard.autoscaling.maxReplicas',
      'dashboard.autoscaling.targetCPUUtilizationPercentage',
      'ingress.enabled',
      'ingress.className',
      'ingress.host',
      'ingress.tls.enabled',
      'ingress.tls.secretName',
      'ingress.certManager.clusterIssuer',
      'networkPolicy.enabled',
      'metrics.serviceMonitor.enabled',
      'global.imageRegistry',
    ];
    expect(keys).toEqual(expect.arrayContaining(contract));
    const defaults = Object.fromEntries(documented.map((v) => [v.key, v.default]));
    expect(defaults).toMatchObject({ 'runtime.replicas': 1, 'runtime.storage': 'sqlite', 'postgres.secretKey': 'database-url', 'networkPolicy.enabled': true });
  });

  it('accepts in runtime.config exactly the runtime settings that are neither secret nor set by the chart, typed as the runtime types them', async () => {
    const expected = await runtimeConfigSchema();
    const config = (resolve(schema.properties!.runtime!).properties!.config as JsonSchema);
    if (UPDATE) {
      config.properties = expected;
      writeFileSync(schemaPath, `${JSON.stringify(schema, null, 2)}\n`);
      return;
    }
    expect(config.additionalProperties).toBe(false);
    expect(config.properties, `values.schema.json runtime.config ${FIX}`).toEqual(expected);
    // The names the chart handles itself are runtime settings too.
    expect(runtimeSettings()).toEqual(expect.arrayContaining([...CHART_MANAGED, ...SECRET_SETTINGS]));
    expect(Object.keys(expected)).toContain('AGENTIK_LOG_LEVEL');
  });
});
