import type pg from 'pg';
import { PostgresSetupError } from './errors.js';

interface RoleFacts {
  name: string;
  rolsuper: boolean;
  rolinherit: boolean;
  rolcreaterole: boolean;
  can_create: boolean;
}

/**
 * Refuses a login role that would make tenant isolation a convention instead of a rule:
 * a superuser bypasses every privilege check, and an INHERIT role would hold the privileges of
 * every tenant role it is a member of without switching. It must also be able to create the
 * tenant roles and schemas. Each message says how to fix the role.
 */
export async function checkLoginRole(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<RoleFacts>(
    `SELECT current_user AS name, rolsuper, rolinherit, rolcreaterole,
            has_database_privilege(current_database(), 'CREATE') AS can_create
       FROM pg_roles WHERE rolname = current_user`,
  );
  const r = rows[0];
  if (!r) throw new PostgresSetupError('cannot read the login role from pg_roles');
  const who = `AGENTIK_DATABASE_URL logs in as "${r.name}"`;
  if (r.rolsuper) {
    throw new PostgresSetupError(
      `${who}, a superuser: superusers bypass the per-tenant privileges that isolate tenants. ` +
        'Log in as a dedicated role instead: CREATE ROLE agentik LOGIN CREATEROLE NOINHERIT PASSWORD \'...\'; ' +
        'CREATE DATABASE agentik OWNER agentik; (see docs/postgres.md)',
    );
  }
  if (r.rolinherit) {
    throw new PostgresSetupError(
      `${who}, which has INHERIT: it would read every tenant's schema without switching role. ` +
        `Fix it with: ALTER ROLE "${r.name}" NOINHERIT;`,
    );
  }
  if (!r.rolcreaterole) {
    throw new PostgresSetupError(`${who}, which cannot create the per-tenant roles. Fix it with: ALTER ROLE "${r.name}" CREATEROLE;`);
  }
  if (!r.can_create) {
    throw new PostgresSetupError(
      `${who}, which may not create schemas in this database. Make it the owner: ALTER DATABASE <name> OWNER TO "${r.name}";`,
    );
  }
}
