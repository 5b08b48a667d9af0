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
 * Several statements sent in ONE round trip of the extended query protocol: Parse, Bind, Describe
 * and Execute for each, then a single Sync. Postgres runs everything before the Sync in one transaction (an implicit one,
 * unless a statement of it is BEGIN): if any statement fails, the ones after it are skipped and
 * the implicit transaction is rolled back. Results come back per statement, in order.
 *
 * This is pg's documented extension point (`client.query(submittable)`, as pg-cursor uses), so
 * the client keeps its queue: nothing else is sent on the connection until this has finished.
 */
export class PipelinedQuery {
  private readonly results: pg.QueryResult[] = [];
  private current: ResultBuilder | undefined;
  private rowError: unknown;
  readonly done: Promise<pg.QueryResult[]>;
  private settle!: (error: unknown, results?: pg.QueryResult[]) => void;

  constructor(
    private readonly client: pg.PoolClient,
    readonly statements: readonly PipelineStatement[],
  ) {
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

  submit(connection: WireConnection): void {
    connection.stream.cork?.();
    try {
      for (const s of this.statements) {
        connection.parse({ text: s.text, name: '', types: [] });
        connection.bind({ statement: '', portal: '', values: s.values, valueMapper: toWire });
        connection.describe({ type: 'P', name: '' });
        connection.execute({ portal: '', rows: 0 });
      }
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

  /** One statement finished: its result is complete. */
  handleCommandComplete(msg: WireMessage): void {
    const r = this.result();
    r.addCommandComplete(msg);
    this.finishStatement(r);
  }

  handleEmptyQuery(): void {
    this.finishStatement(this.result());
  }

  private finishStatement(r: ResultBuilder): void {
    this.results.push(r as unknown as pg.QueryResult);
    this.current = undefined;
  }

  /** A statement failed (the rest were skipped). */
  handleError(error: unknown): void {
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
