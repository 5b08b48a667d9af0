import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, errorFrom, readReplyStream } from './client';

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** A response whose body arrives in the given byte chunks. */
function streamed(chunks: (string | Uint8Array)[], status = 200): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(typeof c === 'string' ? encoder.encode(c) : c);
      controller.close();
    },
  });
  return new Response(body, { status, headers: { 'content-type': 'text/event-stream' } });
}

const DONE = {
  conversationId: 'cv_1',
  message: { id: 'msg_1', role: 'assistant', content: 'Hello, wörld' },
  usage: { inputTokens: 24, outputTokens: 8 },
  costUsd: 0.000192,
};

describe('errorFrom', () => {
  it('keeps the API code and message', async () => {
    const e = await errorFrom(json(402, { error: { code: 'BUDGET_EXCEEDED', message: 'over the monthly limit' } }));
    expect(e).toBeInstanceOf(ApiError);
    expect([e.code, e.message, e.status]).toEqual(['BUDGET_EXCEEDED', 'over the monthly limit', 402]);
  });

  it('explains a body that is not the API error shape (a proxy page)', async () => {
    const e = await errorFrom(new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    expect(e.code).toBe('HTTP_502');
    expect(e.message).toBe('Bad Gateway (HTTP 502)');
  });
});

describe('ApiClient', () => {
  it('sends the key as a bearer token and the operator tenant as X-Tenant-ID', async () => {
    const fetcher = vi.fn(async () => json(200, { data: [], nextCursor: null }));
    await new ApiClient({ key: 'agk_abc', tenant: 'acme' }, '', fetcher as unknown as typeof fetch).listAgents();
    const [url, init] = fetcher.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/agents?limit=200');
    const headers = init.headers as Record<string, string>;
    expect(headers.authorization).toBe('Bearer agk_abc');
    expect(headers['x-tenant-id']).toBe('acme');
  });

  it('sends no X-Tenant-ID for a tenant key, and JSON bodies with their content type', async () => {
    const fetcher = vi.fn(async () => json(201, { id: 'ag_1' }));
    await new ApiClient({ key: 'k' }, '', fetcher as unknown as typeof fetch).createAgent({
      name: 'a',
      systemPrompt: '',
      provider: 'ollama',
      model: 'm',
    });
    const [, init] = fetcher.mock.calls[0] as unknown as [string, RequestInit];
    const headers = init.headers as Record<string, string>;
    expect(headers['x-tenant-id']).toBeUndefined();
    expect(headers['content-type']).toBe('application/json');
    expect(JSON.parse(init.body as string)).toEqual({ name: 'a', systemPrompt: '', provider: 'ollama', model: 'm' });
  });

  it('maps API errors to ApiError with the server message', async () => {
    const fetcher = async () => json(403, { error: { code: 'FORBIDDEN', message: 'this needs the admin role or stronger' } });
    const client = new ApiClient({ key: 'k' }, '', fetcher as unknown as typeof fetch);
    await expect(client.listKeys()).rejects.toMatchObject({ code: 'FORBIDDEN', status: 403, message: 'this needs the admin role or stronger' });
  });

  it('maps a network failure to a NETWORK error', async () => {
    const fetcher = async () => {
      throw new TypeError('Failed to fetch');
    };
    const client = new ApiClient({ key: 'k' }, '', fetcher as unknown as typeof fetch);
    await expect(client.getBudget()).rejects.toMatchObject({ code: 'NETWORK', status: 0 });
  });

  it('returns undefined for 204', async () => {
    const fetcher = async () => new Response(null, { status: 204 });
    await expect(new ApiClient({ key: 'k' }, '', fetcher as unknown as typeof fetch).deleteAgent('ag_1')).resolves.toBeUndefined();
  });

  it('streams a message: deltas in order, then the done body', async () => {
    const fetcher = vi.fn(async () =>
      streamed(['event: delta\ndata: {"text":"Hel', 'lo"}\n\nevent: del', 'ta\ndata: {"text":", wörld"}\n\n', `event: done\ndata: ${JSON.stringify(DONE)}\n\n`]),
    );
    const deltas: string[] = [];
    const reply = await new ApiClient({ key: 'k' }, '', fetcher as unknown as typeof fetch).streamMessage(
      'ag_1',
      { content: 'hi' },
      { onDelta: (t) => deltas.push(t) },
    );
    expect(deltas).toEqual(['Hello', ', wörld']);
    expect(reply).toEqual(DONE);
    const [url, init] = fetcher.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/agents/ag_1/messages');
    expect((init.headers as Record<string, string>).accept).toBe('text/event-stream');
  });

  it('regenerates: POSTs {} to the conversation, streams the deltas and returns the done body', async () => {
    const fetcher = vi.fn(async () => streamed(['event: delta\ndata: {"text":"Again"}\n\n', `event: done\ndata: ${JSON.stringify(DONE)}\n\n`]));
    const deltas: string[] = [];
    const reply = await new ApiClient({ key: 'k' }, '', fetcher as unknown as typeof fetch).regenerate('cv_1/x', { onDelta: (t) => deltas.push(t) });
    expect(deltas).toEqual(['Again']);
    expect(reply).toEqual(DONE);
    const [url, init] = fetcher.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/conversations/cv_1%2Fx/regenerate');
    expect(init.method).toBe('POST');
    expect(init.body).toBe('{}');
    expect((init.headers as Record<string, string>).accept).toBe('text/event-stream');
  });

  it('asks for the audit log newest first with order=desc', async () => {
    const fetcher = vi.fn(async () => Response.json({ data: [], nextCursor: null }));
    await new ApiClient({ key: 'k' }, '', fetcher as unknown as typeof fetch).listAudit('au_9', 25, 'desc');
    expect((fetcher.mock.calls[0] as unknown as [string])[0]).toBe('/api/audit?cursor=au_9&limit=25&order=desc');
  });
});

describe('readReplyStream', () => {
  it('decodes a multi-byte character split between two network chunks', async () => {
    const bytes = new TextEncoder().encode(`event: delta\ndata: {"text":"wörld"}\n\nevent: done\ndata: ${JSON.stringify(DONE)}\n\n`);
    const split = bytes.indexOf(0xc3) + 1; // inside "ö"
    const deltas: string[] = [];
    await readReplyStream(streamed([bytes.slice(0, split), bytes.slice(split)]), { onDelta: (t) => deltas.push(t) });
    expect(deltas).toEqual(['wörld']);
  });

  it('throws the error event of a stream that failed mid-way, after the deltas it sent', async () => {
    const deltas: string[] = [];
    const failing = streamed([
      'event: delta\ndata: {"text":"par"}\n\n',
      'event: error\ndata: {"error":{"code":"PROVIDER_UNAVAILABLE","message":"the provider went away"}}\n\n',
    ]);
    await expect(readReplyStream(failing, { onDelta: (t) => deltas.push(t) })).rejects.toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
      message: 'the provider went away',
    });
    expect(deltas).toEqual(['par']);
  });

  it('throws when the stream ends without a done event', async () => {
    await expect(readReplyStream(streamed(['event: delta\ndata: {"text":"x"}\n\n']), { onDelta: () => {} })).rejects.toMatchObject({
      code: 'BAD_RESPONSE',
    });
  });
});
