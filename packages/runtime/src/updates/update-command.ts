import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { CliIo } from '../cli/io.js';
import { loadConfig } from '../config/load.js';
import type { Log } from '../lib/log.js';
import { APPLY_STEPS, type JournalStep } from './journal.js';
import { layoutFor } from './layout.js';
import { OfflineUpdater } from './offline-updater.js';
import { probeTenantStores } from './store-probe.js';
import { UPDATE_EXIT, UpdateError } from './update-error.js';

export const UPDATE_USAGE = `usage: agentik update <command> [options]

  check   --source DIR|FILE|http://host/path/file   verify a bundle and print what would change
  apply   --source DIR|FILE|http://host/path/file   verify, back up, migrate, switch, health-check, commit
          [--reinstall] [--health-timeout SECONDS] [--no-backup-i-have-my-own]
          [--pg-dump-url URL]   Postgres: a role that can read every tenant schema, for pg_dump
  rollback --yes                                    back to the previous release and its data
  status                                            versions, floor, rollback target (recovers first)
  recover [--boot]                                  finish or undo an interrupted update

options for all: --install-root DIR (default /), --service-command CMD (called with stop|start;
default systemctl stop|start agentik-os)
exit codes: 0 done, 1 failed, 2 usage, 3 refused (nothing changed), 4 failed and the previous
release was restored, 5 failed and the restore failed too`;

const OPTIONS = {
  source: { type: 'string' },
  'install-root': { type: 'string' },
  yes: { type: 'boolean' },
  reinstall: { type: 'boolean' },
  'health-timeout': { type: 'string' },
  'service-command': { type: 'string' },
  'no-backup-i-have-my-own': { type: 'boolean' },
  'pg-dump-url': { type: 'string' },
  boot: { type: 'boolean' },
  json: { type: 'boolean' },
  // Tests only: a shorter stable window than the 10 s of the health gate, and a SIGKILL of the
  // updater right after a journal step, to prove that `recover` heals every interruption.
  'health-stable-ms': { type: 'string' },
  'test-kill-after': { type: 'string' },
} as const;

function seconds(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+)s?$/.exec(text);
  if (!match) throw new UpdateError('UPDATE_USAGE', `${name} takes a whole number of seconds, not ${JSON.stringify(text)}`);
  return Number(match[1]) * 1000;
}

/**
 * Every step goes to `<updates>/update.log` (pino JSON lines, kept across updates); warnings and
 * errors also to stderr, which the journal of systemd keeps when the unit runs `recover`.
 */
function updaterLog(env: NodeJS.ProcessEnv, installRoot: string): Log {
  const level = (env.AGENTIK_LOG_LEVEL ?? 'info') as pino.Level;
  const dir = layoutFor(installRoot).updatesDir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = pino.destination({ dest: path.join(dir, 'update.log'), append: true, sync: true, mode: 0o600 });
  return pino({ name: 'agentik-update', level }, pino.multistream([{ level, stream: file }, { level: 'warn', stream: process.stderr }]));
}

/** `agentik update ...`; returns the exit code. */
export async function updateCommand(args: string[], io: CliIo, log?: Log): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (sub === 'read-stores') return await readStores(io);
    if (sub === undefined || sub === 'help' || sub === '--help') {
      io.out(UPDATE_USAGE);
      return sub === undefined ? UPDATE_EXIT.usage : UPDATE_EXIT.ok;
    }
    const { values } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: false, strict: true });
    const killAfter = values['test-kill-after'];
    if (killAfter !== undefined && ![...APPLY_STEPS, 'restore'].includes(killAfter)) throw new UpdateError('UPDATE_USAGE', `--test-kill-after: unknown step ${killAfter}`);
    const stable = values['health-stable-ms'];
    if (stable !== undefined && !/^\d+$/.test(stable)) throw new UpdateError('UPDATE_USAGE', '--health-stable-ms takes milliseconds');
    const installRoot = values['install-root'] ?? '/';
    const updater = new OfflineUpdater({
      installRoot,
      yes: values.yes,
      reinstall: values.reinstall,
      healthTimeoutMs: seconds(values['health-timeout'], '--health-timeout'),
      healthStableMs: stable === undefined ? undefined : Number(stable),
      serviceCommand: values['service-command'],
      noBackup: values['no-backup-i-have-my-own'],
      pgDumpUrl: values['pg-dump-url'],
      boot: values.boot,
      killAfter: killAfter as JournalStep | undefined,
      log: log ?? updaterLog(io.env, installRoot),
      out: io.out,
      env: io.env,
    });
    const needSource = () => {
      if (!values.source) throw new UpdateError('UPDATE_USAGE', `update ${sub} needs --source DIR|FILE|http://host/path/file`);
      return values.source;
    };
    switch (sub) {
      case 'check': {
        const r = await updater.check(needSource());
        if (values.json) io.out(JSON.stringify(r));
        else {
          io.out(`bundle ${r.candidate}: signature good (key ${r.keyFingerprint}), every file checked; sha256 ${r.bundleSha256}`);
          io.out(`would update ${r.current ?? '(nothing installed)'} -> ${r.candidate} (version floor ${r.floor ?? 'none'})`);
          for (const set of ['master', 'tenant'] as const) {
            const files = r.newMigrations[set];
            io.out(`  ${set} migrations: ${files.length === 0 ? 'none new' : `${files.length} new (${files.join(', ')})`}`);
          }
          io.out('  steps: stop the service, back up the data and /etc/agentik-os, migrate, switch, start, health gate, commit');
        }
        return UPDATE_EXIT.ok;
      }
      case 'apply': {
        const r = await updater.apply(needSource());
        io.out(`updated ${r.from} -> ${r.to}`);
        return UPDATE_EXIT.ok;
      }
      case 'rollback': {
        const r = await updater.rollback();
        io.out(`rolled back ${r.from} -> ${r.to}`);
        return UPDATE_EXIT.ok;
      }
      case 'recover': {
        const r = await updater.recover();
        io.out(r === 'nothing' ? 'no interrupted update' : r === 'busy' ? 'an updater is running: it finishes its own update' : `interrupted update ${r}`);
        return UPDATE_EXIT.ok;
      }
      case 'status': {
        const s = await updater.status();
        if (values.json) io.out(JSON.stringify(s));
        else {
          if (s.recovered === 'busy') io.out('an update is running right now (another updater holds the lock)');
          io.out(`current: ${s.current ?? 'not installed'}`);
          io.out(`version floor: ${s.floor ?? 'none'} (nothing older is installed again)`);
          io.out(`rollback: ${s.previous ? `to ${s.previous.release} with its data of ${s.previous.backupCreatedAt ?? '(backup missing)'}` : 'none available'}`);
          io.out(`releases: ${s.releases.join(', ') || 'none'}`);
          if (s.lastAudit) io.out(`last: ${JSON.stringify(s.lastAudit)}`);
        }
        return UPDATE_EXIT.ok;
      }
      default:
        throw new UpdateError('UPDATE_USAGE', `unknown update command ${sub ?? ''}`);
    }
  } catch (error) {
    if (error instanceof UpdateError) {
      io.err(`${error.code}: ${error.message}`);
      if (error.code === 'UPDATE_USAGE') io.err(`\n${UPDATE_USAGE}`);
      return error.exitCode;
    }
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`UPDATE_USAGE: ${(error as Error).message}\n\n${UPDATE_USAGE}`);
      return UPDATE_EXIT.usage;
    }
    io.err(`error: ${(error as Error).message}`);
    return UPDATE_EXIT.failed;
  }
}

/** Hidden: `agentik update read-stores`, the health gate's read of the tenant stores, run by the new release. */
async function readStores(io: CliIo): Promise<number> {
  const result = await probeTenantStores(loadConfig(io.env));
  for (const f of result.failures) io.err(`cannot read tenant store ${f}`);
  io.out(`read ${result.read} of ${result.live} live tenant stores${result.failures.length > 0 ? `; ${result.failures.length} failed` : ''}`);
  return result.failures.length === 0 ? UPDATE_EXIT.ok : UPDATE_EXIT.failed;
}
