import { describe, expect, it } from 'vitest';
import { find, render } from './helm.js';
import { findUnknownFields, validateSchemas } from './k8s-schema.js';

// The checks every render goes through must be able to fail: each is shown a broken object.
describe('the offline Kubernetes schema checks', () => {
  const objects = render();

  it('pass the default render', async () => {
    expect(await validateSchemas(objects)).toEqual([]);
    expect(findUnknownFields(objects)).toEqual([]);
  });

  it('reject a wrong type and a wrong enum value', async () => {
    const sts = structuredClone(find(objects, 'StatefulSet'));
    sts.spec.replicas = 'three';
    const svc = structuredClone(find(objects, 'Service', '-runtime'));
    svc.spec.ports[0].protocol = 'HTTP';
    const problems = await validateSchemas([sts, svc]);
    expect(problems).toEqual([
      expect.stringMatching(/^StatefulSet\/agentik-agentik-os-runtime: .*replicas/s),
      expect.stringMatching(/^Service\/agentik-agentik-os-runtime: .*protocol/s),
    ]);
  });

  it('reject unknown fields at any depth, which the validators let through', async () => {
    const sts = structuredClone(find(objects, 'StatefulSet'));
    sts.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem = true;
    const ingress = { ...structuredClone(find(render({ set: { 'ingress.enabled': true } }), 'Ingress')), spek: {} };
    expect(await validateSchemas([sts, ingress])).toEqual([]);
    const problems = findUnknownFields([sts, ingress]);
    expect(problems).toEqual([
      expect.stringMatching(/^StatefulSet\/agentik-agentik-os-runtime: .*readOnlyRootFileSystem.* does not exist in type 'ISecurityContext'/s),
      expect.stringMatching(/^Ingress\/agentik-agentik-os: .*spek.* does not exist in type 'IIngress'/s),
    ]);
  });
});
