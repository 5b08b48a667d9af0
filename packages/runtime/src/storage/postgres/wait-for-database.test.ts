import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test-support/postgres.js';
import { defaultMigrationsRoot, loadMigrationSets } from '../migrations.js';
import type { StorageBackend } from '../port.js';
import { openPostgresBackend } from './backend.js';

/** A runtime started before its database waits for it, and still fails fast on a wrong setting. */

const shipped = loadMigrationSets(defaultMigrationsRoot('postgres'));
let db: TestDatabase;
const opened: StorageBackend[] = [];
const servers: net.Server[] = [];

/** A free loopback port, closed again: nothing listens there until a test starts a relay on it. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP relay from `port` to the real Postgres: "the database comes up" when it starts listening. */
function relay(port: number, target: URL): Promise<void> {
  const server = net.createServer((inbound) => {
    const outbound = net.connect(Number(target.port || 5432), target.hostname);
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
}

function urlOnPort(port: number): string {
  const u = new URL(db.url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  for (const b of opened) await b.close().catch(() => undefined);
  for (const s of servers) s.close();
  await db?.drop();
});

describe('opening the Postgres backend before the database is up', () => {
  it('waits for the database, says why, and opens once it answers', async () => {
    const port = await freePort();
    const waits: string[] = [];
    setTimeout(() => void relay(port, new URL(db.url)), 700);
    const backend = await openPostgresBackend({
      databaseUrl: urlOnPort(port),
      poolSize: 2,
      migrations: shipped,
      startupWait: { timeoutMs: 20_000, onWait: (reason) => waits.push(reason) },
    });
    opened.push(backend);
    expect(waits.length).toBeGreaterThan(0);
    expect(waits.every((w) => w === 'ECONNREFUSED')).toBe(true);
    expect(await backend.readiness()).toEqual({ database: { ok: true }, migrations: { ok: true } });
  });

  it('gives up after its deadline with the connection error', async () => {
    const port = await freePort();
    let waits = 0;
    await expect(
      openPostgresBackend({
        databaseUrl: urlOnPort(port),
        poolSize: 2,
        migrations: shipped,
        startupWait: { timeoutMs: 300, onWait: () => waits++ },
      }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(waits).toBeGreaterThan(0);
  });

  it('does not wait when waiting cannot help: a database that does not exist fails at once', async () => {
    const u = new URL(db.url);
    u.pathname = '/agentik_no_such_database';
    let waits = 0;
    await expect(
      openPostgresBackend({
        databaseUrl: u.toString(),
        poolSize: 2,
        migrations: shipped,
        startupWait: { timeoutMs: 20_000, onWait: () => waits++ },
      }),
    ).rejects.toMatchObject({ code: '3D000' });
    expect(waits).toBe(0);
  });
});
