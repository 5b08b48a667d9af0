import { Buffer } from 'node:buffer';
import type { K8sObject } from './helm.js';

/** Values of Secrets the chart does not make (the operator's), by Secret name and key. */
export type OutsideSecrets = Record<string, Record<string, string>>;

/**
 * The environment Kubernetes would give a container of a rendered pod: its ConfigMap
 * (`envFrom`), then its `env` entries, with `secretKeyRef`s read from the chart's own Secret or
 * from `outside`. A missing optional key is left out, as the kubelet does; a missing required
 * one is an error (the pod would not start).
 */
export function podEnv(objects: K8sObject[], container: K8sObject, outside: OutsideSecrets = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name;
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
    if (!cm) throw new Error(`envFrom: no ConfigMap ${name}`);
    Object.assign(env, cm.data);
  }
  for (const entry of container.env ?? []) {
    if (entry.value !== undefined) {
      env[entry.name] = entry.value;
      continue;
    }
    const ref = entry.valueFrom.secretKeyRef;
    const own = objects.find((o) => o.kind === 'Secret' && o.metadata.name === ref.name);
    const encoded: string | undefined = own?.data?.[ref.key];
    const value = own ? (encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8')) : outside[ref.name]?.[ref.key];
    if (value !== undefined) env[entry.name] = value;
    else if (!ref.optional) throw new Error(`${entry.name}: Secret ${ref.name} has no key ${ref.key}`);
  }
  return env;
}
