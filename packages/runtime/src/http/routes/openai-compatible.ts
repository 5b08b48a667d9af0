import { OpenAiChatCompletion, OpenAiChatRequest, OpenAiModelList } from '@agentik/shared';
import { AppError } from '../../lib/app-error.js';
import { ulid } from '../../lib/ids.js';
import type { PipelineOutput } from '../../pipeline/context.js';
import type { Pipeline } from '../../pipeline/orchestrator.js';
import type { ChatMessage } from '../../providers/types.js';
import { TENANT_READ, TENANT_WRITE, ctxOf, type App } from '../types.js';
import { clientGone, streamRun } from '../pipeline-stream.js';

type WireMessage = OpenAiChatRequest['messages'][number];

function textOf(m: WireMessage): string {
  if (typeof m.content === 'string') return m.content;
  if (Array.isArray(m.content)) return m.content.map((p) => (p.type === 'text' ? (p.text ?? '') : '')).join('');
  return '';
}

/** The client's messages: everything before the last user turn is history, that turn is the input. */
function splitMessages(messages: WireMessage[]): { history: ChatMessage[]; content: string } {
  const last = messages[messages.length - 1];
  if (!last || last.role !== 'user') throw new AppError('VALIDATION_FAILED', 'messages: the last message must be from the user');
  const history: ChatMessage[] = [];
  for (const m of messages.slice(0, -1)) {
    const content = textOf(m);
    if (m.role === 'system' || m.role === 'developer') history.push({ role: 'system', content });
    else if ((m.role === 'user' || m.role === 'assistant') && content !== '') history.push({ role: m.role, content });
  }
  return { history, content: textOf(last) };
}

const finishReason = (out: PipelineOutput): 'length' | 'stop' => (out.finishReason === 'length' ? 'length' : 'stop');

function usageOf(out: PipelineOutput) {
  const { inputTokens, outputTokens } = out.usage;
  if (inputTokens === null || outputTokens === null) return undefined;
  return { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens };
}

/**
 * The OpenAI-compatible surface, so existing clients and SDKs talk to a tenant's agents
 * unchanged: models are the tenant's agents (by name), chat completions run the pipeline.
 */
export async function openAiRoutes(app: App, deps: { pipeline: Pipeline; now: () => number }) {
  app.get('/models', { config: TENANT_READ, schema: { tags: ['openai'], response: { 200: OpenAiModelList } } }, async (request) => {
    const ctx = ctxOf(request);
    const data = [];
    let after: string | undefined;
    do {
      const page = await ctx.store.agents.list({ after, limit: 200 });
      for (const a of page.items) {
        data.push({ id: a.name, object: 'model' as const, created: Math.floor(a.createdAt / 1000), owned_by: ctx.tenant.slug });
      }
      after = page.nextCursor ?? undefined;
    } while (after);
    return { object: 'list' as const, data };
  });

  app.post(
    '/chat/completions',
    { config: TENANT_WRITE, schema: { tags: ['openai'], body: OpenAiChatRequest, response: { 200: OpenAiChatCompletion } } },
    async (request, reply) => {
      const ctx = ctxOf(request);
      const body = request.body;
      const { history, content } = splitMessages(body.messages);
      const input = { agentRef: body.model, content, history, userId: body.user, source: 'openai' as const };
      const signal = clientGone(reply.raw);
      const created = Math.floor(deps.now() / 1000);
      if (!body.stream) {
        const out = await deps.pipeline.run(ctx, input, { stream: false, signal });
        const usage = usageOf(out);
        return {
          id: `chatcmpl-${out.message.id}`,
          object: 'chat.completion' as const,
          created,
          model: out.agentName,
          choices: [
            {
              index: 0,
              message: { role: 'assistant' as const, content: out.message.content, refusal: null },
              logprobs: null,
              finish_reason: finishReason(out),
            },
          ],
          ...(usage ? { usage } : {}),
        };
      }
      const id = `chatcmpl-${ulid(deps.now())}`;
      // Both forms report the agent's name as the model (the client may have named it by id).
      let model = body.model;
      const chunk = (delta: object, finish: string | null) => ({
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      });
      // A text delta is the hot path (one per token): its event is the text between a prefix and
      // a suffix made once, the same bytes as the event of JSON.stringify(chunk({ content: text }, null)).
      const head = () =>
        `data: {"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"choices":[{"index":0,"delta":{"content":`;
      let textHead = head();
      const textTail = '},"logprobs":null,"finish_reason":null}]}\n\n';
      const onAgent = (name: string) => {
        model = name;
        textHead = head();
      };
      return streamRun(request, reply, (sink) => deps.pipeline.run(ctx, input, { stream: true, signal, sink: { ...sink, onAgent } }), {
        start: (sse) => sse.send(undefined, chunk({ role: 'assistant', content: '' }, null)),
        text: (sse, text) => sse.frame(textHead + JSON.stringify(text) + textTail),
        done: (sse, out) => {
          sse.send(undefined, chunk({}, finishReason(out)));
          const usage = usageOf(out);
          if (body.stream_options?.include_usage && usage) {
            sse.send(undefined, { id, object: 'chat.completion.chunk', created, model, choices: [], usage });
          }
          sse.send(undefined, '[DONE]');
        },
        error: (sse, errorBody) => sse.send(undefined, { error: { ...errorBody.error, type: 'server_error' } }),
      });
    },
  );
}
