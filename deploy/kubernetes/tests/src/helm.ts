import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { chartDir, examplesDir } from './paths.js';

/** A rendered Kubernetes object, as parsed from `helm template`. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  // labels and annotations may be absent: the tests that read them assert on them first.
  metadata: { name: string; namespace?: string; labels: Record<string, string>; annotations: Record<string, string> };
  // Rendered objects are checked against the Kubernetes schemas separately (k8s-schema.ts);
  // tests read the fields they assert on.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [field: string]: any;
}

/** How to render: example values files (names in examples/), `--set` pairs, extra API versions. */
export interface RenderOptions {
  examples?: string[];
  /** `--set` pairs; a string is passed with `--set-string`, `null` removes a default. */
  set?: Record<string, string | number | boolean | null>;
  /** `--api-versions` capabilities, e.g. `monitoring.coreos.com/v1`. */
  apiVersions?: string[];
  /** Release name (default `agentik`). */
  release?: string;
  /** The cluster version the render assumes (the chart's minimum by default). */
  kubeVersion?: string;
}

export const RELEASE = 'agentik';
export const NAMESPACE = 'agentik';

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a pinned Helm (3.17.3, or `oldest`: 3.9.4) with a private home, so no user config or
 * repository cache leaks in.
 */
export function helm(args: string[], release: 'current' | 'oldest' = 'current'): HelmResult {
  const home = path.join(os.tmpdir(), 'agentik-helm-tests-home');
  const result = spawnSync(inject(release === 'oldest' ? 'helmOldest' : 'helm'), args, {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '',
      HELM_CACHE_HOME: path.join(home, 'cache'),
      HELM_CONFIG_HOME: path.join(home, 'config'),
      HELM_DATA_HOME: path.join(home, 'data'),
    },
  });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function renderArgs(options: RenderOptions): string[] {
  const args = ['template', options.release ?? RELEASE, chartDir, '--namespace', NAMESPACE, '--kube-version', options.kubeVersion ?? '1.28.0'];
  for (const example of options.examples ?? []) args.push('--values', path.join(examplesDir, example));
  for (const [key, value] of Object.entries(options.set ?? {})) {
    args.push(typeof value === 'string' ? '--set-string' : '--set', `${key}=${value === null ? 'null' : value}`);
  }
  for (const version of options.apiVersions ?? []) args.push('--api-versions', version);
  return args;
}

/** `helm template` that must succeed: its output. */
export function renderText(options: RenderOptions = {}, release: 'current' | 'oldest' = 'current'): string {
  const result = helm(renderArgs(options), release);
  if (result.status !== 0) throw new Error(`helm template failed (${result.status}):\n${result.stderr}`);
  return result.stdout;
}

/** `helm template` that must succeed: the rendered objects, tests' hook pods included. */
export function render(options: RenderOptions = {}): K8sObject[] {
  return parseObjects(renderText(options));
}

/** `helm template` that must fail: its error output. */
export function renderError(options: RenderOptions, release: 'current' | 'oldest' = 'current'): string {
  const result = helm(renderArgs(options), release);
  if (result.status === 0) throw new Error('helm template succeeded, but it should have failed');
  return result.stderr;
}

export function parseObjects(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value !== null) objects.push(value);
  }
  return objects;
}

/** The one object of that kind and name suffix (names are `<release>-agentik-os-<suffix>`). */
export function find(objects: K8sObject[], kind: string, suffix?: string): K8sObject {
  const matches = objects.filter((o) => o.kind === kind && (suffix === undefined || o.metadata.name.endsWith(suffix)));
  if (matches.length !== 1) {
    throw new Error(`expected one ${kind}${suffix ? ` *${suffix}` : ''}, found ${matches.map((o) => o.metadata.name).join(', ') || 'none'}`);
  }
  return matches[0]!;
}

export function kinds(objects: K8sObject[]): string[] {
  return objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
}
