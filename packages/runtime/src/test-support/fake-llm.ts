/**
 * ONE local fake LLM server speaking the three real wire protocols over loopback HTTP:
 * - Ollama: `POST /api/chat` (NDJSON stream by default, JSON with `"stream": false`), `GET /api/tags`;
 * - OpenAI: `GET /v1/models`; `POST /v1/chat/completions` (JSON, or SSE with `"stream": true`; the usage chunk only
 *   with `stream_options.include_usage`), also what Ollama's and vLLM's /v1 look like;
 * - Anthropic: `POST /v1/messages` (JSON, or named SSE events).
 * Scriptable per request (text, usage, tool calls, HTTP errors, mid-stream errors, cuts, delays,
 * malformed framing, fixture files served byte for byte) and fast: with `instant` a streamed
 * reply is written in one go. Used by the provider tests and, later, by the benchmarks.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  anthropicJson,
  anthropicStream,
  errorBody,
  malformedChunk,
  midStreamError,
  ollamaJson,
  ollamaStream,
  openAiJson,
  openAiStream,
  tokenize,
  type FakeContent,
  type FakeUsage,
  type FakeProtocol,
  type FakeToolCall,
  type WireChunk,
} from './fake-llm-wire.js';

export type { FakeProtocol, FakeToolCall, FakeUsage } from './fake-llm-wire.js';

const FIXTURES_URL = new URL('../../test/fixtures/providers/', import.meta.url);

/**
 * The provider wire fixtures kept in the repository (`test/fixtures/providers`): documented
 * example bodies of each real protocol, see the README there. A path, for directory listings.
 */
export const FIXTURES_DIR = fileURLToPath(FIXTURES_URL);

/** Reads a fixture as text, e.g. `openai/stream-basic.sse`. */
export function readFixture(relative: string): string {
  return readFileSync(new URL(relative, FIXTURES_URL), 'utf8');
}

/** Reads a JSON fixture. */
export function readJsonFixture<T = unknown>(relative: string): T {
  return JSON.parse(readFixture(relative)) as T;
}

/** One scripted reply. Everything is optional: the default is "Hello! Nice to meet you." with usage. */
export interface FakeReply {
  /** Reply text, streamed token by token (split like the fixtures). */
  text?: string;
  /** Explicit tokens instead of `text`. */
  tokens?: string[];
  /** Usage to report; `null` reports none. Default `{input: 24, output: 8}`. */
  usage?: FakeUsage | null;
  /** Tool calls the model makes. */
  toolCalls?: FakeToolCall[];
  /** Answer with this HTTP error instead (body defaults to the protocol's error shape). */
  error?: { status: number; body?: unknown; headers?: Record<string, string> };
  /** Extra response headers on a successful reply. */
  headers?: Record<string, string>;
  /** After `afterTokens` tokens (default all), send a mid-stream error event/line and end. */
  midStreamError?: { afterTokens?: number; body?: unknown };
  /** Destroy the socket after this many tokens were written (no terminator, no usage). */
  cutAfterTokens?: number;
  /** End the response cleanly after this many tokens, without the protocol's end marker. */
  endAfterTokens?: number;
  /** After this many tokens, send bytes that break the framing, then end. */
  malformedAfterTokens?: number;
  /** Wait this long before sending the status line (slow first byte). */
  firstByteDelayMs?: number;
  /** Wait this long between streamed chunks. */
  tokenDelayMs?: number;
  /** Never answer (until the client goes away). */
  hang?: boolean;
  /** Serve this fixture file byte for byte (e.g. `anthropic/stream-basic.sse`) with `status` (default 200). */
  fixture?: string;
  /** Status for `fixture` or `raw`. */
  status?: number;
  /** Serve these bytes as they are, with `contentType`. */
  raw?: { body: string; contentType: string };
  /** Split fixture/raw bodies into writes of this many bytes (default: one write). */
  chunkSize?: number;
  /** Destroy the socket after this many characters of a fixture/raw body (a 2xx answer cut off mid-body). */
  cutAfterChars?: number;
}

/** A request the fake received. */
export interface RecordedRequest {
  /** Which protocol the path belongs to (`unknown` for other paths). */
  protocol: FakeProtocol | 'unknown';
  /** HTTP method. */
  method: string;
  /** Path and query. */
  path: string;
  /** Request headers (lower-case). */
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: unknown;
  /** True once the client closed the connection before the reply was complete. */
  clientClosedEarly: boolean;
  /** The client's port: equal ports on successive requests mean a reused (pooled) connection. */
  remotePort: number | undefined;
}

/** Options of {@link startFakeLlm}. */
export interface FakeLlmOptions {
  /** Write each streamed reply in one write, no delays (benchmarks). Default false. */
  instant?: boolean;
  /**
   * With `instant`: still write (and flush) each streamed chunk separately, waiting for each
   * write to be handed to the socket before the next, as a real server does, only without delays.
   */
  chunkWrites?: boolean;
  /** The reply when no scripted one is queued. */
  defaultReply?: FakeReply;
  /** Keep every request in `requests` (default true). Benchmarks turn it off: only the last is kept. */
  recordRequests?: boolean;
  /**
   * Picks the reply by the request's JSON body (e.g. by `model`) when no scripted one is queued;
   * undefined falls back to the default. For concurrent callers, where queue order is random.
   */
  replyFor?: (body: Record<string, unknown>) => FakeReply | undefined;
}

/** A running fake LLM server. */
export interface FakeLlm {
  /** `http://127.0.0.1:<port>`: Ollama and Anthropic base URL. */
  readonly url: string;
  /** `<url>/v1`: the OpenAI base URL. */
  readonly openAiUrl: string;
  /** Every request received, oldest first. */
  readonly requests: RecordedRequest[];
  /** The most recent request. */
  readonly lastRequest: RecordedRequest | undefined;
  /** How many chat requests (not tags) arrived. */
  readonly chatRequestCount: number;
  /** Queues replies for the next chat requests, in order. */
  enqueue(...replies: FakeReply[]): void;
  /** Replaces the reply used when the queue is empty. */
  setDefault(reply: FakeReply): void;
  /** Resolves when a client closes a connection before its reply was complete. */
  nextClientAbort(): Promise<RecordedRequest>;
  /** Forgets recorded requests and queued replies. */
  reset(): void;
  /** Stops the server and drops open connections. */
  close(): Promise<void>;
}

const DEFAULT_TEXT = 'Hello! Nice to meet you.';

function protocolOf(path: string): FakeProtocol | 'unknown' {
  if (path.startsWith('/api/chat') || path.startsWith('/api/tags')) return 'ollama';
  if (path.startsWith('/v1/chat/completions') || path.startsWith('/v1/models')) return 'openai';
  if (path.startsWith('/v1/messages')) return 'anthropic';
  return 'unknown';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function contentTypeOf(file: string): string {
  if (file.endsWith('.sse')) return 'text/event-stream; charset=utf-8';
  if (file.endsWith('.ndjson')) return 'application/x-ndjson';
  return 'application/json; charset=utf-8';
}

function chunkText(text: string, size: number | undefined): WireChunk[] {
  if (!size || size <= 0) return [{ data: text }];
  const buf = Buffer.from(text, 'utf8');
  const out: WireChunk[] = [];
  // Byte-wise on purpose: a multi-byte character may be split, as on a real socket.
  for (let i = 0; i < buf.length; i += size) out.push({ data: buf.subarray(i, i + size).toString('latin1'), latin1: true });
  return out;
}

/** Starts the fake on 127.0.0.1 with a free port. */
export async function startFakeLlm(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  const requests: RecordedRequest[] = [];
  const queue: FakeReply[] = [];
  let defaultReply: FakeReply = options.defaultReply ?? {};
  let chatCount = 0;
  let abortWaiters: ((r: RecordedRequest) => void)[] = [];
  const tagsBody = readFixture('ollama/tags-response.json');
  const modelsBody = readFixture('openai/models-response.json');

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks).toString('utf8')).catch(() => res.destroy());
    });
  });
  server.keepAliveTimeout = 30_000;

  async function handle(req: IncomingMessage, res: ServerResponse, rawBody: string): Promise<void> {
    const path = req.url ?? '/';
    const protocol = protocolOf(path);
    let body: unknown;
    try {
      body = rawBody === '' ? undefined : JSON.parse(rawBody);
    } catch {
      body = undefined;
    }
    const record: RecordedRequest = { protocol, method: req.method ?? 'GET', path, headers: req.headers, body, clientClosedEarly: false, remotePort: req.socket.remotePort };
    if (options.recordRequests === false) requests.length = 0;
    requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished) {
        record.clientClosedEarly = true;
        const waiters = abortWaiters;
        abortWaiters = [];
        for (const w of waiters) w(record);
      }
    });

    if (protocol === 'ollama' && path.startsWith('/api/tags')) return sendList(res, tagsBody);
    if (protocol === 'openai' && path.startsWith('/v1/models')) return sendList(res, modelsBody);
    if (protocol === 'unknown' || req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(errorBody('openai', 404)));
      return;
    }
    chatCount++;
    const reply = queue.shift() ?? options.replyFor?.((body ?? {}) as Record<string, unknown>) ?? defaultReply;
    if (reply.hang) return; // the client's timeout or abort ends it
    if (reply.firstByteDelayMs) await sleep(reply.firstByteDelayMs);
    if (res.destroyed) return;

    if (reply.error) {
      const { status, headers = {} } = reply.error;
      const errBody = reply.error.body ?? errorBody(protocol, status);
      res.writeHead(status, { 'content-type': 'application/json', ...requestIdHeader(protocol), ...headers });
      res.end(typeof errBody === 'string' ? errBody : JSON.stringify(errBody));
      return;
    }
    if (reply.fixture || reply.raw) {
      const text = reply.fixture ? readFixture(reply.fixture) : (reply.raw?.body ?? '');
      const type = reply.fixture ? contentTypeOf(reply.fixture) : (reply.raw?.contentType ?? 'text/plain');
      res.writeHead(reply.status ?? 200, { 'content-type': type, ...reply.headers });
      const cut = reply.cutAfterChars;
      const chunks = cut === undefined ? chunkText(text, reply.chunkSize) : [...chunkText(text.slice(0, cut), reply.chunkSize), { data: '', cut: true }];
      return writeChunks(res, chunks, reply, true);
    }

    const b = (body ?? {}) as Record<string, unknown>;
    const content: FakeContent = {
      tokens: reply.tokens ?? tokenize(reply.text ?? (reply.toolCalls?.length ? '' : DEFAULT_TEXT)),
      usage: reply.usage === undefined ? { input: 24, output: 8 } : reply.usage,
      toolCalls: reply.toolCalls ?? [],
      model: typeof b.model === 'string' ? b.model : 'fake-model',
    };
    const streaming = protocol === 'ollama' ? b.stream !== false : b.stream === true;
    const headers = { ...requestIdHeader(protocol), ...reply.headers };
    if (!streaming) {
      const json = protocol === 'openai' ? openAiJson(content) : protocol === 'anthropic' ? anthropicJson(content) : ollamaJson(content);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(json));
      return;
    }
    let wire: WireChunk[];
    if (protocol === 'openai') {
      const so = b.stream_options as { include_usage?: unknown } | undefined;
      wire = openAiStream(content, so?.include_usage === true);
    } else wire = protocol === 'anthropic' ? anthropicStream(content) : ollamaStream(content);
    wire = applyFaults(protocol, wire, reply);
    const type = protocol === 'ollama' ? 'application/x-ndjson' : 'text/event-stream; charset=utf-8';
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache', ...headers });
    await writeChunks(res, wire, reply, false);
  }

  function applyFaults(protocol: FakeProtocol, wire: WireChunk[], reply: FakeReply): WireChunk[] {
    // Index of the chunk right after the n-th token (after the last token, or the opening chunk, when fewer).
    const cutAt = (n: number) => {
      let seen = 0;
      let after = 1;
      for (let i = 0; i < wire.length; i++) {
        if (!wire[i]?.token) continue;
        if (seen >= n) return i;
        seen++;
        after = i + 1;
      }
      return after;
    };
    if (reply.midStreamError) {
      const at = cutAt(reply.midStreamError.afterTokens ?? Number.MAX_SAFE_INTEGER);
      return [...wire.slice(0, at), { data: midStreamError(protocol, reply.midStreamError.body) }];
    }
    if (reply.malformedAfterTokens !== undefined) {
      const at = cutAt(reply.malformedAfterTokens);
      return [...wire.slice(0, at), { data: malformedChunk(protocol) }];
    }
    if (reply.endAfterTokens !== undefined) return wire.slice(0, cutAt(reply.endAfterTokens));
    if (reply.cutAfterTokens !== undefined) return [...wire.slice(0, cutAt(reply.cutAfterTokens)), { data: '', cut: true }];
    return wire;
  }

  async function writeChunks(res: ServerResponse, wire: WireChunk[], reply: FakeReply, raw: boolean): Promise<void> {
    const cut = wire.some((c) => c.cut);
    const delay = reply.tokenDelayMs ?? 0;
    if (options.instant && !options.chunkWrites && delay === 0 && !cut && !raw) {
      res.end(wire.map((c) => c.data).join(''));
      return;
    }
    for (const chunk of wire) {
      if (res.destroyed) return;
      if (chunk.cut) {
        // Let the bytes already written reach the client, then drop the connection mid-body.
        await sleep(20);
        res.socket?.destroy();
        return;
      }
      await new Promise<void>((resolve) => res.write(chunk.data, chunk.latin1 ? 'latin1' : 'utf8', () => resolve()));
      if (delay) await sleep(delay);
    }
    res.end();
  }

  /** A model list (Ollama's tags, OpenAI's models): always the fixture, whatever is queued. */
  function sendList(res: ServerResponse, body: string): void {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    openAiUrl: `${url}/v1`,
    requests,
    get lastRequest() {
      return requests[requests.length - 1];
    },
    get chatRequestCount() {
      return chatCount;
    },
    enqueue: (...replies) => void queue.push(...replies),
    setDefault: (reply) => {
      defaultReply = reply;
    },
    nextClientAbort: () => new Promise((resolve) => abortWaiters.push(resolve)),
    reset: () => {
      requests.length = 0;
      queue.length = 0;
      chatCount = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function requestIdHeader(protocol: FakeProtocol | 'unknown'): Record<string, string> {
  if (protocol === 'openai') return { 'x-request-id': 'req_fake0001' };
  if (protocol === 'anthropic') return { 'request-id': 'req_fake0001' };
  return {};
}
