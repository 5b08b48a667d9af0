import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { appendLineDurably, fsyncDir } from './durable-fs.js';

/** The steps of `apply`, in order; each is written to the journal before it starts. */
export const APPLY_STEPS = ['lock', 'extract', 'verify', 'install', 'stop', 'backup', 'migrate', 'switch', 'start', 'health', 'commit'] as const;
export type ApplyStep = (typeof APPLY_STEPS)[number];
/** Steps of putting the previous version back (after a failed apply, or `rollback`). */
export type RestoreStep = 'restore';
export type JournalStep = ApplyStep | RestoreStep;

/** The first line of a journal: what the interrupted operation was doing. */
export interface JournalHeader {
  op: 'apply' | 'rollback';
  /** The version that was current when it started. */
  from: string;
  /** The version it was installing (apply) or going back to (rollback). */
  to: string;
  /** The backup folder (under updates/backups) holding `from`'s data (apply) or `to`'s (rollback). */
  backup: string;
  /** Whether `to`'s release folder was made by this operation (and is removed on undo). */
  newRelease: boolean;
  startedAt: string;
}

export interface Journal {
  header: JournalHeader;
  steps: JournalStep[];
}

/** The last step that was started. */
export function lastStep(journal: Journal): JournalStep | undefined {
  return journal.steps.at(-1);
}

/** Starts a journal (there must be none). */
export function startJournal(file: string, header: JournalHeader): void {
  appendLineDurably(file, JSON.stringify(header));
  fsyncDir(path.dirname(file));
}

/** Records that `step` is about to start; fsync'd before it returns. */
export function journalStep(file: string, step: JournalStep): void {
  appendLineDurably(file, JSON.stringify({ step, at: new Date().toISOString() }));
}

/**
 * Reads the journal, or undefined when no operation was interrupted. A last line cut short by a
 * crash is ignored: its step had not started, since every step is written before it starts.
 */
export function readJournal(file: string): Journal | undefined {
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  const parsed: unknown[] = [];
  for (const [i, line] of lines.entries()) {
    try {
      parsed.push(JSON.parse(line));
    } catch {
      if (i === lines.length - 1) break;
      throw new Error(`the update journal ${file} is damaged at line ${i + 1}`);
    }
  }
  if (parsed.length === 0) return undefined;
  const header = parsed[0] as JournalHeader;
  return { header, steps: parsed.slice(1).map((p) => (p as { step: JournalStep }).step) };
}

/** Ends the journal: the operation is complete (or fully undone). */
export function clearJournal(file: string): void {
  rmSync(file, { force: true });
  fsyncDir(path.dirname(file));
}
