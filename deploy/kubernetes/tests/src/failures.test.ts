import { describe, expect, it } from 'vitest';
import { renderError } from './helm.js';

const OPERATOR_KEY = 'op-' + 'k'.repeat(40);
const ENCRYPTION_KEY = 'ab'.repeat(32);
const postgres = { 'runtime.storage': 'postgres', 'runtime.replicas': 3 } as const;

// Settings that would become a crash-looping pod fail at render time, saying what to change.
describe('renders that fail with a clear message', () => {
  it('SQLite with 3 replicas: use Postgres', () => {
    const error = renderError({ set: { 'runtime.replicas': 3 } });
    expect(error).toContain('runtime.replicas=3 needs runtime.storage=postgres');
    expect(error).toContain('Set runtime.storage=postgres with postgres.existingSecret');
  });

  it('a misspelled value (runtime.replica): the schema names the unknown key', () => {
    const error = renderError({ set: { 'runtime.replica': 3 } });
    expect(error).toContain("values don't meet the specifications of the schema");
    expect(error).toMatch(/runtime: Additional property replica is not allowed/);
  });

  it('a misspelled top-level key, runtime setting or enum value', () => {
    expect(renderError({ set: { 'ingres.enabled': true } })).toMatch(/Additional property ingres is not allowed/);
    expect(renderError({ set: { 'runtime.config.AGENTIK_LOG_LEVL': 'debug' } })).toMatch(/runtime.config: Additional property AGENTIK_LOG_LEVL is not allowed/);
    expect(renderError({ set: { 'runtime.storage': 'mysql' } })).toMatch(/runtime.storage: runtime.storage must be one of the following: "sqlite", "postgres"/);
    expect(renderError({ set: { 'runtime.config.AGENTIK_LOG_LEVEL': 'loud' } })).toMatch(/AGENTIK_LOG_LEVEL must be one of the following/);
  });

  it('a runtime setting the runtime would refuse: typed and bounded as the runtime’s own schema says', () => {
    expect(renderError({ set: { 'runtime.config.AGENTIK_OLLAMA_URL': 'not-a-url' } })).toContain("runtime.config.AGENTIK_OLLAMA_URL: Does not match format 'uri'");
    expect(renderError({ set: { 'runtime.config.AGENTIK_PROVIDER_RETRIES': 11 } })).toContain('runtime.config.AGENTIK_PROVIDER_RETRIES: Must be less than or equal to 10');
    expect(renderError({ set: { 'runtime.config.AGENTIK_DEFAULT_MAX_TOKENS': 'many' } })).toContain('runtime.config.AGENTIK_DEFAULT_MAX_TOKENS: Invalid type. Expected: integer, given: string');
  });

  it('a secret in the ConfigMap settings, or a setting the chart owns: refused by the schema', () => {
    expect(renderError({ set: { 'runtime.config.AGENTIK_OPERATOR_KEY': OPERATOR_KEY } })).toMatch(/Additional property AGENTIK_OPERATOR_KEY is not allowed/);
    expect(renderError({ set: { 'runtime.config.AGENTIK_PORT': 4000 } })).toMatch(/Additional property AGENTIK_PORT is not allowed/);
  });

  it('keys the runtime would refuse: a short operator key, an encryption key of the wrong size', () => {
    expect(renderError({ set: { 'secrets.operatorKey': 'too-short' } })).toContain('secrets.operatorKey must be 32 to 512 printable characters without spaces');
    expect(renderError({ set: { 'secrets.operatorKey': 'x'.repeat(31) + ' y' } })).toContain('secrets.operatorKey must be 32 to 512 printable characters');
    expect(renderError({ set: { 'secrets.encryptionKey': 'abcd' } })).toContain('secrets.encryptionKey must be 32 bytes written as 64 hex characters');
    expect(renderError({ set: { 'secrets.encryptionKey': 'g'.repeat(64) } })).toContain('secrets.encryptionKey must be 32 bytes');
  });

  it('Postgres without a database secret', () => {
    const error = renderError({ set: { ...postgres, 'secrets.operatorKey': OPERATOR_KEY, 'secrets.encryptionKey': ENCRYPTION_KEY } });
    expect(error).toContain('runtime.storage=postgres needs postgres.existingSecret');
    expect(error).toContain('kubectl create secret generic agentik-db --from-literal=database-url=');
    expect(error).not.toContain('operator and encryption keys');
  });

  it('Postgres without the operator and encryption keys', () => {
    const error = renderError({ set: { ...postgres, 'postgres.existingSecret': 'agentik-db' } });
    expect(error).toContain('runtime.storage=postgres needs the operator and encryption keys, the same on every replica');
    expect(error).not.toContain('needs postgres.existingSecret');
    // One key alone is not enough either.
    expect(renderError({ set: { ...postgres, 'postgres.existingSecret': 'agentik-db', 'secrets.encryptionKey': ENCRYPTION_KEY } })).toContain(
      'needs the operator and encryption keys',
    );
  });

  it('Postgres with nothing: both problems listed at once', () => {
    const error = renderError({ set: postgres });
    expect(error).toContain('needs postgres.existingSecret');
    expect(error).toContain('needs the operator and encryption keys');
  });

  it('HPA with minReplicas above maxReplicas', () => {
    const error = renderError({ set: { 'dashboard.autoscaling.enabled': true, 'dashboard.autoscaling.minReplicas': 6, 'dashboard.autoscaling.maxReplicas': 3 } });
    expect(error).toContain('dashboard.autoscaling.minReplicas=6 is above dashboard.autoscaling.maxReplicas=3: make maxReplicas at least minReplicas.');
    expect(renderError({ set: { 'dashboard.autoscaling.minReplicas': 6, 'dashboard.autoscaling.maxReplicas': 3 } })).toContain('is above dashboard.autoscaling.maxReplicas=3');
  });

  it('a grace period not above the drain time', () => {
    const error = renderError({ set: { 'runtime.config.AGENTIK_SHUTDOWN_TIMEOUT_MS': 30000 } });
    expect(error).toContain('runtime.terminationGracePeriodSeconds=30 must be above the runtime\'s drain time (AGENTIK_SHUTDOWN_TIMEOUT_MS=30000 ms)');
    expect(error).toContain('raise it to at least 35');
  });

  it('an existing Secret and inline keys together, and both Redis sources', () => {
    expect(renderError({ set: { 'secrets.existingSecret': 's', 'secrets.operatorKey': OPERATOR_KEY } })).toContain('secrets.existingSecret=s and inline secrets.* values are both set');
    expect(renderError({ set: { 'redis.url': 'redis://r:6379', 'redis.existingSecret': 'r' } })).toContain('redis.url and redis.existingSecret are both set');
  });

  it('cert-manager without TLS, and TLS without a host', () => {
    expect(renderError({ set: { 'ingress.enabled': true, 'ingress.certManager.clusterIssuer': 'le' } })).toContain('ingress.certManager.clusterIssuer needs ingress.enabled=true and ingress.tls.enabled=true');
    expect(renderError({ set: { 'ingress.enabled': true, 'ingress.tls.enabled': true } })).toContain('ingress.tls.enabled needs ingress.host');
  });

  it('a cluster older than Kubernetes 1.28', () => {
    expect(renderError({ kubeVersion: '1.27.9' })).toContain('chart requires kubeVersion: >=1.28.0-0 which is incompatible with Kubernetes v1.27.9');
  });
});
