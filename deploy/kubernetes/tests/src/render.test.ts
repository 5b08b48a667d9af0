import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { find, kinds, render, type K8sObject } from './helm.js';
import { expectSound, podOwners, secretRefs } from './invariants.js';
import { chartDir } from './paths.js';

const chart = parse(readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8')) as { appVersion: string };
const PREFIX = 'agentik-agentik-os';
const OPERATOR_KEY = 'op-' + 'k'.repeat(40);
const ENCRYPTION_KEY = 'ab'.repeat(32);

const runtimeOf = (objects: K8sObject[]) => find(objects, 'StatefulSet', '-runtime');
const runtimeContainer = (objects: K8sObject[]) => runtimeOf(objects).spec.template.spec.containers[0];

describe('helm template with the defaults', () => {
  const objects = render();
  const sts = runtimeOf(objects);
  const pod = sts.spec.template.spec;

  it('renders sound objects: schema-valid, locked down, selectors that meet', async () => {
    await expectSound(objects);
  });

  it('renders the runtime, its two Services, the dashboard, its Service, the NetworkPolicies and the test pod', () => {
    expect(kinds(objects)).toEqual(
      [
        `ConfigMap/${PREFIX}-runtime`,
        `Deployment/${PREFIX}-dashboard`,
        `NetworkPolicy/${PREFIX}-dashboard`,
        `NetworkPolicy/${PREFIX}-runtime`,
        `Pod/${PREFIX}-test-healthcheck`,
        `Service/${PREFIX}-dashboard`,
        `Service/${PREFIX}-runtime`,
        `Service/${PREFIX}-runtime-headless`,
        `ServiceAccount/${PREFIX}`,
        `StatefulSet/${PREFIX}-runtime`,
      ].sort(),
    );
  });

  it('runs one SQLite runtime replica on a PVC template of 8Gi at /var/lib/agentik-os', () => {
    expect(sts.spec.replicas).toBe(1);
    expect(sts.spec.serviceName).toBe(`${PREFIX}-runtime-headless`);
    expect(find(objects, 'Service', '-runtime-headless').spec.clusterIP).toBe('None');
    const [claim, ...more] = sts.spec.volumeClaimTemplates;
    expect(more).toEqual([]);
    expect(claim.metadata.name).toBe('data');
    expect(claim.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '8Gi' } } });
    // Claim templates are immutable: a label that changes with the chart version would block upgrades.
    expect(Object.keys(claim.metadata.labels).sort()).toEqual(['app.kubernetes.io/component', 'app.kubernetes.io/instance', 'app.kubernetes.io/name']);
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/agentik-os' });
    expect(pod.volumes.map((v: K8sObject) => v.name)).toEqual(['tmp']);
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
  });

  it('takes a StorageClass, or none with "-"', () => {
    const claim = (storageClass: string) => runtimeOf(render({ set: { 'runtime.persistence.storageClass': storageClass } })).spec.volumeClaimTemplates[0].spec;
    expect(claim('fast-ssd').storageClassName).toBe('fast-ssd');
    expect(claim('-').storageClassName).toBe('');
  });

  it('migrates in an init container, then serves, both from the runtime image at the chart appVersion', () => {
    const image = `agentik-os/runtime:${chart.appVersion}`;
    expect(pod.initContainers.map((c: K8sObject) => [c.name, c.image, c.args])).toEqual([['migrate', image, ['migrate']]]);
    expect(pod.containers.map((c: K8sObject) => [c.name, c.image, c.args])).toEqual([['runtime', image, ['serve']]]);
    expect(pod.initContainers[0].envFrom).toEqual(pod.containers[0].envFrom);
    expect(pod.containers[0].ports).toEqual([{ name: 'http', containerPort: 3000, protocol: 'TCP' }]);
    expect(find(objects, 'Deployment').spec.template.spec.containers[0].image).toBe(`agentik-os/dashboard:${chart.appVersion}`);
  });

  it('probes /health at start and for liveness, /ready for readiness', () => {
    const c = pod.containers[0];
    expect([c.startupProbe.httpGet, c.livenessProbe.httpGet, c.readinessProbe.httpGet]).toEqual([
      { path: '/health', port: 'http' },
      { path: '/health', port: 'http' },
      { path: '/ready', port: 'http' },
    ]);
    const dashboard = find(objects, 'Deployment').spec.template.spec.containers[0];
    expect([dashboard.livenessProbe.httpGet, dashboard.readinessProbe.httpGet]).toEqual([
      { path: '/healthz', port: 'http' },
      { path: '/healthz', port: 'http' },
    ]);
    expect(dashboard.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  });

  it('runs the runtime as uid 65532 and the dashboard as uid 101, with the volume group-owned', () => {
    expect(pod.securityContext).toMatchObject({ runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532 });
    expect(find(objects, 'Deployment').spec.template.spec.securityContext).toMatchObject({ runAsUser: 101, runAsGroup: 101 });
  });

  it('puts the non-secret settings in the ConfigMap and makes no Secret without secret values', () => {
    expect(find(objects, 'ConfigMap').data).toEqual({
      AGENTIK_HOST: '0.0.0.0',
      AGENTIK_PORT: '3000',
      AGENTIK_DATA_DIR: '/var/lib/agentik-os',
      AGENTIK_STORAGE: 'sqlite',
      AGENTIK_LOG_LEVEL: 'info',
      AGENTIK_SHUTDOWN_TIMEOUT_MS: '10000',
    });
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(pod.containers[0].env).toBeUndefined();
    expect(pod.containers[0].envFrom).toEqual([{ configMapRef: { name: `${PREFIX}-runtime` } }]);
  });

  it('gives the runtime more grace than its drain time', () => {
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(Number(find(objects, 'ConfigMap').data.AGENTIK_SHUTDOWN_TIMEOUT_MS));
  });

  it('neither spreads nor budgets single replicas, and renders no Ingress, HPA or ServiceMonitor', () => {
    expect(pod.affinity).toBeUndefined();
    expect(pod.topologySpreadConstraints).toBeUndefined();
    for (const kind of ['PodDisruptionBudget', 'HorizontalPodAutoscaler', 'Ingress', 'ServiceMonitor']) {
      expect(objects.filter((o) => o.kind === kind)).toEqual([]);
    }
    const dashboard = find(objects, 'Deployment');
    expect(dashboard.spec.replicas).toBe(1);
    expect(dashboard.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
  });

  it('tests the runtime Service with the image’s own healthcheck command', () => {
    const test = find(objects, 'Pod');
    expect(test.metadata.annotations['helm.sh/hook']).toBe('test');
    expect(test.spec.restartPolicy).toBe('Never');
    expect(test.spec.containers[0].image).toBe(`agentik-os/runtime:${chart.appVersion}`);
    expect(test.spec.containers[0].args).toEqual(['healthcheck', '--url', `http://${PREFIX}-runtime.agentik.svc:3000`]);
  });

  it('lets only the ingress controller, the dashboard and the test pod reach the runtime, which reaches DNS and the LLM ports', () => {
    const np = find(objects, 'NetworkPolicy', '-runtime');
    expect(np.spec.ingress).toEqual([
      {
        from: [
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
          { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'agentik-os', 'app.kubernetes.io/instance': 'agentik', 'app.kubernetes.io/component': 'dashboard' } } },
          { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'agentik-os', 'app.kubernetes.io/instance': 'agentik', 'app.kubernetes.io/component': 'test' } } },
        ],
        ports: [{ protocol: 'TCP', port: 3000 }],
      },
    ]);
    const test = find(objects, 'Pod');
    expect(np.spec.ingress[0].from[2].podSelector.matchLabels).toEqual(
      Object.fromEntries(Object.entries(test.metadata.labels).filter(([k]) => k in np.spec.ingress[0].from[2].podSelector.matchLabels)),
    );
    expect(np.spec.egress).toEqual([
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
      { ports: [{ protocol: 'TCP', port: 443 }, { protocol: 'TCP', port: 11434 }] },
    ]);
    const dashboard = find(objects, 'NetworkPolicy', '-dashboard');
    expect(dashboard.spec.ingress).toEqual([{ from: [np.spec.ingress[0].from[0]], ports: [{ protocol: 'TCP', port: 8080 }] }]);
    // Static files only: no egress rule at all, so every outgoing connection is denied.
    expect(dashboard.spec.policyTypes).toContain('Egress');
    expect(dashboard.spec.egress).toBeUndefined();
  });
});

describe('checksum/config', () => {
  const checksum = (objects: K8sObject[]) => runtimeOf(objects).spec.template.metadata.annotations['checksum/config'];

  it('is the sha256 of the rendered settings, the same on every render (nothing changes on upgrade)', () => {
    const first = render();
    expect(checksum(first)).toMatch(/^[0-9a-f]{64}$/);
    expect(render()).toEqual(first);
    expect(createHash('sha256').update('x').digest('hex')).not.toBe(checksum(first));
  });

  it('changes with a setting or a chart-made secret, so the pods roll', () => {
    const base = checksum(render());
    expect(checksum(render({ set: { 'runtime.config.AGENTIK_LOG_LEVEL': 'debug' } }))).not.toBe(base);
    expect(checksum(render({ set: { 'secrets.operatorKey': OPERATOR_KEY } }))).not.toBe(base);
    expect(checksum(render({ set: { 'dashboard.replicas': 2 } }))).toBe(base);
  });
});

describe('Postgres with 3 runtime replicas', () => {
  const objects = render({
    set: {
      'runtime.storage': 'postgres',
      'runtime.replicas': 3,
      'postgres.existingSecret': 'agentik-db',
      'secrets.operatorKey': OPERATOR_KEY,
      'secrets.encryptionKey': ENCRYPTION_KEY,
      'redis.url': 'redis://redis.data.svc:6379/0',
    },
  });
  const sts = runtimeOf(objects);

  it('renders sound objects', async () => {
    await expectSound(objects);
  });

  it('runs 3 replicas on Postgres, with the database URL, keys and Redis URL from Secrets', () => {
    expect(sts.spec.replicas).toBe(3);
    expect(find(objects, 'ConfigMap').data.AGENTIK_STORAGE).toBe('postgres');
    const own = `${PREFIX}-runtime`;
    const expected = {
      AGENTIK_DATABASE_URL: ['agentik-db', 'database-url', false],
      AGENTIK_OPERATOR_KEY: [own, 'operator-key', false],
      AGENTIK_ENCRYPTION_KEY: [own, 'encryption-key', false],
      AGENTIK_REDIS_URL: [own, 'redis-url', false],
    };
    expect(secretRefs(runtimeContainer(objects))).toEqual(expected);
    expect(secretRefs(sts.spec.template.spec.initContainers[0])).toEqual(expected);
    const secret = find(objects, 'Secret');
    expect(secret.stringData).toBeUndefined();
    expect(Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))).toEqual({
      'operator-key': OPERATOR_KEY,
      'encryption-key': ENCRYPTION_KEY,
      'redis-url': 'redis://redis.data.svc:6379/0',
    });
  });

  it('spreads the replicas over nodes and zones and keeps all but one through disruptions', () => {
    const pod = sts.spec.template.spec;
    const selector = sts.spec.selector.matchLabels;
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selector } } },
    ]);
    expect(pod.topologySpreadConstraints).toEqual([
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } },
    ]);
    const pdb = find(objects, 'PodDisruptionBudget', '-runtime');
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: selector } });
  });

  it('lets the runtime reach Postgres and Redis', () => {
    const egress = find(objects, 'NetworkPolicy', '-runtime').spec.egress;
    expect(egress.slice(2)).toEqual([{ ports: [{ protocol: 'TCP', port: 5432 }] }, { ports: [{ protocol: 'TCP', port: 6379 }] }]);
  });
});

describe('ingress with TLS and cert-manager', () => {
  const objects = render({ examples: ['ingress-tls-cert-manager.yaml'] });
  const ingress = find(objects, 'Ingress');

  it('renders sound objects', async () => {
    await expectSound(objects);
  });

  it('routes / to the dashboard and /api, /v1, /health, /ready to the runtime', () => {
    expect(ingress.spec.ingressClassName).toBe('nginx');
    const [rule, ...more] = ingress.spec.rules;
    expect(more).toEqual([]);
    expect(rule.host).toBe('agentik.example.com');
    const routes = rule.http.paths.map((p: K8sObject) => [p.path, p.pathType, p.backend.service.name, p.backend.service.port.name]);
    expect(routes).toEqual([
      ['/api', 'Prefix', `${PREFIX}-runtime`, 'http'],
      ['/v1', 'Prefix', `${PREFIX}-runtime`, 'http'],
      ['/health', 'Exact', `${PREFIX}-runtime`, 'http'],
      ['/ready', 'Exact', `${PREFIX}-runtime`, 'http'],
      ['/', 'Prefix', `${PREFIX}-dashboard`, 'http'],
    ]);
    expect(routes.map((r: string[]) => r[0])).not.toContain('/metrics');
  });

  it('serves TLS from the cert-manager certificate, with the SSE annotations of ingress-nginx', () => {
    expect(ingress.spec.tls).toEqual([{ hosts: ['agentik.example.com'], secretName: `${PREFIX}-tls` }]);
    expect(ingress.metadata.annotations).toEqual({
      'cert-manager.io/cluster-issuer': 'letsencrypt-prod',
      'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-request-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '300',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '300',
      'nginx.ingress.kubernetes.io/proxy-body-size': '1m',
    });
  });

  it('keeps an operator annotation over the SSE defaults, and drops them when asked', () => {
    const own = find(render({ examples: ['ingress-tls-cert-manager.yaml'], set: { 'ingress.annotations.nginx\\.ingress\\.kubernetes\\.io/proxy-read-timeout': '900' } }), 'Ingress');
    expect(own.metadata.annotations['nginx.ingress.kubernetes.io/proxy-read-timeout']).toBe('900');
    const bare = find(render({ examples: ['ingress-tls-cert-manager.yaml'], set: { 'ingress.nginxAnnotations': null } }), 'Ingress');
    expect(Object.keys(bare.metadata.annotations)).toEqual(['cert-manager.io/cluster-issuer']);
  });
});

describe('secrets.existingSecret', () => {
  const objects = render({ examples: ['existing-secret.yaml'] });

  it('renders sound objects', async () => {
    await expectSound(objects);
  });

  it('reads every key from that Secret and makes none of its own', () => {
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    // With SQLite, a key missing from the Secret is generated by the runtime: all optional.
    expect(secretRefs(runtimeContainer(objects))).toEqual({
      AGENTIK_OPERATOR_KEY: ['agentik-secrets', 'operator-key', true],
      AGENTIK_ENCRYPTION_KEY: ['agentik-secrets', 'encryption-key', true],
      AGENTIK_OPENAI_API_KEY: ['agentik-secrets', 'openai-api-key', true],
      AGENTIK_ANTHROPIC_API_KEY: ['agentik-secrets', 'anthropic-api-key', true],
    });
  });

  it('requires the encryption key from it with Postgres', () => {
    const postgres = render({ examples: ['existing-secret.yaml'], set: { 'runtime.storage': 'postgres', 'postgres.existingSecret': 'db', 'runtime.replicas': 2 } });
    expect(secretRefs(runtimeContainer(postgres)).AGENTIK_ENCRYPTION_KEY).toEqual(['agentik-secrets', 'encryption-key', false]);
  });
});

describe('dashboard HPA on', () => {
  const objects = render({ examples: ['dashboard-hpa.yaml'] });

  it('renders sound objects', async () => {
    await expectSound(objects);
  });

  it('scales the dashboard Deployment on CPU, which then renders no replicas', () => {
    const hpa = find(objects, 'HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: `${PREFIX}-dashboard` },
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 75 } } }],
    });
    const deployment = find(objects, 'Deployment');
    expect('replicas' in deployment.spec).toBe(false);
    expect(deployment.spec.template.spec.containers[0].resources.requests.cpu).toBe('50m');
  });

  it('budgets and spreads the dashboard pods', () => {
    const deployment = find(objects, 'Deployment');
    expect(find(objects, 'PodDisruptionBudget', '-dashboard').spec).toEqual({ maxUnavailable: 1, selector: deployment.spec.selector });
    expect(deployment.spec.template.spec.topologySpreadConstraints[0].labelSelector).toEqual(deployment.spec.selector);
    expect(objects.filter((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name.endsWith('-runtime'))).toEqual([]);
  });

  it('renders no PDB when the HPA may go down to one pod, and one for replicas > 1 without the HPA', () => {
    const single = render({ examples: ['dashboard-hpa.yaml'], set: { 'dashboard.autoscaling.minReplicas': 1 } });
    expect(single.filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);
    const fixed = render({ set: { 'dashboard.replicas': 3 } });
    expect(find(fixed, 'Deployment').spec.replicas).toBe(3);
    expect(find(fixed, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
  });
});

describe('every optional part off', () => {
  const objects = render({ examples: ['minimal.yaml'] });

  it('renders sound objects', async () => {
    await expectSound(objects);
  });

  it('renders the runtime alone, on an emptyDir, with no init container', () => {
    expect(kinds(objects)).toEqual(
      [`ConfigMap/${PREFIX}-runtime`, `Pod/${PREFIX}-test-healthcheck`, `Service/${PREFIX}-runtime`, `Service/${PREFIX}-runtime-headless`, `StatefulSet/${PREFIX}-runtime`].sort(),
    );
    const sts = runtimeOf(objects);
    expect(sts.spec.volumeClaimTemplates).toBeUndefined();
    expect(sts.spec.template.spec.volumes).toContainEqual({ name: 'data', emptyDir: {} });
    expect(sts.spec.template.spec.initContainers).toBeUndefined();
    for (const { podSpec } of podOwners(objects)) expect(podSpec.serviceAccountName).toBe('default');
  });
});

describe('metrics.serviceMonitor', () => {
  it('renders a ServiceMonitor only when the cluster serves monitoring.coreos.com/v1', async () => {
    expect(render({ set: { 'metrics.serviceMonitor.enabled': true } }).filter((o) => o.kind === 'ServiceMonitor')).toEqual([]);
    expect(render({ set: { 'metrics.serviceMonitor.enabled': true }, apiVersions: ['monitoring.coreos.com/v1/ServiceMonitor'] }).filter((o) => o.kind === 'ServiceMonitor')).toHaveLength(1);
    expect(render({ apiVersions: ['monitoring.coreos.com/v1'] }).filter((o) => o.kind === 'ServiceMonitor')).toEqual([]);
    const objects = render({ set: { 'metrics.serviceMonitor.enabled': true }, apiVersions: ['monitoring.coreos.com/v1'] });
    await expectSound(objects);
    const sm = find(objects, 'ServiceMonitor');
    expect(sm.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }]);
    // It picks the runtime's ClusterIP Service, not the headless one too (no double scrape).
    const picked = objects.filter(
      (o) =>
        o.kind === 'Service' &&
        Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => o.metadata.labels[k] === v) &&
        sm.spec.selector.matchExpressions.every((e: K8sObject) => e.operator === 'DoesNotExist' && !(e.key in o.metadata.labels)),
    );
    expect(picked.map((o) => o.metadata.name)).toEqual([`${PREFIX}-runtime`]);
    // Prometheus's namespace may scrape the runtime.
    expect(find(objects, 'NetworkPolicy', '-runtime').spec.ingress[1]).toEqual({
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      ports: [{ protocol: 'TCP', port: 3000 }],
    });
  });
});

describe('images', () => {
  it('puts global.imageRegistry in front of every image and pins digests (air-gapped example)', async () => {
    const objects = render({ examples: ['air-gapped.yaml'] });
    await expectSound(objects);
    const images = podOwners(objects).flatMap(({ podSpec }) => [...(podSpec.initContainers ?? []), ...podSpec.containers].map((c: K8sObject) => c.image));
    expect([...new Set(images)].sort()).toEqual([
      `registry.internal:5000/agentik-os/dashboard@sha256:${'1'.repeat(64)}`,
      `registry.internal:5000/agentik-os/runtime@sha256:${'0'.repeat(64)}`,
    ]);
    for (const { podSpec } of podOwners(objects)) expect(podSpec.imagePullSecrets).toEqual([{ name: 'registry-internal' }]);
    expect(find(objects, 'NetworkPolicy', '-runtime').spec.egress[1]).toEqual({
      ports: [{ protocol: 'TCP', port: 11434 }],
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ollama' } } }],
    });
  });

  it('takes a per-image registry, tag and pull policy', () => {
    const objects = render({ set: { 'runtime.image.registry': 'ghcr.io', 'runtime.image.tag': '9.9.9', 'runtime.image.pullPolicy': 'Always' } });
    expect(runtimeContainer(objects)).toMatchObject({ image: 'ghcr.io/agentik-os/runtime:9.9.9', imagePullPolicy: 'Always' });
  });
});

describe('names', () => {
  it('stay within Kubernetes limits for the longest release name Helm allows', async () => {
    const release = 'a-very-long-release-name-for-a-production-agentik-os'.padEnd(53, 'x');
    const objects = render({ release, set: { 'runtime.replicas': 3, 'runtime.storage': 'postgres', 'postgres.existingSecret': 'db', 'secrets.existingSecret': 's' } });
    await expectSound(objects);
    // The pods' controller-revision-hash label is the StatefulSet name + "-" + 10 characters.
    expect(runtimeOf(objects).metadata.name.length + 11).toBeLessThanOrEqual(63);
    for (const o of objects) expect(o.metadata.name, o.kind).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });

  it('are the release name alone when it already says agentik-os', () => {
    expect(runtimeOf(render({ release: 'agentik-os' })).metadata.name).toBe('agentik-os-runtime');
    expect(runtimeOf(render({ set: { fullnameOverride: 'ai' } })).metadata.name).toBe('ai-runtime');
  });
});

describe('networkPolicy.extraIngress', () => {
  it('admits a cloud load balancer to the runtime and the dashboard', async () => {
    const objects = render({
      set: { 'networkPolicy.extraIngress[0].from[0].ipBlock.cidr': '35.191.0.0/16', 'networkPolicy.extraIngress[0].from[1].ipBlock.cidr': '130.211.0.0/22' },
    });
    await expectSound(objects);
    const rule = { from: [{ ipBlock: { cidr: '35.191.0.0/16' } }, { ipBlock: { cidr: '130.211.0.0/22' } }] };
    expect(find(objects, 'NetworkPolicy', '-runtime').spec.ingress.at(-1)).toEqual(rule);
    expect(find(objects, 'NetworkPolicy', '-dashboard').spec.ingress.at(-1)).toEqual(rule);
  });
});
