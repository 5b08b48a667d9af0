import { existsSync } from 'node:fs';
import path from 'node:path';
import { isSea } from 'node:sea';

/**
 * Where the runtime finds the files that ship beside its code (migrations, the dashboard build,
 * better-sqlite3's native addon).
 *
 * From a checkout (sources under Vitest/tsx, or the compiled `dist/`) they are found by walking
 * up from the module's own location. The offline bundle's standalone executable (a Node single
 * executable application, one CommonJS file injected into Node's binary) has no module location:
 * `import.meta.url` is empty there, so the release folder is the one holding `bin/agentik`:
 *
 *   <release>/bin/agentik, <release>/bin/better_sqlite3.node, <release>/bin/sqlite-driver.cjs,
 *   <release>/backends/<storage>/migrations, <release>/dashboard
 */
export function releaseRoot(): string | undefined {
  return isSea() ? path.dirname(path.dirname(process.execPath)) : undefined;
}

/**
 * The first `<dir>/<relative>` that exists, walking up from `start` to the file system root;
 * undefined when none does.
 */
export function findUpwards(start: string, relative: string): string | undefined {
  let dir = start;
  for (;;) {
    const candidate = path.join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * better-sqlite3 as the standalone executable loads it: its JavaScript bundled into
 * `bin/sqlite-driver.cjs` (for the checkpoint worker, which cannot load code from the
 * executable's embedded script) and its native addon `bin/better_sqlite3.node`, loaded by path.
 * Undefined from a checkout, where `require('better-sqlite3')` finds both itself.
 */
export function bundledSqlite(): { driver: string; addon: string } | undefined {
  const root = releaseRoot();
  if (root === undefined) return undefined;
  return { driver: path.join(root, 'bin', 'sqlite-driver.cjs'), addon: path.join(root, 'bin', 'better_sqlite3.node') };
}
