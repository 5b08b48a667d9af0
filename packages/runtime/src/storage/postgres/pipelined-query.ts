import pg from 'pg';

/** One statement of a {@link PipelinedQuery}: text with `$n` parameters and their values. */
export interface PipelineStatement {
  text: string;
  values: readonly unknown[];
}

/** pg's result builder (exported by pg, not described by its type definitions). */
interface ResultBuilder {
  addFields(fields: unknown[]): void;
  parseRow(fields: unknown[]): unknown;
  addRow(row: unknown): void;
  addCommandComplete(msg: unknown): void;
}
const Result = (pg as unknown as { Result: new (rowMode: undefined, types: { getTypeParser: (oid: number, format?: string) => unknown }) => ResultBuilder }).Result;

/** Distinct statement texts that get a server-side prepared statement; later ones run unnamed. */
const MAX_NAMED = 512;
const names = new Map<string, string>();

/**
 * The name of the prepared statement for `text`, the same on every connection of this process.
 * Postgres re-parses a prepared statement when the search_path it was parsed under changes, and
 * checks privileges at every execution, so one name serves every tenant's scope safely.
 */
function statementName(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED) {
    name = `agentik_${names.size + 1}`;
    names.set(text, name);
  }
  return name;
}

/** Per pooled client: statements known to be prepared on it, and those whose Parse may or may not have run. */
interface Prepared {
  done: Set<string>;
  unsure: Set<string>;
}
const preparedOn = new WeakMap<object, Prepared>();

function preparedFor(client: object): Prepared {
  let p = preparedOn.get(client);
  if (!p) {
    p = { done: new Set(), unsure: new Set() };
    preparedOn.set(client, p);
  }
  return p;
}

/** A parameter as the wire carries it (text format), as pg's own value mapping does for these types. */
function toWire(value: unknown): string | Buffer | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value as string | number | boolean | bigint);
}

/** The parts of pg's protocol connection a pipeline writes to (pg's `Submittable` contract). */
interface WireConnection {
  stream: { cork?: () => void; uncork?: () => void };
  parse(msg: { text: string; name?: string; types?: number[] }): void;
  bind(msg: { statement?: string; portal?: string; values: readonly unknown[]; valueMapper: (v: unknown) => unknown }): void;
  describe(msg: { type: 'P' | 'S'; name?: string }): void;
  execute(msg: { portal?: string; rows?: number }): void;
  close(msg: { type: 'P' | 'S'; name?: string }): void;
  sync(): void;
  sendCopyFail(message: string): void;
}

interface WireMessage {
  fields?: unknown[];
  text?: string;
}

/**
 * Several statements sent in ONE round trip of the extended query protocol: Parse (only when the
 * statement is not prepared on this connection yet), Bind, Describe and Execute for each, then a
 * single Sync. Postgres runs everything before the Sync in one transaction (an implicit one,
 * unless a statement of it is BEGIN): if any statement fails, the ones after it are skipped and
 * the implicit transaction is rolled back. Results come back per statement, in order.
 *
 * This is pg's documented extension point (`client.query(submittable)`, as pg-cursor uses), so
 * the client keeps its queue: nothing else is sent on the connection until this has finished.
 */
export class PipelinedQuery {
  /** Results of the statements that completed, in order. */
  readonly results: pg.QueryResult[] = [];
  private current: ResultBuilder | undefined;
  private rowError: unknown;
  private readonly prepared: Prepared;
  private readonly named: Array<string | undefined>;
  readonly done: Promise<pg.QueryResult[]>;
  private settle!: (error: unknown, results?: pg.QueryResult[]) => void;

  constructor(
    private readonly client: pg.PoolClient,
    readonly statements: readonly PipelineStatement[],
  ) {
    this.prepared = preparedFor(client);
    this.named = statements.map((s) => statementName(s.text));
    this.done = new Promise((resolve, reject) => {
      this.settle = (error, results) => (error ? reject(error) : resolve(results!));
    });
  }

  /** Sends the pipeline; the caller awaits {@link done}. */
  static run(client: pg.PoolClient, statements: readonly PipelineStatement[]): Promise<pg.QueryResult[]> {
    const q = new PipelinedQuery(client, statements);
    void client.query(q as unknown as pg.QueryConfig);
    return q.done;
  }

  /** Like {@link run}, but a failure comes back with the results of the statements before it. */
  static async runSettled(client: pg.PoolClient, statements: readonly PipelineStatement[]): Promise<{ results: pg.QueryResult[]; error?: unknown }> {
    const q = new PipelinedQuery(client, statements);
    void client.query(q as unknown as pg.QueryConfig);
    try {
      return { results: await q.done };
    } catch (error) {
      return { results: q.results, error };
    }
  }

  submit(connection: WireConnection): void {
    connection.stream.cork?.();
    try {
      // Statements parsed earlier in this same pipeline (one text may come several times).
      const parsedHere = new Set<string>();
      this.statements.forEach((s, i) => {
        const name = this.named[i];
        if (name === undefined || (!this.prepared.done.has(name) && !parsedHere.has(name))) {
          // A Parse that may have run before a failure: drop it first (closing a missing one is no error).
          if (name !== undefined && this.prepared.unsure.has(name)) connection.close({ type: 'S', name });
          connection.parse({ text: s.text, name: name ?? '', types: [] });
          if (name !== undefined) parsedHere.add(name);
        }
        connection.bind({ statement: name ?? '', portal: '', values: s.values, valueMapper: toWire });
        connection.describe({ type: 'P', name: '' });
        connection.execute({ portal: '', rows: 0 });
      });
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
  }

  private result(): ResultBuilder {
    this.current ??= new Result(undefined, { getTypeParser: (oid: number, format?: string) => this.client.getTypeParser(oid, format as 'text') });
    return this.current;
  }

  handleRowDescription(msg: WireMessage): void {
    this.result().addFields(msg.fields ?? []);
  }

  handleDataRow(msg: WireMessage): void {
    if (this.rowError !== undefined) return;
    try {
      const r = this.result();
      r.addRow(r.parseRow(msg.fields ?? []));
    } catch (error) {
      this.rowError = error;
    }
  }

  /** One statement finished: its result is complete, and its statement is now prepared here. */
  handleCommandComplete(msg: WireMessage): void {
    const r = this.result();
    r.addCommandComplete(msg);
    this.finishStatement(r);
  }

  handleEmptyQuery(): void {
    this.finishStatement(this.result());
  }

  private finishStatement(r: ResultBuilder): void {
    const name = this.named[this.results.length];
    if (name !== undefined) {
      this.prepared.done.add(name);
      this.prepared.unsure.delete(name);
    }
    this.results.push(r as unknown as pg.QueryResult);
    this.current = undefined;
  }

  /**
   * A statement failed (the rest were skipped). Its Parse may or may not have run, and a prepared
   * statement that failed may be stale (a table changed shape): it is prepared anew next time.
   */
  handleError(error: unknown): void {
    const name = this.named[this.results.length];
    if (name !== undefined) {
      this.prepared.done.delete(name);
      this.prepared.unsure.add(name);
    }
    this.settle(error);
  }

  handleReadyForQuery(): void {
    if (this.rowError !== undefined) this.settle(this.rowError);
    else this.settle(undefined, this.results);
  }

  handlePortalSuspended(): void {
    // Never asked for: every Execute is unlimited (rows 0).
  }

  handleCopyInResponse(connection: WireConnection): void {
    connection.sendCopyFail('COPY is not supported here');
  }

  handleCopyData(): void {}
}
