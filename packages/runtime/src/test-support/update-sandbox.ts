import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { makeBundleFolder, packBundle, type TestSigner } from './update-bundles.js';
import { freePort, REPO_ROOT } from './spawn-runtime.js';
import { OPERATOR_KEY } from './harness.js';

/**
 * A scratch install root laid out the way the air-gapped installer leaves a machine
 * (`opt/agentik-os/releases/<v>` + `current`, `etc/agentik-os/agentik.env` and `trusted-keys/`,
 * `var/lib/agentik-os`), with fake releases whose `bin/agentik` is a shell script running the dev
 * runtime (the real server, migrations and SQLite files), and a service script for
 * `--service-command` that starts and stops it.
 */

export type ReleaseKind = 'good' | 'broken-migration' | 'never-ready';

export interface Sandbox {
  root: string;
  port: number;
  baseUrl: string;
  dataDir: string;
  bundles: string;
  /** The `--service-command` value. */
  serviceCommand: string;
  /**
   * Builds a signed bundle of `version` into `bundles/` and returns its path. `migrations` names
   * the tables that releases since 1.0.0 added, in order (a release carries all of its
   * predecessors' migrations).
   */
  bundle(version: string, kind?: ReleaseKind, migrations?: string[]): string;
  /** Removes the whole scratch root. */
  remove(): void;
}

const SQLITE_MIGRATIONS = path.join(REPO_ROOT, 'backends', 'sqlite', 'migrations');

/**
 * The releases run the built runtime (`pnpm build`, or the type-check of `pnpm test`, writes
 * it): twice as quick to start as tsx, and these tests start it dozens of times.
 */
const BUILT_MAIN = path.join(REPO_ROOT, 'packages', 'runtime', 'dist', 'cli', 'main.js');

/** The files of a fake release: the repo's migrations plus what `kind` adds, and the wrapper. */
function releaseFiles(kind: ReleaseKind, migrations: string[]): Record<string, string> {
  const files: Record<string, string> = { LICENSE: 'Apache-2.0\n', NOTICE: 'Agentik OS\n' };
  for (const set of ['master', 'tenant']) {
    for (const f of readdirSync(path.join(SQLITE_MIGRATIONS, set))) {
      files[`backends/sqlite/migrations/${set}/${f}`] = readFileSync(path.join(SQLITE_MIGRATIONS, set, f), 'utf8');
    }
  }
  // Each adds a table with a row to the master store and to every tenant store: data that a
  // restore must take away again.
  for (const [i, table] of migrations.entries()) {
    for (const set of ['master', 'tenant']) {
      files[`backends/sqlite/migrations/${set}/${String(90 + i).padStart(4, '0')}_${table}.sql`] = `CREATE TABLE ${table} (id INTEGER PRIMARY KEY, note TEXT);\nINSERT INTO ${table} (note) VALUES ('${set}');\n`;
    }
  }
  if (kind === 'broken-migration') {
    files[`backends/sqlite/migrations/tenant/${String(90 + migrations.length).padStart(4, '0')}_broken.sql`] = 'ALTER TABLE no_such_table ADD COLUMN x TEXT;\n';
  }
  const serve = kind === 'never-ready' ? '[ "$1" = serve ] && exec sleep 600\n' : '';
  files['bin/agentik'] = `#!/bin/sh
# A test release: the dev runtime with this release's migrations.
here=$(cd "$(dirname "$0")/.." && pwd)
export AGENTIK_MIGRATIONS_DIR="$here/backends/sqlite/migrations"
${serve}cd ${JSON.stringify(REPO_ROOT)} || exit 1
exec ${JSON.stringify(process.execPath)} packages/runtime/dist/cli/main.js "$@"
`;
  return files;
}

export async function makeSandbox(signer: TestSigner): Promise<Sandbox> {
  if (!existsSync(BUILT_MAIN)) throw new Error(`${BUILT_MAIN} is missing: run pnpm build first`);
  const root = mkdtempSync(path.join(tmpdir(), 'agentik-update-'));
  const port = await freePort();
  const dataDir = path.join(root, 'var/lib/agentik-os');
  const etc = path.join(root, 'etc/agentik-os');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  mkdirSync(path.join(etc, 'trusted-keys'), { recursive: true });
  mkdirSync(path.join(root, 'opt/agentik-os/releases'), { recursive: true });
  signer.exportKey(path.join(etc, 'trusted-keys', 'release.asc'));
  writeFileSync(
    path.join(etc, 'agentik.env'),
    [
      '# written by the test, as the installer would',
      `AGENTIK_HOST=127.0.0.1`,
      `AGENTIK_PORT=${port}`,
      `AGENTIK_DATA_DIR=${dataDir}`,
      'AGENTIK_STORAGE=sqlite',
      `AGENTIK_OPERATOR_KEY="${OPERATOR_KEY}"`,
      'AGENTIK_LOG_LEVEL=warn',
      '',
    ].join('\n'),
  );
  const script = path.join(root, 'service.sh');
  writeFileSync(
    script,
    `#!/bin/sh
# start|stop the runtime of the sandbox, as systemd would with the unit.
root=${JSON.stringify(root)}
pidfile="$root/service.pid"
case "$1" in
  start)
    set -a; . "$root/etc/agentik-os/agentik.env"; set +a
    nohup "$root/opt/agentik-os/current/bin/agentik" serve >>"$root/service.log" 2>&1 &
    echo $! >"$pidfile" ;;
  stop)
    [ -f "$pidfile" ] || exit 0
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null
    rm -f "$pidfile" ;;
  *) exit 2 ;;
esac
`,
    { mode: 0o755 },
  );
  const bundles = path.join(root, 'bundles');
  const work = path.join(root, 'work');
  let n = 0;
  return {
    root,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    dataDir,
    bundles,
    serviceCommand: script,
    bundle(version, kind = 'good', migrations = []) {
      n += 1;
      const folder = makeBundleFolder(path.join(work, String(n)), version, signer, releaseFiles(kind, migrations));
      const dest = path.join(bundles, String(n));
      return packBundle(folder, dest);
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Installs `version` as the installer would: files under releases/, `current`, no state yet. */
export function installFirst(sandbox: Sandbox, signer: TestSigner, version: string): void {
  const folder = makeBundleFolder(path.join(sandbox.root, 'work', `install-${version}`), version, signer, releaseFiles('good', []));
  const release = path.join(sandbox.root, 'opt/agentik-os/releases', version);
  cpSync(folder, release, { recursive: true });
  symlinkSync(path.join('releases', version), path.join(sandbox.root, 'opt/agentik-os/current'));
}

/**
 * A fingerprint of every table of master.db and every tenant file: row counts and a checksum of
 * the rows, plus the schema, to compare data before and after an update.
 */
export function dataFingerprint(dataDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const files = ['master.db', ...(existsSync(path.join(dataDir, 'tenants')) ? readdirSync(path.join(dataDir, 'tenants')).filter((f) => f.endsWith('.db')).map((f) => `tenants/${f}`) : [])];
  for (const rel of files) {
    const db = new Database(path.join(dataDir, rel), { readonly: true, fileMustExist: true });
    try {
      const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string; sql: string }[];
      for (const t of tables) {
        const rows = db.prepare(`SELECT * FROM "${t.name.replace(/"/g, '""')}" ORDER BY 1`).raw().all();
        out[`${rel}:${t.name}`] = `${rows.length}:${createHash('sha256').update(t.sql).update(JSON.stringify(rows, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v))).digest('hex').slice(0, 16)}`;
      }
    } finally {
      db.close();
    }
  }
  return out;
}
