/**
 * The instant fake LLM server (`packages/runtime/src/test-support/fake-llm.ts`) in a process of
 * its own, so that neither the load generator nor the runtime shares its event loop. It sends
 * `{url, openAiUrl}` over IPC once listening; a `{type: 'last'}` message is answered with
 * `{type: 'last', body}`, the body of the most recent chat request (the benchmark compares the
 * body it sends directly with the one the runtime sends). It stops on SIGTERM or when the parent
 * goes away. With `BENCH_FAKE_CHUNKS=N` in its environment, every reply is N tokens, each streamed
 * chunk written and flushed separately (`chunkWrites`), as a real server streams.
 */
import { startFakeLlm } from '../../packages/runtime/src/test-support/fake-llm.js';

const chunks = Number(process.env.BENCH_FAKE_CHUNKS ?? 0);
const llm = await startFakeLlm({
  instant: true,
  recordRequests: false,
  ...(chunks > 0 ? { chunkWrites: true, defaultReply: { tokens: Array.from({ length: chunks }, (_, i) => (i === 0 ? 'Token' : ` token${i}`)) } } : {}),
});

const stop = () => {
  void llm.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('disconnect', stop);
process.on('message', (message: { type?: string }) => {
  if (message.type === 'last') process.send?.({ type: 'last', body: llm.lastRequest?.body ?? null });
});
process.send?.({ url: llm.url, openAiUrl: llm.openAiUrl });
