import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAudit } from './audit-log.js';
import { clearJournal, journalStep, lastStep, reached, readJournal, startJournal, type JournalFacts } from './journal.js';
import { layoutFor } from './layout.js';
import { acquireLock } from './update-lock.js';
import { currentVersion, maxVersion, readState, writeState } from './update-state.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'agentik-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const header: JournalFacts = { op: 'apply', from: '1.0.0', startedAt: '2026-12-07T15:00:00Z' };

describe('journal', () => {
  it('records the header and each step in order, and is gone once cleared', () => {
    const file = path.join(dir, 'journal.jsonl');
    expect(readJournal(file)).toBeUndefined();
    startJournal(file, header);
    expect(readJournal(file)).toEqual({ facts: header, steps: [] });
    journalStep(file, 'lock');
    journalStep(file, 'extract', { to: '1.1.0', newRelease: true });
    const journal = readJournal(file)!;
    expect(journal.steps).toEqual(['lock', 'extract']);
    expect(lastStep(journal)).toBe('extract');
    expect(journal.facts).toEqual({ ...header, to: '1.1.0', newRelease: true });
    expect(reached(journal, 'lock')).toBe(true);
    expect(reached(journal, 'stop')).toBe(false);
    clearJournal(file);
    expect(existsSync(file)).toBe(false);
  });

  it('ignores a last line torn by a crash, but refuses damage before it', () => {
    const file = path.join(dir, 'journal.jsonl');
    startJournal(file, header);
    journalStep(file, 'lock');
    appendFileSync(file, '{"step":"ext');
    expect(readJournal(file)!.steps).toEqual(['lock']);
    appendFileSync(file, '\n{"step":"verify"}\n');
    expect(() => readJournal(file)).toThrow(/damaged at line 3/);
    writeFileSync(file, '\n');
    expect(readJournal(file)).toBeUndefined();
  });
});

describe('lock', () => {
  it('lets one updater in at a time and releases only its own lock', () => {
    const file = path.join(dir, 'lock');
    const lock = acquireLock(file);
    // The same pid holding it counts as stale (a re-run in-process after a crash).
    const again = acquireLock(file);
    // Our own parent (the test runner's worker) is alive: the lock is held.
    writeFileSync(file, JSON.stringify({ pid: process.ppid, boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() }));
    expect(() => acquireLock(file)).toThrow(/another updater is running/);
    lock.release();
    again.release();
    expect(existsSync(file)).toBe(true);
  });

  it('takes over the lock of a dead process, of an earlier boot, or a torn file', () => {
    const file = path.join(dir, 'lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    for (const stale of [JSON.stringify({ pid: Number(dead), boot }), JSON.stringify({ pid: process.ppid, boot: 'earlier' }), '{"pi']) {
      writeFileSync(file, stale);
      const lock = acquireLock(file);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid });
      lock.release();
      expect(existsSync(file)).toBe(false);
    }
  });
});

describe('state and audit log', () => {
  it('derives the state from `current` until one is written, then reads it back', () => {
    const layout = layoutFor(dir);
    expect(readState(layout)).toBeUndefined();
    mkdirSync(path.join(layout.releasesDir, '1.0.0'), { recursive: true });
    mkdirSync(layout.updatesDir, { recursive: true });
    symlinkSync('releases/1.0.0', layout.currentLink);
    expect(currentVersion(layout)).toBe('1.0.0');
    expect(readState(layout)).toMatchObject({ floor: '1.0.0', current: '1.0.0' });
    writeState(layout, { floor: '1.1.0', current: '1.0.0', updatedAt: 'now' });
    expect(readState(layout)).toEqual({ floor: '1.1.0', current: '1.0.0', updatedAt: 'now' });
    expect(maxVersion('1.0.0', '1.1.0')).toBe('1.1.0');
    expect(maxVersion('1.2.0', '1.1.0')).toBe('1.2.0');
  });

  it('appends one JSON line per event', () => {
    const file = path.join(dir, 'audit.log');
    appendAudit(file, { action: 'apply', outcome: 'committed', from: '1.0.0', to: '1.1.0', keyFingerprint: 'F', bundleSha256: 'ab' });
    appendAudit(file, { action: 'rollback', outcome: 'committed', from: '1.1.0', to: '1.0.0' });
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ action: 'apply', outcome: 'committed', from: '1.0.0', to: '1.1.0', keyFingerprint: 'F', bundleSha256: 'ab' });
    expect(typeof lines[1]!.at).toBe('string');
  });
});
