import { expect } from 'vitest';
import type { K8sObject } from './helm.js';
import { checkObjects } from './k8s-schema.js';
import { runtimeSettings } from './runtime-settings.js';

/** Objects that run pods, with their pod spec and pod labels. */
export interface PodOwner {
  object: K8sObject;
  podSpec: K8sObject['spec'];
  podLabels: Record<string, string>;
}

export function podOwners(objects: K8sObject[]): PodOwner[] {
  const owners: PodOwner[] = [];
  for (const o of objects) {
    if (o.kind === 'StatefulSet' || o.kind === 'Deployment') {
      owners.push({ object: o, podSpec: o.spec.template.spec, podLabels: o.spec.template.metadata.labels });
    } else if (o.kind === 'Pod') {
      owners.push({ object: o, podSpec: o.spec, podLabels: o.metadata.labels ?? {} });
    }
  }
  return owners;
}

const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Workloads (not the test pod) whose pod labels a selector picks. */
function selected(objects: K8sObject[], selector: Record<string, string>): PodOwner[] {
  return podOwners(objects).filter((p) => p.object.kind !== 'Pod' && matches(selector, p.podLabels));
}

const STABLE_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component'];

/**
 * What must hold for every render, whatever the values: valid against the Kubernetes schemas
 * with no unknown fields, locked-down pods, resources, probes, and selectors that meet.
 */
export async function expectSound(objects: K8sObject[]): Promise<void> {
  expect(await checkObjects(objects)).toEqual([]);
  const known = new Set(runtimeSettings());

  for (const o of objects) {
    for (const label of [...STABLE_LABELS, 'helm.sh/chart', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/version']) {
      expect(o.metadata.labels, `${o.kind}/${o.metadata.name} label ${label}`).toHaveProperty([label]);
    }
    expect(o.metadata.name.length, `${o.metadata.name} fits a DNS label`).toBeLessThanOrEqual(63);
  }

  for (const { object, podSpec, podLabels } of podOwners(objects)) {
    const where = `${object.kind}/${object.metadata.name}`;
    expect(podSpec.automountServiceAccountToken, `${where} mounts no token`).toBe(false);
    expect(podSpec.enableServiceLinks, `${where} has no service-link variables`).toBe(false);
    const pod = podSpec.securityContext;
    expect(pod.runAsNonRoot, where).toBe(true);
    expect(Number.isInteger(pod.runAsUser) && pod.runAsUser > 0, `${where} runs as a numeric non-root uid`).toBe(true);
    expect(pod.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    const tmpVolume = podSpec.volumes.find((v: K8sObject) => v.name === 'tmp');
    expect(tmpVolume?.emptyDir?.sizeLimit, `${where} has a size-limited emptyDir for /tmp`).toBeTruthy();

    const containers = [...(podSpec.initContainers ?? []).map((c: K8sObject) => ({ ...c, init: true })), ...podSpec.containers];
    for (const c of containers) {
      const at = `${where} container ${c.name}`;
      expect(c.securityContext, at).toMatchObject({
        runAsNonRoot: true,
        runAsUser: pod.runAsUser,
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(c.securityContext.capabilities.add, at).toBeUndefined();
      for (const kind of ['requests', 'limits']) {
        expect(c.resources?.[kind]?.cpu, `${at} ${kind}.cpu`).toBeTruthy();
        expect(c.resources?.[kind]?.memory, `${at} ${kind}.memory`).toBeTruthy();
      }
      expect(c.volumeMounts.find((m: K8sObject) => m.mountPath === '/tmp')?.name, `${at} writes /tmp to the emptyDir`).toBe('tmp');
      for (const mount of c.volumeMounts) {
        expect(podSpec.volumes.map((v: K8sObject) => v.name).concat(volumeClaimNames(object)), `${at} mount ${mount.name}`).toContain(mount.name);
      }
      for (const env of c.env ?? []) {
        if (env.name.startsWith('AGENTIK_')) expect(known, `${at}: ${env.name} is a runtime setting`).toContain(env.name);
      }
      // A long-running container is probed over HTTP on a port it declares.
      if (!c.init && object.kind !== 'Pod') {
        const ports = (c.ports ?? []).map((p: K8sObject) => p.name);
        const probes = object.kind === 'StatefulSet' ? ['startupProbe', 'livenessProbe', 'readinessProbe'] : ['livenessProbe', 'readinessProbe'];
        for (const probe of probes) {
          expect(c[probe]?.httpGet?.path, `${at} ${probe}`).toMatch(/^\/(health|ready|healthz)$/);
          expect(ports, `${at} ${probe} port`).toContain(c[probe].httpGet.port);
        }
      }
    }

    if (object.kind !== 'Pod') {
      const selector = object.spec.selector.matchLabels;
      expect(Object.keys(selector).sort(), `${where} selects on stable labels only`).toEqual([...STABLE_LABELS].sort());
      expect(matches(selector, podLabels), `${where} selector matches its pods`).toBe(true);
    }
  }

  for (const cm of objects.filter((o) => o.kind === 'ConfigMap')) {
    for (const name of Object.keys(cm.data)) expect(known, `ConfigMap key ${name} is a runtime setting`).toContain(name);
  }

  for (const svc of objects.filter((o) => o.kind === 'Service')) {
    const targets = selected(objects, svc.spec.selector);
    expect(targets.length, `Service/${svc.metadata.name} selects one workload`).toBe(1);
    const ports = targets[0]!.podSpec.containers.flatMap((c: K8sObject) => (c.ports ?? []).map((p: K8sObject) => p.name));
    for (const port of svc.spec.ports) expect(ports, `Service/${svc.metadata.name} targetPort`).toContain(port.targetPort);
  }

  for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
    expect(pdb.spec.maxUnavailable).toBe(1);
    const [target, ...others] = selected(objects, pdb.spec.selector.matchLabels);
    expect(others, `PDB/${pdb.metadata.name} selects one workload`).toEqual([]);
    const minimum = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.spec.scaleTargetRef.name === target!.object.metadata.name)?.spec.minReplicas;
    expect(minimum ?? target!.object.spec.replicas, `PDB/${pdb.metadata.name} only for more than one replica`).toBeGreaterThan(1);
  }

  for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    const target = objects.find((o) => o.kind === hpa.spec.scaleTargetRef.kind && o.metadata.name === hpa.spec.scaleTargetRef.name);
    expect(target, `HPA/${hpa.metadata.name} target exists`).toBeDefined();
    expect(target!.spec.replicas, 'no replicas while the HPA is on').toBeUndefined();
    expect(hpa.spec.minReplicas).toBeLessThanOrEqual(hpa.spec.maxReplicas);
  }

  for (const np of objects.filter((o) => o.kind === 'NetworkPolicy')) {
    expect(selected(objects, np.spec.podSelector.matchLabels).length, `NetworkPolicy/${np.metadata.name} selects a workload`).toBe(1);
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
  }

  for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
    for (const rule of ingress.spec.rules) {
      for (const p of rule.http.paths) {
        const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === p.backend.service.name);
        expect(svc, `Ingress path ${p.path} backend`).toBeDefined();
        expect(svc!.spec.ports.map((port: K8sObject) => port.name)).toContain(p.backend.service.port.name);
      }
    }
  }

  const serviceAccounts = objects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name);
  for (const { object, podSpec } of podOwners(objects)) {
    if (podSpec.serviceAccountName !== 'default') expect(serviceAccounts, `${object.metadata.name} service account`).toContain(podSpec.serviceAccountName);
  }
  for (const sa of objects.filter((o) => o.kind === 'ServiceAccount')) expect(sa.automountServiceAccountToken).toBe(false);
}

function volumeClaimNames(o: K8sObject): string[] {
  return (o.spec?.volumeClaimTemplates ?? []).map((t: K8sObject) => t.metadata.name);
}

/** Every env entry read from a Secret: `{container env name: [secret, key, optional]}`. */
export function secretRefs(container: K8sObject): Record<string, [string, string, boolean]> {
  const refs: Record<string, [string, string, boolean]> = {};
  for (const env of container.env ?? []) {
    const ref = env.valueFrom?.secretKeyRef;
    if (ref) refs[env.name] = [ref.name, ref.key, ref.optional === true];
  }
  return refs;
}
