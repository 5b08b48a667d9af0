import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServe, stopServe, type ServeChild } from '../src/test-support/spawn-runtime.js';

/**
 * Issue 12, item 8, against a real `agentik serve` process: a client that sends its request a
 * byte at a time, or nothing at all, or keeps an idle connection, loses the socket after the
 * configured timeout; one address cannot hold more than AGENTIK_MAX_CONNECTIONS_PER_IP sockets.
 */

const OPERATOR_KEY = 'agk_slow_clients_operator_key_0123456789abcdef';
const HEADERS_MS = 1_000;
const BODY_MS = 1_500;
const IDLE_MS = 800;
const PER_IP = 6;

let server: ServeChild;
let dataDir: string;
let port: number;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'agentik-slow-'));
  server = await spawnServe({
    AGENTIK_DATA_DIR: dataDir,
    AGENTIK_OPERATOR_KEY: OPERATOR_KEY,
    AGENTIK_LOG_LEVEL: 'warn',
    AGENTIK_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
    AGENTIK_BODY_TIMEOUT_MS: String(BODY_MS),
    AGENTIK_IDLE_TIMEOUT_MS: String(IDLE_MS),
    AGENTIK_MAX_CONNECTIONS_PER_IP: String(PER_IP),
  });
  port = Number(new URL(server.url).port);
}, 40_000);

afterAll(async () => {
  if (server) await stopServe(server);
  rmSync(dataDir, { recursive: true, force: true });
});

interface Raw {
  socket: Socket;
  /** Everything received so far. */
  received: () => string;
  /** Resolves with the time (ms since connect) the server closed the socket. */
  closed: Promise<number>;
}

async function open(): Promise<Raw> {
  const socket = connect({ host: '127.0.0.1', port });
  const t0 = Date.now();
  let data = '';
  socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - t0)));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => data, closed };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves true when `closed` settles within `ms`, false otherwise. */
const closesWithin = (raw: Raw, ms: number) => Promise.race([raw.closed.then(() => true), sleep(ms).then(() => false)]);

describe('slow and greedy clients', () => {
  it('cuts off a body trickled one byte at a time once the body timeout has passed', async () => {
    const body = JSON.stringify({ name: 'Slow', owner: 'o@example.test', padding: 'x'.repeat(200) });
    const raw = await open();
    raw.socket.write(
      `POST /api/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${OPERATOR_KEY}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    );
    let sent = 0;
    const timer = setInterval(() => {
      if (raw.socket.destroyed || sent >= body.length) return;
      raw.socket.write(body[sent]!);
      sent += 1;
    }, 100);
    try {
      const cut = await closesWithin(raw, HEADERS_MS + BODY_MS + 3_000);
      expect(cut, `still open after ${sent} bytes`).toBe(true);
      expect(sent).toBeLessThan(body.length);
      const took = await raw.closed;
      expect(took).toBeGreaterThanOrEqual(BODY_MS);
      expect(raw.received()).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(timer);
      raw.socket.destroy();
    }
  }, 15_000);

  it('closes a connection that never finishes its headers after the headers timeout', async () => {
    const raw = await open();
    raw.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    const cut = await closesWithin(raw, HEADERS_MS + 3_000);
    raw.socket.destroy();
    expect(cut).toBe(true);
  }, 10_000);

  it('closes an idle keep-alive connection after the idle timeout', async () => {
    const raw = await open();
    raw.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    const cut = await closesWithin(raw, IDLE_MS + 3_000);
    raw.socket.destroy();
    expect(raw.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(cut).toBe(true);
  }, 10_000);

  it('refuses connections from one address over the per-IP cap, and takes them again once one closes', async () => {
    // Let keep-alive sockets of earlier tests (the readiness poll's too) time out first.
    await sleep(IDLE_MS + 1_200);
    const held: Raw[] = [];
    for (let i = 0; i < PER_IP; i++) held.push(await open());
    try {
      const over = await open();
      over.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(await closesWithin(over, 1_000)).toBe(true);
      expect(over.received()).toBe('');

      // The held ones still work.
      held[0]!.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      await sleep(300);
      expect(held[0]!.received()).toMatch(/^HTTP\/1\.1 200 /);

      held.pop()!.socket.destroy();
      await sleep(100);
      const again = await open();
      again.socket.write('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await again.closed;
      expect(again.received()).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      for (const h of held) h.socket.destroy();
    }
  }, 15_000);
});
