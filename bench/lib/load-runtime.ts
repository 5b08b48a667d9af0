import { register } from 'node:module';
import type * as AppModule from '../../packages/runtime/src/http/app.js';
import type * as ConfigLoadModule from '../../packages/runtime/src/config/load.js';
import type * as ServeModule from '../../packages/runtime/src/cli/serve.js';

/** The parts of the runtime the benchmarks drive, loaded from its TypeScript source. */
export interface RuntimeModules {
  buildApp: typeof AppModule.buildApp;
  loadConfig: typeof ConfigLoadModule.loadConfig;
  startServer: typeof ServeModule.startServer;
}

let loaded: Promise<RuntimeModules> | undefined;

/**
 * Imports the runtime from `packages/runtime/src`. The import is dynamic because the resolve hook
 * that points `@agentik/shared` at its source must be registered before the runtime's modules are
 * linked, and static imports are linked before any code of this module runs.
 */
export function loadRuntime(): Promise<RuntimeModules> {
  loaded ??= (async () => {
    register('./shared-alias-hooks.mjs', import.meta.url);
    const [app, config, serve] = await Promise.all([
      import('../../packages/runtime/src/http/app.js'),
      import('../../packages/runtime/src/config/load.js'),
      import('../../packages/runtime/src/cli/serve.js'),
    ]);
    return { buildApp: app.buildApp, loadConfig: config.loadConfig, startServer: serve.startServer };
  })();
  return loaded;
}
