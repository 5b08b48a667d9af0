/**
 * The dependency direction of ARCHITECTURE.md, as a check that fails the build:
 * shared imports nothing of ours and does no I/O; domain code imports no adapter and no Fastify;
 * adapters never import domain services.
 */
const DOMAIN = '^packages/runtime/src/(tenants|agents|pipeline|cost|memory|providers|tools|limits|lib)/';
/** Code that does I/O behind a port: the storage backends, the LLM providers' HTTP adapters, and the Redis, database and webhook adapters. */
const ADAPTERS = '^packages/runtime/src/(storage/(sqlite|postgres|kysely)|adapters)/';
/** What an adapter may import besides lib/ and storage/: the port it implements, nothing that uses it. */
const PORTS = [
  '^packages/runtime/src/limits/(rate-limiter|concurrency-limiter|sliding-window)\\.ts$',
  '^packages/runtime/src/pipeline/deps\\.ts$',
  '^packages/runtime/src/providers/(types|provider-error)\\.ts$',
];

module.exports = {
  forbidden: [
    {
      name: 'shared-is-pure',
      comment: 'packages/shared holds types and schemas only: no runtime code, no Node built-ins.',
      severity: 'error',
      from: { path: '^packages/shared/src', pathNot: '\\.test\\.ts$' },
      to: { pathNot: ['^packages/shared/src', 'node_modules/zod'] },
    },
    {
      name: 'shared-no-builtins',
      severity: 'error',
      from: { path: '^packages/shared/src', pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'domain-not-to-adapters',
      comment: 'Domain code talks to storage, the LLM providers, Redis, the database limiter and the webhook through their ports only.',
      severity: 'error',
      from: { path: DOMAIN, pathNot: '\\.test\\.ts$' },
      to: { path: ADAPTERS },
    },
    {
      name: 'domain-not-to-http',
      comment: 'Domain code knows nothing of the HTTP layer or Fastify.',
      severity: 'error',
      from: { path: DOMAIN, pathNot: '\\.test\\.ts$' },
      to: { path: ['^packages/runtime/src/(http|cli)/', 'node_modules/(fastify|@fastify|fastify-[a-z-]+)/'] },
    },
    {
      name: 'adapters-not-to-domain',
      comment: 'Adapters implement a port; they never call domain services.',
      severity: 'error',
      from: { path: ADAPTERS },
      to: { path: ['^packages/runtime/src/(tenants|agents|pipeline|cost|memory|providers|tools|limits|http|cli)/'], pathNot: PORTS },
    },
    {
      name: 'runtime-not-to-dashboard',
      severity: 'error',
      from: { path: '^packages/runtime' },
      to: { path: '^packages/dashboard' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['/dist/', '/coverage/', 'node_modules'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
