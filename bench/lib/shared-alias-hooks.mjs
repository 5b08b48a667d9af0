// Module resolution hooks for the benchmarks: `@agentik/shared` resolves to its TypeScript
// source, as in the runtime's vitest config, so the benchmarks need no build step and never run
// against a stale `packages/shared/dist`. Registered by `load-runtime.ts`; tsx loads the `.ts`.
const SHARED_SOURCE = new URL('../../packages/shared/src/index.ts', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === '@agentik/shared') return { url: SHARED_SOURCE, format: 'module', shortCircuit: true };
  return nextResolve(specifier, context);
}
