// Writes a CycloneDX 1.5 JSON SBOM of the runtime's production dependencies, as they are bundled
// into bin/agentik, plus the Node runtime the executable is made of. Reproducible: no timestamp
// or random serial number, components sorted.
//   pnpm --filter @agentik/runtime list --prod --json --depth=Infinity |
//     node installer/lib/sbom.mjs VERSION NODE_VERSION > sbom.cdx.json
import { readFileSync } from 'node:fs';
import path from 'node:path';

const [version, nodeVersion] = process.argv.slice(2);
if (!version || !nodeVersion) {
  process.stderr.write('usage: sbom.mjs VERSION NODE_VERSION < pnpm-list.json\n');
  process.exit(2);
}
const roots = JSON.parse(readFileSync(0, 'utf8'));
const found = new Map(); // purl -> component

function license(dir) {
  try {
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const id = typeof pkg.license === 'string' ? pkg.license : pkg.license?.type;
    return id ? [{ expression: id }] : undefined;
  } catch {
    return undefined;
  }
}

function purlOf(name, v) {
  const [scope, bare] = name.startsWith('@') ? name.split('/') : [undefined, name];
  return `pkg:npm/${scope ? `${encodeURIComponent(scope)}/` : ''}${bare}@${v}`;
}

function walk(deps) {
  for (const [name, dep] of Object.entries(deps ?? {})) {
    // Workspace packages (link:) are part of the runtime itself; their dependencies are not.
    if (!String(dep.version).startsWith('link:')) {
      const purl = purlOf(name, dep.version);
      if (!found.has(purl)) {
        const licenses = license(dep.path);
        found.set(purl, {
          type: 'library',
          'bom-ref': purl,
          name,
          version: dep.version,
          purl,
          ...(licenses ? { licenses } : {}),
        });
      }
    }
    walk(dep.dependencies);
  }
}
for (const root of roots) walk(root.dependencies);

const node = {
  type: 'platform',
  'bom-ref': `pkg:generic/node@${nodeVersion}`,
  name: 'node',
  version: nodeVersion,
  purl: `pkg:generic/node@${nodeVersion}`,
  licenses: [{ expression: 'MIT' }],
};
const components = [...found.values()].sort((a, b) => (a.purl < b.purl ? -1 : a.purl > b.purl ? 1 : 0));
const bom = {
  bomFormat: 'CycloneDX',
  specVersion: '1.5',
  version: 1,
  metadata: {
    component: { type: 'application', 'bom-ref': 'agentik-os', name: 'agentik-os', version, licenses: [{ expression: 'Apache-2.0' }] },
  },
  components: [node, ...components],
  dependencies: [{ ref: 'agentik-os', dependsOn: [node['bom-ref'], ...components.map((c) => c['bom-ref'])] }],
};
process.stdout.write(`${JSON.stringify(bom, null, 2)}\n`);
