import type { Compilable, CompiledQuery, Kysely } from 'kysely';

/**
 * Runs a compiled query. Every dialect can use {@link kyselyRunner}; SQLite runs the statements
 * on its connection directly where that is safe (see `sqlite/backend.ts`).
 */
export interface QueryRunner {
  /** The rows a query returns. */
  read<R>(db: Executes, query: CompiledQuery<R>): Promise<R[]>;
  /** A statement that changes data: the rows it returns (RETURNING) and how many rows it changed. */
  write<R>(db: Executes, query: CompiledQuery<R>): Promise<Written<R>>;
}

export interface Written<R> {
  rows: R[];
  changed: number;
}

/** Any Kysely instance or transaction (the queries' tables do not matter to run them). */
export type Executes = Pick<Kysely<unknown>, 'executeQuery'>;

/** The query through Kysely's executor: its driver, connection and transaction. */
export const kyselyRunner: QueryRunner = {
  async read<R>(db: Executes, query: CompiledQuery<R>) {
    return (await db.executeQuery(query)).rows;
  },
  async write<R>(db: Executes, query: CompiledQuery<R>) {
    const { rows, numAffectedRows } = await db.executeQuery(query);
    return { rows, changed: numAffectedRows === undefined ? rows.length : Number(numAffectedRows) };
  },
};

/** A stand-in for the query's argument `index` while the query is built and compiled once. */
class Placeholder {
  constructor(readonly index: number) {}
}

interface Template {
  query: CompiledQuery;
  /** Per parameter of the compiled SQL: the argument it takes, or -1 for a constant of the query. */
  slots: number[];
}

/**
 * A query built and compiled by Kysely once per dialect, then run with new arguments: building
 * and compiling a query costs more CPU than running a point read or a one-row insert. `build`
 * receives stand-ins for its arguments (their count is `build`'s parameters after `db`, so no rest
 * parameters or defaults) and must
 * use each only as a value of the query, never in JavaScript logic (a condition, a computed
 * column); the result takes the real arguments in their place. The SQL is Kysely's, so every
 * dialect runs the statement its own builder would have built.
 */
export function compileOnce<DB, A extends unknown[], R>(
  build: (db: Kysely<DB>, ...args: A) => Compilable<R>,
): (db: Kysely<DB>, ...args: A) => CompiledQuery<R> {
  const arity = build.length - 1;
  // One template per dialect adapter: a transaction's Kysely shares its parent's.
  const templates = new WeakMap<object, Template>();
  const compile = (db: Kysely<DB>): Template => {
    const placeholders = Array.from({ length: arity }, (_, i) => new Placeholder(i));
    const query = build(db, ...(placeholders as unknown as A)).compile();
    const slots = query.parameters.map((p) => (p instanceof Placeholder ? p.index : -1));
    for (let i = 0; i < arity; i++) {
      if (!slots.includes(i)) throw new Error(`compileOnce: argument ${i + 1} is not a value of the query: ${query.sql}`);
    }
    return { query, slots };
  };
  return (db, ...args) => {
    const adapter = db.getExecutor().adapter;
    let template = templates.get(adapter);
    if (template === undefined) {
      template = compile(db);
      templates.set(adapter, template);
    }
    const { query, slots } = template;
    const parameters = new Array<unknown>(slots.length);
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      parameters[i] = slot < 0 ? query.parameters[i] : args[slot];
    }
    return { ...query, parameters } as CompiledQuery<R>;
  };
}
