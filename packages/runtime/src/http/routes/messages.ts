import type { FastifyReply, FastifyRequest } from 'fastify';
import { IdParams, MessageReply, RegenerateBody, SendMessageBody } from '@agentik/shared';
import type { Pipeline } from '../../pipeline/orchestrator.js';
import type { MessageInput, PipelineOutput } from '../../pipeline/context.js';
import { regenerateInput } from '../../pipeline/regenerate.js';
import { clientGone, streamRun } from '../pipeline-stream.js';
import { TENANT_WRITE, ctxOf, type App } from '../types.js';

export function presentReply(out: PipelineOutput) {
  return { conversationId: out.conversationId, message: out.message, usage: out.usage, costUsd: out.costUsd };
}

/**
 * Runs `input` through the pipeline and answers as JSON, or as SSE (`delta` events, then `done`
 * with the same object; `error` after a failure once the stream has started) when the client
 * accepts `text/event-stream`.
 */
async function answer(pipeline: Pipeline, request: FastifyRequest, reply: FastifyReply, input: MessageInput): Promise<MessageReply | undefined> {
  const ctx = ctxOf(request);
  const signal = clientGone(reply.raw);
  if (!/text\/event-stream/i.test(request.headers.accept ?? '')) {
    return presentReply(await pipeline.run(ctx, input, { stream: false, signal }));
  }
  await streamRun(request, reply, (sink) => pipeline.run(ctx, input, { stream: true, signal, sink }), {
    // One per token: the bytes of send('delta', { text }), without building the object.
    text: (sse, text) => sse.frame(`event: delta\ndata: {"text":${JSON.stringify(text)}}\n\n`),
    done: (sse, out) => sse.send('done', presentReply(out)),
    error: (sse, body) => sse.send('error', body),
  });
  // The stream has been written (streamRun hijacked the reply), so Fastify sends nothing more.
  return undefined;
}

/** `POST /api/agents/:id/messages`: one turn through the pipeline. */
export async function messageRoutes(app: App, deps: { pipeline: Pipeline }) {
  app.post(
    '/:id/messages',
    {
      config: TENANT_WRITE,
      schema: { tags: ['messages'], params: IdParams, body: SendMessageBody, response: { 200: MessageReply } },
    },
    (request, res) => answer(deps.pipeline, request, res, { agentRef: request.params.id, ...request.body, source: 'api' }),
  );
}

/**
 * `POST /api/conversations/:id/regenerate`: the conversation's last user message answered again
 * by its agent; the new reply replaces the old one(s) when the call is booked, and a failed call
 * leaves them in place. Answers like a message.
 */
export async function regenerateRoutes(app: App, deps: { pipeline: Pipeline }) {
  app.post(
    '/:id/regenerate',
    {
      config: TENANT_WRITE,
      schema: { tags: ['messages'], params: IdParams, body: RegenerateBody, response: { 200: MessageReply } },
    },
    async (request, res) => answer(deps.pipeline, request, res, await regenerateInput(ctxOf(request), request.params.id)),
  );
}
