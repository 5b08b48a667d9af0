import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Log } from '../lib/log.js';
import { appendAudit, type AuditEntry } from './audit-log.js';
import { bundleArch, verifyBundle, type VerifiedBundle } from './bundle-verifier.js';
import { fetchBundle } from './bundle-source.js';
import { checkBackupPossible, readBackupInfo, restoreFromBackup, takeBackup } from './data-backup.js';
import { fsyncDir } from './durable-fs.js';
import { sha256OfFile } from './file-hash.js';
import { waitReadyAndStable } from './health-gate.js';
import { clearJournal, journalStep, lastStep, reached, readJournal, startJournal, type Journal, type JournalFacts, type JournalStep } from './journal.js';
import { layoutFor, releaseDir, type Layout } from './layout.js';
import { switchCurrent } from './release-link.js';
import { extractBundle } from './safe-extract.js';
import { serviceControl, type ServiceControl } from './service-control.js';
import { runCommand, serviceEnv, type ServiceEnv } from './service-env.js';
import { UpdateError } from './update-error.js';
import { acquireLock } from './update-lock.js';
import { currentRelease, maxVersion, readState, versionOf, writeState, type UpdateState } from './update-state.js';
import { checkVersionRules } from './versions.js';

/**
 * The offline updater (`agentik update`): installs a verified bundle next to the running release
 * and switches to it only after a backup, the new release's own migrations and a health gate;
 * anything failing from the migration on puts the previous release and its data back. Every step
 * is journaled before it starts, so `recover` can finish or undo an update that was interrupted
 * at any point (the unit runs it before every start).
 */

export interface UpdaterOptions {
  /** A prefix for /opt/agentik-os, /etc/agentik-os and /var/lib/agentik-os (`/` on a real system). */
  installRoot: string;
  /** Confirms a rollback (which loses the data written since the update). */
  yes?: boolean;
  /** Allows installing the version that is running. */
  reinstall?: boolean;
  /** How long `/ready` may take to answer 200 after a start (default 60 s). */
  healthTimeoutMs?: number;
  /** How long `/ready` must then keep answering 200 (default 10 s; shorter only in tests). */
  healthStableMs?: number;
  /** A command called with `stop` or `start` instead of systemctl. */
  serviceCommand?: string;
  /** Postgres without pg_dump: go ahead without a backup, the operator has their own. */
  noBackup?: boolean;
  /**
   * Postgres: the URL pg_dump and pg_restore connect with, a role that can read every tenant
   * schema (default: AGENTIK_DATABASE_URL, whose login role cannot read tenant schemas).
   */
  pgDumpUrl?: string;
  /** Run from the unit's ExecStartPre: fix files only, never stop or start the service. */
  boot?: boolean;
  /** The machine's arch in the bundle's spelling (default: this process's). */
  arch?: string;
  /** Tests only: SIGKILL this process right after this journal step is written. */
  killAfter?: JournalStep;
  log: Log;
  /** Progress lines for the operator. */
  out(line: string): void;
  /** The environment (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface CheckReport {
  current: string | undefined;
  floor: string | undefined;
  candidate: string;
  keyFingerprint: string;
  bundleSha256: string;
  /** New migration files, per set. */
  newMigrations: { master: string[]; tenant: string[] };
}

export interface StatusReport {
  current: string | undefined;
  floor: string | undefined;
  previous: { release: string; backupCreatedAt: string | undefined } | undefined;
  releases: string[];
  recovered: 'nothing' | 'undone' | 'finished' | 'busy';
  lastAudit: Record<string, unknown> | undefined;
}

const DEFAULT_HEALTH_TIMEOUT_MS = 60_000;

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');

function migrationFiles(release: string, storage: string, set: string): string[] {
  const dir = path.join(release, 'backends', storage, 'migrations', set);
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.sql')).sort() : [];
}

export class OfflineUpdater {
  readonly layout: Layout;
  private readonly o: UpdaterOptions;
  private svcCache: ServiceEnv | undefined;

  constructor(options: UpdaterOptions) {
    this.o = options;
    this.layout = layoutFor(options.installRoot);
  }

  /** The service's settings, read again after a restore may have replaced the env file. */
  private svc(fresh = false): ServiceEnv {
    if (fresh || !this.svcCache) this.svcCache = serviceEnv(this.layout, this.o.env ?? process.env);
    return this.svcCache;
  }

  private service(): ServiceControl {
    return serviceControl(this.o.serviceCommand, this.svc().env);
  }

  private audit(entry: AuditEntry): void {
    appendAudit(this.layout.auditLog, entry);
    this.o.log.info({ ...entry }, `update ${entry.action}: ${entry.outcome}`);
  }

  private step(step: JournalStep, facts: Partial<JournalFacts> = {}): void {
    journalStep(this.layout.journalFile, step, facts);
    this.o.log.info({ step, ...facts }, `update step: ${step}`);
    this.o.out(`  ${step}`);
    if (this.o.killAfter === step) process.kill(process.pid, 'SIGKILL');
  }

  private ensureDirs(): void {
    mkdirSync(this.layout.updatesDir, { recursive: true, mode: 0o700 });
  }

  private withLock<T>(fn: () => Promise<T>): Promise<T> {
    this.ensureDirs();
    const lock = acquireLock(this.layout.lockFile);
    return fn().finally(() => lock.release());
  }

  private installed(): { state: UpdateState; running: string } {
    const state = readState(this.layout);
    const running = currentRelease(this.layout);
    if (!state || !running) throw new UpdateError('UPDATE_NOT_INSTALLED', `no release is installed under ${this.layout.optDir} (current link missing)`);
    return { state, running };
  }

  /** Fetches, extracts and verifies a bundle into `stage`, and applies the version rules. */
  private async fetchAndVerify(source: string, stage: string, running: string | undefined, floor: string | undefined) {
    mkdirSync(stage, { recursive: true, mode: 0o700 });
    const file = await fetchBundle(source, this.o.arch ?? bundleArch(), stage);
    const bundleSha256 = await sha256OfFile(file);
    const extracted = await extractBundle(file, path.join(stage, 'bundle'));
    return { bundleSha256, extracted, verify: () => verifyBundle(extracted.root, { trustedKeysDir: this.layout.trustedKeysDir, arch: this.o.arch, top: extracted.top }), running, floor };
  }

  private rules(verified: VerifiedBundle, running: string | undefined, floor: string | undefined): void {
    checkVersionRules({ candidate: verified.manifest.version, running: running && versionOf(running), floor, reinstall: this.o.reinstall ?? false });
    if (!verified.manifest.files.some((f) => f.path === 'bin/agentik')) {
      throw new UpdateError('UPDATE_MANIFEST_INVALID', 'the bundle has no bin/agentik');
    }
  }

  /** `check`: what `apply` would do with this bundle, changing nothing. */
  async check(source: string): Promise<CheckReport> {
    this.ensureDirs();
    const state = readState(this.layout);
    const running = currentRelease(this.layout);
    const stage = path.join(this.layout.stagingDir, `check-${process.pid}-${stamp()}`);
    try {
      const fetched = await this.fetchAndVerify(source, stage, running, state?.floor);
      const verified = await fetched.verify();
      this.rules(verified, running, state?.floor);
      const storage = this.svc().storage;
      const newMigrations = { master: [] as string[], tenant: [] as string[] };
      for (const set of ['master', 'tenant'] as const) {
        const old = new Set(running ? migrationFiles(releaseDir(this.layout, running), storage, set) : []);
        newMigrations[set] = migrationFiles(fetched.extracted.root, storage, set).filter((f) => !old.has(f));
      }
      const report: CheckReport = {
        current: running && versionOf(running),
        floor: state?.floor,
        candidate: verified.manifest.version,
        keyFingerprint: verified.keyFingerprint,
        bundleSha256: fetched.bundleSha256,
        newMigrations,
      };
      this.audit({ action: 'check', outcome: 'checked', from: report.current, to: report.candidate, keyFingerprint: report.keyFingerprint, bundleSha256: report.bundleSha256 });
      return report;
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  }

  /** A release folder name for `version` that is not the running release (see {@link versionOf}). */
  private releaseNameFor(version: string, running: string): string {
    if (version !== running) return version;
    for (let n = 1; ; n += 1) if (`${version}~r${n}` !== running) return `${version}~r${n}`;
  }

  /** `apply`: the whole update, or the previous release back with its data and a non-zero exit. */
  async apply(source: string): Promise<{ from: string; to: string }> {
    return this.withLock(async () => {
      await this.recoverLocked();
      const { state, running } = this.installed();
      const journalFile = this.layout.journalFile;
      startJournal(journalFile, { op: 'apply', from: running, startedAt: new Date().toISOString() });
      this.step('lock');
      const stage = path.join(this.layout.stagingDir, `apply-${process.pid}-${stamp()}`);
      let verified: VerifiedBundle;
      let bundleSha256: string | undefined;
      let root: string;
      try {
        this.step('extract');
        const fetched = await this.fetchAndVerify(source, stage, running, state.floor);
        bundleSha256 = fetched.bundleSha256;
        root = fetched.extracted.root;
        this.step('verify', { bundleSha256 });
        verified = await fetched.verify();
        this.rules(verified, running, state.floor);
        checkBackupPossible(this.svc(), this.o.noBackup ?? false);
      } catch (error) {
        rmSync(stage, { recursive: true, force: true });
        clearJournal(journalFile);
        const e = error as Error;
        this.audit({ action: 'apply', outcome: 'refused', from: versionOf(running), bundleSha256, detail: `${(e as UpdateError).code ?? 'ERROR'}: ${e.message}` });
        throw error;
      }
      const version = verified.manifest.version;
      const to = this.releaseNameFor(version, running);
      const target = releaseDir(this.layout, to);
      this.step('install', { to, newRelease: true, keyFingerprint: verified.keyFingerprint });
      rmSync(target, { recursive: true, force: true });
      mkdirSync(this.layout.releasesDir, { recursive: true });
      renameSync(root, target);
      fsyncDir(this.layout.releasesDir);
      rmSync(stage, { recursive: true, force: true });

      const backup = `${running}-before-${to}-${stamp()}`;
      let failedStep: JournalStep = 'stop';
      try {
        this.step((failedStep = 'stop'));
        await this.service().stop();
        this.step((failedStep = 'backup'), { backup });
        await takeBackup(this.layout, this.svc(), path.join(this.layout.backupsDir, backup), running, versionOf(running), this.o.noBackup ?? false, this.o.pgDumpUrl ?? this.svc().databaseUrl);
        this.step((failedStep = 'migrate'));
        await this.migrate(to);
        this.step((failedStep = 'switch'));
        switchCurrent(this.layout, to);
        this.step((failedStep = 'start'));
        await this.service().start();
        this.step((failedStep = 'health'));
        await this.healthGate(to);
      } catch (error) {
        const reason = `failed at ${failedStep}: ${(error as Error).message}`;
        this.o.log.error({ step: failedStep, err: error }, 'update failed; restoring the previous release');
        this.o.out(reason);
        this.o.out(`restoring ${running}${reached(readJournal(journalFile)!, 'migrate') ? ' and its data' : ''}`);
        await this.undoApply(readJournal(journalFile)!, reason);
        throw new UpdateError('UPDATE_ROLLED_BACK', `update to ${version} ${reason}; ${versionOf(running)} is running again with its data`);
      }
      this.step('commit');
      this.commit(readJournal(journalFile)!.facts);
      return { from: versionOf(running), to: version };
    });
  }

  /** Runs the new release's own `agentik migrate`, with the service's settings, as the service user. */
  private async migrate(release: string): Promise<void> {
    const svc = this.svc();
    const result = await runCommand(path.join(releaseDir(this.layout, release), 'bin', 'agentik'), ['migrate'], { env: svc.env, as: svc.owner });
    if (result.code !== 0) throw new UpdateError('UPDATE_MIGRATION_FAILED', `agentik migrate exited ${result.code}: ${result.output}`);
  }

  /**
   * `/ready` answers 200 within the timeout and stays so, then the release's own code reads every
   * tenant store (or a sample): `/ready` alone misses a tenant store a migration broke.
   */
  private async healthGate(release: string, restoring = false): Promise<void> {
    const svc = this.svc();
    // A short --health-timeout is meant for the new release; the old one gets at least the default.
    const timeoutMs = Math.max(this.o.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS, restoring ? DEFAULT_HEALTH_TIMEOUT_MS : 0);
    await waitReadyAndStable({ baseUrl: svc.baseUrl, timeoutMs, stableMs: this.o.healthStableMs ?? 10_000 });
    const result = await runCommand(path.join(releaseDir(this.layout, release), 'bin', 'agentik'), ['update', 'read-stores'], { env: svc.env, as: svc.owner, timeoutMs: 300_000 });
    if (result.code !== 0) throw new UpdateError('UPDATE_HEALTH_FAILED', `reading the tenant stores failed: ${result.output}`);
    this.o.out(`  ${result.output.split('\n').at(-1)}`);
  }

  /** Records the new release as committed: the floor rises, N-1 and its backup are kept, older ones go. */
  private commit(facts: JournalFacts): void {
    const state = readState(this.layout)!;
    const to = facts.to!;
    const next: UpdateState = {
      floor: maxVersion(state.floor, versionOf(to)),
      current: to,
      previous: facts.backup ? { release: facts.from, backup: facts.backup } : undefined,
      updatedAt: new Date().toISOString(),
    };
    writeState(this.layout, next);
    if (currentRelease(this.layout) !== to) switchCurrent(this.layout, to);
    for (const name of existsSync(this.layout.releasesDir) ? readdirSync(this.layout.releasesDir) : []) {
      if (name !== to && name !== facts.from) rmSync(releaseDir(this.layout, name), { recursive: true, force: true });
    }
    for (const name of existsSync(this.layout.backupsDir) ? readdirSync(this.layout.backupsDir) : []) {
      if (name !== facts.backup) rmSync(path.join(this.layout.backupsDir, name), { recursive: true, force: true });
    }
    rmSync(this.layout.stagingDir, { recursive: true, force: true });
    this.audit({ action: 'apply', outcome: 'committed', from: versionOf(facts.from), to: versionOf(to), keyFingerprint: facts.keyFingerprint, bundleSha256: facts.bundleSha256 });
    clearJournal(this.layout.journalFile);
    this.o.out(`committed ${versionOf(to)} (floor ${next.floor}; rollback to ${versionOf(facts.from)} available)`);
  }

  /**
   * Puts the release an apply started from back, with its data when the migration may have run.
   * Safe to run again if interrupted. In boot mode the service is neither stopped nor started.
   */
  private async undoApply(journal: Journal, reason: string): Promise<void> {
    const { facts } = journal;
    const boot = this.o.boot ?? false;
    const serviceTouched = reached(journal, 'stop');
    const dataTouched = reached(journal, 'migrate');
    this.step('restore');
    try {
      if (serviceTouched && !boot) await this.service().stop();
      if (dataTouched) await restoreFromBackup(this.layout, this.svc(), path.join(this.layout.backupsDir, facts.backup!), this.o.pgDumpUrl ?? this.svc().databaseUrl);
      if (currentRelease(this.layout) !== facts.from) switchCurrent(this.layout, facts.from);
      if (facts.newRelease && facts.to && facts.to !== facts.from) rmSync(releaseDir(this.layout, facts.to), { recursive: true, force: true });
      if (!dataTouched && facts.backup) rmSync(path.join(this.layout.backupsDir, facts.backup), { recursive: true, force: true });
      rmSync(this.layout.stagingDir, { recursive: true, force: true });
    } catch (error) {
      // The journal stays: `recover` (or the next start of the unit) tries again.
      this.audit({ action: 'apply', outcome: 'failed', from: versionOf(facts.from), to: facts.to && versionOf(facts.to), detail: `${reason}; restoring failed: ${(error as Error).message}` });
      throw new UpdateError('UPDATE_RESTORE_FAILED', `${reason}; restoring ${versionOf(facts.from)} failed: ${(error as Error).message}; run agentik update recover`);
    }
    // Files and data are consistent again: whatever the health of the old release, the journal ends here.
    clearJournal(this.layout.journalFile);
    if (serviceTouched && !boot) await this.confirmRunning(facts.from, 'apply', reason, facts);
    this.audit({ action: 'apply', outcome: 'rolled-back', from: versionOf(facts.from), to: facts.to && versionOf(facts.to), keyFingerprint: facts.keyFingerprint, bundleSha256: facts.bundleSha256, detail: reason });
  }

  /** Starts `release` and passes it through the health gate; failing that is the operator's to handle. */
  private async confirmRunning(release: string, action: AuditEntry['action'], reason: string, facts: JournalFacts): Promise<void> {
    this.svc(true);
    try {
      await this.service().start();
      await this.healthGate(release, true);
    } catch (error) {
      this.audit({ action, outcome: 'failed', from: versionOf(facts.from), to: facts.to && versionOf(facts.to), detail: `${reason}; ${versionOf(release)} restored but not healthy: ${(error as Error).message}` });
      throw new UpdateError('UPDATE_RESTORE_FAILED', `${reason}; ${versionOf(release)} and its data are back in place but it is not healthy: ${(error as Error).message}`);
    }
  }

  /** `rollback`: back to release N-1 with the data backed up before the update to N. */
  async rollback(): Promise<{ from: string; to: string }> {
    return this.withLock(async () => {
      await this.recoverLocked();
      const { state, running } = this.installed();
      const previous = state.previous;
      const info = previous && readBackupInfo(path.join(this.layout.backupsDir, previous.backup));
      if (!previous || !info || !existsSync(releaseDir(this.layout, previous.release))) {
        throw new UpdateError('UPDATE_NOTHING_TO_ROLL_BACK', `there is no previous release to roll back to from ${versionOf(running)} (a rollback is possible once, after a committed update)`);
      }
      const warning = `rollback to ${versionOf(previous.release)} restores the data backed up at ${info.createdAt}, before the update to ${versionOf(running)}: everything written since is lost`;
      if (!this.o.yes) throw new UpdateError('UPDATE_CONFIRMATION_REQUIRED', `${warning}. Run again with --yes to go ahead.`);
      this.o.out(warning);
      startJournal(this.layout.journalFile, { op: 'rollback', from: running, to: previous.release, backup: previous.backup, startedAt: new Date().toISOString() });
      this.step('lock');
      await this.finishRollback(readJournal(this.layout.journalFile)!);
      return { from: versionOf(running), to: versionOf(previous.release) };
    });
  }

  /** Carries a rollback through from wherever it stopped (every step can run again). */
  private async finishRollback(journal: Journal): Promise<void> {
    const { facts } = journal;
    const boot = this.o.boot ?? false;
    const to = facts.to!;
    try {
      this.step('stop');
      if (!boot) await this.service().stop();
      this.step('restore');
      await restoreFromBackup(this.layout, this.svc(), path.join(this.layout.backupsDir, facts.backup!), this.o.pgDumpUrl ?? this.svc().databaseUrl);
      this.step('switch');
      switchCurrent(this.layout, to);
    } catch (error) {
      this.audit({ action: 'rollback', outcome: 'failed', from: versionOf(facts.from), to: versionOf(to), detail: (error as Error).message });
      throw error instanceof UpdateError ? error : new UpdateError('UPDATE_RESTORE_FAILED', `rollback failed: ${(error as Error).message}; run agentik update recover`);
    }
    this.step('commit');
    const state = readState(this.layout)!;
    writeState(this.layout, { floor: state.floor, current: to, updatedAt: new Date().toISOString() });
    clearJournal(this.layout.journalFile);
    if (!boot) await this.confirmRunning(to, 'rollback', `rollback to ${versionOf(to)}`, facts);
    this.audit({ action: 'rollback', outcome: 'committed', from: versionOf(facts.from), to: versionOf(to) });
    this.o.out(`rolled back to ${versionOf(to)} (floor stays ${state.floor})`);
  }

  /**
   * `recover`: finishes or undoes an interrupted update. At boot (the unit's ExecStartPre), a
   * journal whose updater is alive is that updater starting the service: it is left alone.
   */
  async recover(): Promise<'nothing' | 'undone' | 'finished' | 'busy'> {
    if (!existsSync(this.layout.journalFile)) return 'nothing';
    try {
      return await this.withLock(() => this.recoverLocked());
    } catch (error) {
      if (this.o.boot && (error as UpdateError).code === 'UPDATE_LOCKED') return 'busy';
      throw error;
    }
  }

  private async recoverLocked(): Promise<'nothing' | 'undone' | 'finished'> {
    const journal = readJournal(this.layout.journalFile);
    if (!journal) return 'nothing';
    const { facts } = journal;
    const last = lastStep(journal);
    this.o.out(`an interrupted ${facts.op} from ${versionOf(facts.from)}${facts.to ? ` to ${versionOf(facts.to)}` : ''} stopped at "${last ?? 'start'}": ${facts.op === 'apply' && last !== 'commit' ? 'undoing it' : 'finishing it'}`);
    this.o.log.warn({ facts, last }, 'recovering an interrupted update');
    if (facts.op === 'rollback') {
      await this.finishRollback(journal);
      this.audit({ action: 'recover', outcome: 'finished', from: versionOf(facts.from), to: versionOf(facts.to!) });
      return 'finished';
    }
    if (last === 'commit') {
      this.commit(facts);
      this.audit({ action: 'recover', outcome: 'finished', from: versionOf(facts.from), to: versionOf(facts.to!) });
      return 'finished';
    }
    await this.undoApply(journal, `interrupted at ${last ?? 'start'}`);
    this.audit({ action: 'recover', outcome: 'restored', from: versionOf(facts.from), to: facts.to && versionOf(facts.to) });
    return 'undone';
  }

  /** `status`: recovers an interrupted update first (unless another updater is running), then reports. */
  async status(): Promise<StatusReport> {
    let recovered: StatusReport['recovered'] = 'nothing';
    try {
      recovered = await this.recover();
    } catch (error) {
      if ((error as UpdateError).code !== 'UPDATE_LOCKED') throw error;
      recovered = 'busy';
    }
    const state = readState(this.layout);
    const current = currentRelease(this.layout);
    const previous = state?.previous;
    let lastAudit: Record<string, unknown> | undefined;
    if (existsSync(this.layout.auditLog)) {
      const lines = readFileSync(this.layout.auditLog, 'utf8').trim().split('\n');
      lastAudit = lines.at(-1) ? (JSON.parse(lines.at(-1)!) as Record<string, unknown>) : undefined;
    }
    return {
      current: current && versionOf(current),
      floor: state?.floor,
      previous: previous && {
        release: versionOf(previous.release),
        backupCreatedAt: readBackupInfo(path.join(this.layout.backupsDir, previous.backup))?.createdAt,
      },
      releases: existsSync(this.layout.releasesDir) ? readdirSync(this.layout.releasesDir).sort() : [],
      recovered,
      lastAudit,
    };
  }
}
