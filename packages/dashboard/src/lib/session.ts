/** Who is signed in. Kept in sessionStorage only: it ends with the tab, and never reaches localStorage or a cookie. */
export interface Session {
  /** The API key, sent as a bearer token. */
  key: string;
  /** True for the operator key (it manages tenants and acts in one through X-Tenant-ID). */
  operator: boolean;
  /** Operator only: the tenant chosen in the switcher (its slug), or null. */
  tenant: string | null;
  /** Whether the key may manage keys, the budget and read the audit log (owner/admin, or the operator). */
  admin: boolean;
}

const STORAGE_KEY = 'agentik.session';

export function loadSession(storage: Storage = sessionStorage): Session | null {
  try {
    const raw = storage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.key !== 'string' || s.key === '') return null;
    return { key: s.key, operator: s.operator === true, tenant: typeof s.tenant === 'string' ? s.tenant : null, admin: s.admin === true };
  } catch {
    return null;
  }
}

export function saveSession(session: Session, storage: Storage = sessionStorage): void {
  storage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function clearSession(storage: Storage = sessionStorage): void {
  storage.removeItem(STORAGE_KEY);
}
