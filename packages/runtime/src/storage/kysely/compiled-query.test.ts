import Database from 'better-sqlite3';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import { compileOnce, kyselyRunner } from './compiled-query.js';

interface Db {
  items: { id: string; name: string; rank: number };
}

/** A Kysely that compiles Postgres SQL and runs nothing. */
function postgresCompiler(): Kysely<Db> {
  return new Kysely<Db>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

function sqlite(): Kysely<Db> {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE items (id TEXT PRIMARY KEY, name TEXT NOT NULL, rank INTEGER NOT NULL)');
  return new Kysely<Db>({ dialect: new SqliteDialect({ database: db }) });
}

describe('compileOnce', () => {
  it('compiles the query once per dialect and puts each call’s arguments in its stand-ins’ places', () => {
    let builds = 0;
    const byName = compileOnce((db: Kysely<Db>, name: string, limit: number) => {
      builds++;
      return db.selectFrom('items').selectAll().where('name', '=', name).where('rank', '>', 3).orderBy('id').limit(limit);
    });
    const pg = postgresCompiler();
    const first = byName(pg, 'a', 10);
    const second = byName(pg, 'b', 20);
    expect(builds).toBe(1);
    expect(first.sql).toBe('select * from "items" where "name" = $1 and "rank" > $2 order by "id" limit $3');
    expect(first.parameters).toEqual(['a', 3, 10]);
    expect(second.sql).toBe(first.sql);
    expect(second.parameters).toEqual(['b', 3, 20]);

    const lite = byName(sqlite(), 'c', 5);
    expect(builds).toBe(2);
    expect(lite.sql).toBe('select * from "items" where "name" = ? and "rank" > ? order by "id" limit ?');
    expect(lite.parameters).toEqual(['c', 3, 5]);
  });

  it('uses the root instance’s template inside its transactions', async () => {
    let builds = 0;
    const insert = compileOnce((db: Kysely<Db>, id: string, name: string, rank: number) => {
      builds++;
      return db.insertInto('items').values({ id, name, rank });
    });
    const byId = compileOnce((db: Kysely<Db>, id: string) => db.selectFrom('items').select(['name', 'rank']).where('id', '=', id));
    const db = sqlite();
    await kyselyRunner.write(db, insert(db, 'i1', 'one', 1));
    await db.transaction().execute(async (trx) => {
      await kyselyRunner.write(trx, insert(trx, 'i2', 'two', 2));
    });
    expect(builds).toBe(1);
    expect(await kyselyRunner.read(db, byId(db, 'i2'))).toEqual([{ name: 'two', rank: 2 }]);
    expect(await kyselyRunner.read(db, byId(db, 'i1'))).toEqual([{ name: 'one', rank: 1 }]);
    expect(await kyselyRunner.read(db, byId(db, 'none'))).toEqual([]);
  });

  it('refuses a query that uses an argument other than as a value', () => {
    const rankFilter = compileOnce((db: Kysely<Db>, rank: number) =>
      // A stand-in is an object, never undefined: this branch drops the argument from the SQL.
      rank === undefined ? db.selectFrom('items').selectAll().where('rank', '=', rank) : db.selectFrom('items').selectAll(),
    );
    expect(() => rankFilter(postgresCompiler(), 1)).toThrow(/argument 1 is not a value of the query/);
  });
});
