/**
 * Names of the per-tenant database objects. Tenant ids are checked against {@link SAFE_ID} before
 * they become part of an identifier, and identifiers are always double-quoted, so an id can never
 * change the meaning of a statement.
 */

/** What a tenant id (or any name put into an identifier) must look like. */
export const SAFE_ID = /^[a-z0-9_]{1,64}$/;

/** The schema that holds the master tables. */
export const MASTER_SCHEMA = 'agentik';

function checked(tenantId: string): string {
  if (!SAFE_ID.test(tenantId)) throw new Error('invalid tenant id');
  return tenantId;
}

/** The schema of a tenant: `t_<tenantId>`. */
export function tenantSchema(tenantId: string): string {
  return `t_${checked(tenantId)}`;
}

/** The role that owns the tenant's schema: `agentik_t_<tenantId>` (NOLOGIN). */
export function tenantRole(tenantId: string): string {
  return `agentik_t_${checked(tenantId)}`;
}

/** A double-quoted SQL identifier (inner quotes doubled). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** What scopes a transaction to one tenant: its role and schema, and the same as SQL. */
export interface TenantScope {
  /** The tenant's role name (unquoted). */
  role: string;
  /** The tenant's schema as a search_path value (quoted). */
  searchPath: string;
  /** `SET LOCAL ROLE ...; SET LOCAL search_path TO ...`, for a simple-protocol query. */
  sql: string;
}

/**
 * The scope of a tenant's transactions. Both names come from {@link tenantRole}/{@link tenantSchema},
 * so they are plain `[a-z0-9_]` words.
 */
export function scopeStatements(tenantId: string): TenantScope {
  const role = tenantRole(tenantId);
  const searchPath = quoteIdent(tenantSchema(tenantId));
  return { role, searchPath, sql: `SET LOCAL ROLE ${quoteIdent(role)}; SET LOCAL search_path TO ${searchPath}` };
}
