// The Compose test's model server: a few lines of the OpenAI chat completions wire format
// (JSON, and SSE with a usage chunk when `stream_options.include_usage` is set), run in a
// container from the runtime image's Node. Streamed tokens are FAKE_TOKEN_DELAY_MS apart so the
// test can see the reply arrive through the proxy event by event. Node built-ins only.
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

const delayMs = Number(process.env.FAKE_TOKEN_DELAY_MS ?? 400);
const tokens = ['Hello', ' from', ' the', ' fake', ' model', '.'];
const usage = { prompt_tokens: 21, completion_tokens: tokens.length, total_tokens: 21 + tokens.length };

createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', async () => {
    if (req.method === 'GET' && (req.url === '/health' || req.url === '/v1/models')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'fake-model', object: 'model' }] }));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
      return;
    }
    const request = JSON.parse(body || '{}');
    const id = `chatcmpl-fake${Date.now()}`;
    const model = request.model ?? 'fake-model';
    const created = Math.floor(Date.now() / 1000);
    if (!request.stream) {
      const message = { role: 'assistant', content: tokens.join('') };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id, object: 'chat.completion', created, model, choices: [{ index: 0, message, finish_reason: 'stop' }], usage }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (data) => res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
    const chunk = (delta, finish = null) => ({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] });
    send(chunk({ role: 'assistant', content: '' }));
    for (const token of tokens) {
      send(chunk({ content: token }));
      await sleep(delayMs);
    }
    send(chunk({}, 'stop'));
    if (request.stream_options?.include_usage) send({ id, object: 'chat.completion.chunk', created, model, choices: [], usage });
    send('[DONE]');
    res.end();
  });
}).listen(8080, '0.0.0.0');
