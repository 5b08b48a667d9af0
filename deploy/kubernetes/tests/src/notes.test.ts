import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NAMESPACE, RELEASE, helm } from './helm.js';
import { chartDir, examplesDir } from './paths.js';

// `helm template` does not print NOTES.txt and `helm install --dry-run` needs a cluster, so a
// copy of the chart gets one more template that renders NOTES.txt into a YAML string.
const copy = mkdtempSync(path.join(os.tmpdir(), 'agentik-helm-notes-'));
cpSync(chartDir, copy, { recursive: true });
writeFileSync(path.join(copy, 'templates', 'zz-notes.yaml'), 'notes: |\n{{ include (print $.Template.BasePath "/NOTES.txt") . | indent 2 }}\n');
afterAll(() => rmSync(copy, { recursive: true, force: true }));

function notes(args: string[] = []): string {
  const result = helm(['template', RELEASE, copy, '--namespace', NAMESPACE, '--show-only', 'templates/zz-notes.yaml', ...args]);
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout;
}

describe('NOTES.txt', () => {
  it('says how to wait, read the generated operator key from the log, reach the API and create a tenant', () => {
    const text = notes();
    expect(text).toContain('kubectl -n agentik rollout status statefulset/agentik-agentik-os-runtime --timeout=5m');
    expect(text).toContain('helm -n agentik test agentik');
    expect(text).toContain("kubectl -n agentik logs agentik-agentik-os-runtime-0 -c runtime | grep -A1 'Operator key'");
    expect(text).toContain('kubectl -n agentik port-forward svc/agentik-agentik-os-runtime 3000:3000');
    expect(text).toContain('curl -fsS -X POST "$AGENTIK_URL/api/tenants"');
  });

  it('reads the operator key from the existing Secret and names the HTTPS address', () => {
    const text = notes(['--values', path.join(examplesDir, 'postgres-ha.yaml')]);
    expect(text).toContain("kubectl -n agentik get secret agentik-secrets -o jsonpath='{.data.operator-key}' | base64 -d");
    expect(text).toContain('export AGENTIK_URL=https://agentik.example.com');
    expect(text).toContain('WARNING: metrics.serviceMonitor.enabled=true, but this cluster does not serve');
  });

  it('warns that SQLite on an emptyDir loses everything', () => {
    expect(notes(['--values', path.join(examplesDir, 'minimal.yaml')])).toContain('WARNING: runtime.persistence.enabled=false with SQLite');
  });
});
