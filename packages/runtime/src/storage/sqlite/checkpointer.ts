import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { bundledSqlite } from '../../lib/release-root.js';

/**
 * WAL checkpoints of tenant files, on a worker thread.
 *
 * In WAL mode each commit appends pages to `<file>-wal`; a checkpoint copies them back into the
 * database file and syncs both to disk. SQLite runs one inside whichever commit passes the
 * threshold (1,000 pages by default), and a whole checkpoint with its two fsyncs inside one
 * request's commit was the largest part of the runtime's p99 latency, and about a tenth of its CPU
 * time per message. Here the main thread only marks a file as written; a worker thread, with its
 * own connections, runs a PASSIVE checkpoint of the marked files shortly after, which never
 * blocks the main thread's readers or writers. The tenant connections keep a higher threshold of
 * their own ({@link FALLBACK_AUTOCHECKPOINT_PAGES}), so the WAL stays bounded even if the worker
 * falls behind or fails.
 */

/** The tenant connections' own checkpoint threshold, in pages: only reached if the worker lags. */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 4000;
/** How long after a write the worker is asked to checkpoint; writes meanwhile share the run. */
const CHECKPOINT_DELAY_MS = 100;
/** Most files the worker keeps open (least recently written out first); it reopens on demand. */
const WORKER_MAX_OPEN = 16;

export interface Checkpointer {
  /** The file was written: checkpoint it soon. Cheap; call after any write. */
  written(file: string): void;
  /** The worker closes its connection to the file (before the file is removed). */
  forget(file: string): Promise<void>;
  /** Closes every connection of the worker and stops it. */
  close(): Promise<void>;
}

type Reply = { type: 'forgotten'; id: number } | { type: 'failed'; file: string; message: string };

/**
 * The worker's code: plain JavaScript run with `eval`, so it loads the same way from the
 * TypeScript sources (tests, benchmarks), from the build and from the standalone executable
 * (whose embedded script a worker cannot load). It loads better-sqlite3 from the path the main
 * thread resolved, and its native addon from `workerData.addon` when that is set.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require('node:module').createRequire(workerData.driver)(workerData.driver);
const options = workerData.addon ? { fileMustExist: true, nativeBinding: workerData.addon } : { fileMustExist: true };
const open = new Map(); // file -> connection, least recently used first

function connection(file) {
  let db = open.get(file);
  if (db !== undefined) {
    open.delete(file);
  } else {
    db = new Database(file, options);
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 0');
    db.pragma('cache_size = -256');
    if (open.size >= workerData.maxOpen) closeFile(open.keys().next().value);
  }
  open.set(file, db);
  return db;
}

function closeFile(file) {
  const db = open.get(file);
  open.delete(file);
  if (db !== undefined) db.close();
}

parentPort.on('message', (m) => {
  if (m.type === 'checkpoint') {
    for (const file of m.files) {
      try {
        connection(file).pragma('wal_checkpoint(PASSIVE)');
      } catch (error) {
        try { closeFile(file); } catch {}
        parentPort.postMessage({ type: 'failed', file, message: String(error && error.message) });
      }
    }
  } else if (m.type === 'forget') {
    try { closeFile(m.file); } catch {}
    parentPort.postMessage({ type: 'forgotten', id: m.id });
  } else if (m.type === 'close') {
    for (const file of [...open.keys()]) {
      try { closeFile(file); } catch {}
    }
    parentPort.close();
  }
});
`;

/**
 * Starts the checkpointer; its worker starts with the first write and does not keep the process
 * alive. `onFailure` hears about a checkpoint that failed (the file's own threshold still holds).
 */
export function startCheckpointer(onFailure: (file: string, message: string) => void = () => {}): Checkpointer {
  let worker: Worker | undefined;
  let exited: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const dirty = new Set<string>();
  const waiting = new Map<number, () => void>();
  let nextId = 0;

  const start = (): Worker => {
    const bundled = bundledSqlite();
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        driver: bundled?.driver ?? createRequire(import.meta.url).resolve('better-sqlite3'),
        addon: bundled?.addon ?? null,
        maxOpen: WORKER_MAX_OPEN,
      },
    });
    w.unref();
    w.on('message', (reply: Reply) => {
      if (reply.type === 'forgotten') {
        waiting.get(reply.id)?.();
        waiting.delete(reply.id);
      } else onFailure(reply.file, reply.message);
    });
    exited = new Promise((resolve) => w.once('exit', () => resolve()));
    // A worker that dies takes nobody's data with it: forget the worker, answer whoever waits,
    // and let the next write start a new one.
    w.once('error', (error) => onFailure('(checkpoint worker)', error.message));
    w.once('exit', () => {
      if (worker === w) worker = undefined;
      for (const done of waiting.values()) done();
      waiting.clear();
    });
    return w;
  };

  const flush = () => {
    timer = undefined;
    if (closed || dirty.size === 0) return;
    worker ??= start();
    worker.postMessage({ type: 'checkpoint', files: [...dirty] });
    dirty.clear();
  };

  return {
    written(file) {
      if (closed) return;
      dirty.add(file);
      if (timer === undefined) {
        timer = setTimeout(flush, CHECKPOINT_DELAY_MS);
        timer.unref();
      }
    },
    forget(file) {
      dirty.delete(file);
      const w = worker;
      if (w === undefined) return Promise.resolve();
      const id = nextId++;
      return new Promise<void>((resolve) => {
        waiting.set(id, resolve);
        w.postMessage({ type: 'forget', file, id });
      });
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      dirty.clear();
      const w = worker;
      if (w === undefined) return;
      // An unref'd worker does not keep the event loop alive, so awaiting its exit alone could
      // let the process run out of work first (exit code 13 at a top-level await).
      w.ref();
      w.postMessage({ type: 'close' });
      await exited;
    },
  };
}
