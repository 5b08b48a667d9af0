import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chartDir } from './paths.js';
import { CHART_MANAGED, SECRET_SETTINGS, isFileVariant, runtimeSettings } from './runtime-settings.js';
import { TABLE_END, TABLE_START, readValuesDoc, valuesTable } from './values-doc.js';

const readmePath = path.join(chartDir, 'README.md');
const { documented, undocumented } = readValuesDoc();
const keys = documented.map((v) => v.key);

interface SchemaNode {
  $ref?: string;
  properties?: Record<string, SchemaNode>;
}
const schema = JSON.parse(readFileSync(path.join(chartDir, 'values.schema.json'), 'utf8')) as SchemaNode & { definitions: Record<string, SchemaNode> };
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
    // AGENTIK_UPDATE_VALUES_TABLE=1 rewrites the table from values.yaml instead of comparing.
    if (process.env.AGENTIK_UPDATE_VALUES_TABLE === '1') {
      writeFileSync(readmePath, `${readme.slice(0, start + TABLE_START.length)}\n${expected}\n${readme.slice(end)}`);
      return;
    }
    const fix = 'README.md table out of date: AGENTIK_UPDATE_VALUES_TABLE=1 pnpm --dir deploy/kubernetes/tests exec vitest run src/values-docs.test.ts';
    expect(readme.slice(start + TABLE_START.length, end).trim(), fix).toBe(expected);
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

  it('accepts in runtime.config exactly the runtime settings that are neither secret nor set by the chart', () => {
    const configNames = Object.keys(resolve(schema.properties!.runtime!).properties!.config!.properties!);
    const expected = runtimeSettings().filter((name) => !CHART_MANAGED.includes(name) && !SECRET_SETTINGS.includes(name) && !isFileVariant(name));
    expect(configNames.sort()).toEqual(expected.sort());
    // The names the chart handles itself are runtime settings too.
    expect(runtimeSettings()).toEqual(expect.arrayContaining([...CHART_MANAGED, ...SECRET_SETTINGS]));
  });
});
