import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { helm, parseObjects as parse, render, renderText } from './helm.js';
import { expectSound } from './invariants.js';
import { chartDir, examplesDir } from './paths.js';

const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml')).sort();

describe('helm lint --strict', () => {
  it('passes for the defaults, whose render has no trailing blanks', () => {
    expect(renderText()).not.toMatch(/[ \t]+$/m);
    const result = helm(['lint', '--strict', chartDir]);
    expect(result.stdout + result.stderr).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.status).toBe(0);
    expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it('has examples to check', () => {
    expect(examples).toEqual(expect.arrayContaining(['minikube.yaml', 'postgres-ha.yaml', 'minimal.yaml', 'air-gapped.yaml']));
  });

  it.each(examples)('passes for examples/%s, whose render is sound', async (example) => {
    const result = helm(['lint', '--strict', chartDir, '--values', path.join(examplesDir, example)]);
    expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(result.status).toBe(0);
    const text = renderText({ examples: [example], apiVersions: ['monitoring.coreos.com/v1'] });
    expect(text, 'rendered lines end without blanks').not.toMatch(/[ \t]+$/m);
    await expectSound(parse(text));
  });

  it('fails for a values file with a misspelled key', () => {
    const result = helm(['lint', '--strict', chartDir, '--set', 'runtime.replica=3']);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toMatch(/\[ERROR\] values.yaml: - runtime: Additional property replica is not allowed/);
  });
});

describe('the production example (examples/postgres-ha.yaml)', () => {
  const objects = render({ examples: ['postgres-ha.yaml'], apiVersions: ['monitoring.coreos.com/v1'] });

  it('renders 3 Postgres replicas, the HPA, both PDBs, TLS by cert-manager and a ServiceMonitor', () => {
    const summary = objects.map((o) => o.kind).sort();
    for (const kind of ['HorizontalPodAutoscaler', 'Ingress', 'ServiceMonitor']) expect(summary).toContain(kind);
    expect(summary.filter((k) => k === 'PodDisruptionBudget')).toHaveLength(2);
    expect(objects.find((o) => o.kind === 'StatefulSet')!.spec.replicas).toBe(3);
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  });
});
