import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from '@agentik/shared';
import type { PipelineOutput, PipelineSink } from '../pipeline/context.js';
import { toClientError } from './errors.js';
import { SseWriter } from './sse.js';

/** An AbortSignal that fires when the client goes away before the response is complete. */
export function clientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** How one API frames a streamed run as SSE events. */
export interface StreamFraming {
  /** Written once, right after the response starts. */
  start?(sse: SseWriter): void;
  text(sse: SseWriter, text: string): void;
  done(sse: SseWriter, out: PipelineOutput): void;
  error(sse: SseWriter, body: ErrorBody): void;
}

/**
 * Streams a pipeline run as SSE. The response starts with the first event, so a failure before
 * any text (budget, rate limit, unknown agent) still goes out as an ordinary JSON error; a failure
 * after it becomes the framing's error event.
 */
export async function streamRun(
  request: FastifyRequest,
  reply: FastifyReply,
  run: (sink: PipelineSink) => Promise<PipelineOutput>,
  framing: StreamFraming,
): Promise<FastifyReply> {
  const sse = new SseWriter(reply.raw);
  const begin = () => {
    if (sse.hasStarted) return;
    reply.hijack();
    if (framing.start) framing.start(sse);
  };
  try {
    await run({
      onText(text) {
        begin();
        framing.text(sse, text);
      },
      // The pipeline's send-response stage hands over the answer: the stream's last events.
      onDone(out) {
        begin();
        framing.done(sse, out);
      },
    });
  } catch (error) {
    if (!sse.hasStarted) throw error;
    const { body } = toClientError(error);
    if (body.error.code === 'INTERNAL') request.log.error({ err: error }, 'stream failed');
    framing.error(sse, body);
  }
  sse.end();
  return reply;
}
