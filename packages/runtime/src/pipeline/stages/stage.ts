import type { PipelineContext } from '../context.js';
import type { PipelineDeps } from '../deps.js';

/** One pipeline stage: a plain async function over the typed context. */
export type Stage = (ctx: PipelineContext, deps: PipelineDeps) => Promise<void>;
