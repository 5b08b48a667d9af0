import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test-support/postgres.js';
import { PipelinedQuery } from './pipelined-query.js';

/** Several statements in one round trip, on a real server. */

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 1 });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('PipelinedQuery', () => {
  it('answers each statement in order, one text several times in one pipeline included', async () => {
    const client = await pool.connect();
    try {
      const numbered = (n: number) => ({ text: 'SELECT $1::int AS n', values: [n] });
      for (let round = 0; round < 2; round++) {
        const results = await PipelinedQuery.run(client, [numbered(1), numbered(2), { text: 'SELECT $1::text AS t', values: ['x'] }, numbered(3)]);
        expect(results.map((r) => r.rows)).toEqual([[{ n: 1 }], [{ n: 2 }], [{ t: 'x' }], [{ n: 3 }]]);
      }
    } finally {
      client.release();
    }
  });

  it('runs the statements before a Sync as one transaction: a failure rolls back the earlier ones', async () => {
    const client = await pool.connect();
    try {
      await client.query('CREATE TEMP TABLE pipelined (n int PRIMARY KEY)');
      const { results, error } = await PipelinedQuery.runSettled(client, [
        { text: 'INSERT INTO pipelined (n) VALUES ($1)', values: [1] },
        { text: 'INSERT INTO pipelined (n) VALUES ($1)', values: [1] },
        { text: 'SELECT 1 AS never', values: [] },
      ]);
      expect(results).toHaveLength(1);
      expect((error as { code?: string }).code).toBe('23505');
      expect((await client.query('SELECT count(*)::int AS n FROM pipelined')).rows).toEqual([{ n: 0 }]);
      // The failed statement is prepared again on its next use.
      const again = await PipelinedQuery.run(client, [{ text: 'INSERT INTO pipelined (n) VALUES ($1)', values: [2] }]);
      expect(again[0]!.rowCount).toBe(1);
    } finally {
      client.release();
    }
  });
});
