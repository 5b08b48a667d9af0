import { IdParams, MessageReply, SendMessageBody } from '@agentik/shared';
import type { Pipeline } from '../../pipeline/orchestrator.js';
import type { PipelineOutput } from '../../pipeline/context.js';
import { clientGone, streamRun } from '../pipeline-stream.js';
import { TENANT_WRITE, ctxOf, type App } from '../types.js';

export function presentReply(out: PipelineOutput) {
  return { conversationId: out.conversationId, message: out.message, usage: out.usage, costUsd: out.costUsd };
}

/**
 * `POST /api/agents/:id/messages`: one turn through the pipeline, as JSON, or as SSE (`delta`
 * events, then `done` with the same object) when the client accepts `text/event-stream`.
 */
export async function messageRoutes(app: App, deps: { pipeline: Pipeline }) {
  app.post(
    '/:id/messages',
    {
      config: TENANT_WRITE,
      schema: { tags: ['messages'], params: IdParams, body: SendMessageBody, response: { 200: MessageReply } },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const input = { agentRef: request.params.id, ...request.body, source: 'api' as const };
      const signal = clientGone(reply.raw);
      if (!/text\/event-stream/i.test(request.headers.accept ?? '')) {
        return presentReply(await deps.pipeline.run(ctx, input, { stream: false, signal }));
      }
      return streamRun(request, reply, (sink) => deps.pipeline.run(ctx, input, { stream: true, signal, sink }), {
        // One per token: the bytes of send('delta', { text }), without building the object.
        text: (sse, text) => sse.frame(`event: delta\ndata: {"text":${JSON.stringify(text)}}\n\n`),
        done: (sse, out) => sse.send('done', presentReply(out)),
        error: (sse, body) => sse.send('error', body),
      });
    },
  );
}
