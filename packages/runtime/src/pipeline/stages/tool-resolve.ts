import { BUILT_IN_TOOLS, type Tool } from '../../tools/registry.js';
import { need } from '../context.js';
import type { Stage } from './stage.js';

/** Stage 5: the agent's enabled tools, from the built-in registry. */
export const toolResolve: Stage = async (ctx) => {
  const agent = need(ctx.agent, 'agent');
  ctx.tools = agent.tools.map((name) => BUILT_IN_TOOLS.get(name)).filter((t): t is Tool => t !== undefined);
};
