import type { ServerResponse } from 'node:http';
import { IdParams, MessageReply, SendMessageBody } from '@agentik/shared';
import { toClientError } from '../errors.js';
import type { Pipeline } from '../../pipeline/orchestrator.js';
import type { PipelineOutput } from '../../pipeline/context.js';
import type { TenantPool } from '../../tenants/pool.js';
import { SseWriter } from '../sse.js';
import { TENANT_WRITE, ctxOf, type App } from '../types.js';

export function presentReply(out: PipelineOutput) {
  return { conversationId: out.conversationId, message: out.message, usage: out.usage, costUsd: out.costUsd };
}

/** An AbortSignal that fires when the client goes away before the response is complete. */
export function clientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * `POST /api/agents/:id/messages`: one turn through the pipeline, as JSON, or as SSE (`delta`
 * events, then `done` with the same object) when the client accepts `text/event-stream`.
 */
export function messageRoutes(app: App, deps: { pipeline: Pipeline; pool: TenantPool }) {
  app.post(
    '/api/agents/:id/messages',
    {
      config: TENANT_WRITE,
      schema: { tags: ['messages'], params: IdParams, body: SendMessageBody, response: { 200: MessageReply } },
    },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const input = { agentRef: request.params.id, ...request.body, source: 'api' as const };
      const signal = clientGone(reply.raw);
      // The run may outlive the response (a client that went away is still billed), so it holds
      // its own lease on the tenant store.
      const lease = await deps.pool.acquire(ctx.tenant.id);
      try {
        if (!/text\/event-stream/i.test(request.headers.accept ?? '')) {
          return presentReply(await deps.pipeline.run(ctx, input, { stream: false, signal }));
        }
        const sse = new SseWriter(reply.raw);
        const start = () => {
          if (!sse.hasStarted) reply.hijack();
        };
        try {
          const out = await deps.pipeline.run(ctx, input, {
            stream: true,
            signal,
            sink: {
              onText(text) {
                start();
                sse.send('delta', { text });
              },
            },
          });
          start();
          sse.send('done', presentReply(out));
          sse.end();
        } catch (error) {
          if (!sse.hasStarted) throw error;
          const { body } = toClientError(error);
          if (body.error.code === 'INTERNAL') request.log.error({ err: error }, 'stream failed');
          sse.send('error', body);
          sse.end();
        }
        return reply;
      } finally {
        lease.release();
      }
    },
  );
}
