import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { appendLineDurably, fsyncDir } from './durable-fs.js';

/** The steps of `apply`, in order; each is written to the journal before it starts. */
export const APPLY_STEPS = ['lock', 'extract', 'verify', 'install', 'stop', 'backup', 'migrate', 'switch', 'start', 'health', 'commit'] as const;
export type ApplyStep = (typeof APPLY_STEPS)[number];
/** `restore`: putting the previous release and its data back (a failed apply, or `rollback`). */
export type JournalStep = ApplyStep | 'restore';

/** What an operation recorded about itself; later lines add to what the first one said. */
export interface JournalFacts {
  op: 'apply' | 'rollback';
  /** The release (folder name under releases/) that was current when it started. */
  from: string;
  startedAt: string;
  /** The release being installed (apply) or gone back to (rollback), once known. */
  to?: string;
  /** Whether `to`'s release folder was made by this operation (removed again on undo). */
  newRelease?: boolean;
  /** The backup folder name (under updates/backups) holding the data to restore on undo. */
  backup?: string;
  bundleSha256?: string;
  keyFingerprint?: string;
}

export interface Journal {
  facts: JournalFacts;
  steps: JournalStep[];
}

/** The last step that was started. */
export function lastStep(journal: Journal): JournalStep | undefined {
  return journal.steps.at(-1);
}

/** Whether `step` was started. */
export function reached(journal: Journal, step: JournalStep): boolean {
  return journal.steps.includes(step);
}

/** Starts a journal (there must be none). */
export function startJournal(file: string, facts: JournalFacts): void {
  appendLineDurably(file, JSON.stringify(facts));
  fsyncDir(path.dirname(file));
}

/** Records that `step` is about to start, with any facts learnt; fsync'd before it returns. */
export function journalStep(file: string, step: JournalStep, facts: Partial<JournalFacts> = {}): void {
  appendLineDurably(file, JSON.stringify({ ...facts, step, at: new Date().toISOString() }));
}

/**
 * Reads the journal, or undefined when no operation was interrupted. A last line cut short by a
 * crash is ignored: its step had not started, since every step is written before it starts.
 */
export function readJournal(file: string): Journal | undefined {
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  const parsed: Record<string, unknown>[] = [];
  for (const [i, line] of lines.entries()) {
    try {
      parsed.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      if (i === lines.length - 1) break;
      throw new Error(`the update journal ${file} is damaged at line ${i + 1}`);
    }
  }
  if (parsed.length === 0) return undefined;
  const facts = { ...parsed[0] } as unknown as JournalFacts;
  const steps: JournalStep[] = [];
  for (const { step, at: _at, ...rest } of parsed.slice(1)) {
    Object.assign(facts, rest);
    steps.push(step as JournalStep);
  }
  return { facts, steps };
}

/** Ends the journal: the operation is complete (or fully undone). */
export function clearJournal(file: string): void {
  rmSync(file, { force: true });
  fsyncDir(path.dirname(file));
}
