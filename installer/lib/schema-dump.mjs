// Prints the schema of a SQLite file (tables, indexes, triggers, views) in a stable order: the
// bundle's schema/master.sql and schema/tenant.sql, and what the tests compare them with.
//   node schema-dump.mjs BETTER_SQLITE3 [ADDON] DATABASE
// BETTER_SQLITE3 is better-sqlite3's module (or the bundle's bin/sqlite-driver.cjs); ADDON, when
// not empty, the better_sqlite3.node to load (the bundle's, for Node 24).
import { createRequire } from 'node:module';

const [driver, addon, file] = process.argv.slice(2);
if (!driver || !file) {
  process.stderr.write('usage: schema-dump.mjs BETTER_SQLITE3 [ADDON] DATABASE\n');
  process.exit(2);
}
const Database = createRequire(import.meta.url)(driver);
const db = new Database(file, { readonly: true, fileMustExist: true, ...(addon ? { nativeBinding: addon } : {}) });
const rows = db
  .prepare(
    `SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
     ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, name`,
  )
  .all();
db.close();
process.stdout.write(rows.map((r) => `${r.sql};\n`).join(''));
