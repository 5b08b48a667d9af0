import { startFakeLlm, type FakeLlm } from './fake-llm.js';
import { startTestServer, type TestServer } from './harness.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

/** A test server on a fresh Postgres database, with a fake Ollama, and what closes them all. */
export interface PostgresTestServer {
  db: TestDatabase;
  llm: FakeLlm;
  server: TestServer;
  close(): Promise<void>;
}

/** Starts a {@link PostgresTestServer}; `env` adds to (or overrides) its settings. */
export async function startPostgresTestServer(env: Record<string, string> = {}): Promise<PostgresTestServer> {
  const db = await createTestDatabase();
  const llm = await startFakeLlm();
  const server = await startTestServer({
    AGENTIK_STORAGE: 'postgres',
    AGENTIK_DATABASE_URL: db.url,
    AGENTIK_ENCRYPTION_KEY: 'ab'.repeat(32),
    AGENTIK_OLLAMA_URL: llm.url,
    AGENTIK_LOG_LEVEL: 'warn',
    ...env,
  });
  return {
    db,
    llm,
    server,
    async close() {
      await server.close();
      await llm.close();
      await db.drop();
    },
  };
}
