import { ToolList } from '@agentik/shared';
import { BUILT_IN_TOOLS } from '../../tools/registry.js';
import { TENANT_READ, type App } from '../types.js';

/** `GET /api/tools`: the built-in tools an agent may be given. */
export async function toolRoutes(app: App) {
  app.get(
    '',
    { config: TENANT_READ, schema: { tags: ['agents'], response: { 200: ToolList } } },
    async () => ({
      data: [...BUILT_IN_TOOLS.values()].map((t) => ({
        name: t.spec.name,
        description: t.spec.description,
        parameters: t.spec.parameters,
      })),
    }),
  );
}
