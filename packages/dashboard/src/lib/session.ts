import type { Role, TenantStatus } from '@agentik/shared';

/**
 * Who is signed in. Kept in sessionStorage by default (it ends with the tab); with "remember on
 * this device" it goes to localStorage instead, so other tabs and later visits share it.
 */
export interface Session {
  /** The API key, sent as a bearer token. */
  key: string;
  /** The key's id (`GET /api/session`), to tell the signed-in key in the keys list. */
  keyId: string;
  /** True for the operator key (it manages tenants and acts in one through X-Tenant-ID). */
  operator: boolean;
  /** The key's role; the operator acts as an owner in the tenant it picks. */
  role: Role | 'operator';
  /** Operator only: the tenant chosen in the switcher (its slug), or null. */
  tenant: string | null;
  /** Tenant keys: the key's own tenant, with its status (a suspended tenant is said so). */
  home: { slug: string; name: string; status: TenantStatus } | null;
  /** Whether the key may manage keys, the budget and read the audit log (owner/admin, or the operator). */
  admin: boolean;
  /** Kept in localStorage ("remember on this device") rather than sessionStorage. */
  remember: boolean;
}

const STORAGE_KEY = 'agentik.session';
const ROLES = ['owner', 'admin', 'member', 'viewer', 'operator'] as const;

const RANK = { viewer: 1, member: 2, admin: 3, owner: 4, operator: 5 } as const;

/** Whether the session may issue or revoke a key of `role` (never a stronger one than its own). */
export function mayManageRole(session: Session, role: Role): boolean {
  return RANK[session.role] >= RANK[role];
}

/** What the role may do: write (agents, chat, conversations) and administer (keys, budget, audit). */
export function canWrite(session: Session): boolean {
  return session.role === 'operator' || session.role === 'owner' || session.role === 'admin' || session.role === 'member';
}

function parse(raw: string | null): Session | null {
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.key !== 'string' || s.key === '') return null;
    const role = ROLES.find((r) => r === s.role);
    if (!role) return null;
    const home = s.home && typeof s.home.slug === 'string' ? s.home : null;
    return {
      key: s.key,
      keyId: typeof s.keyId === 'string' ? s.keyId : '',
      operator: role === 'operator',
      role,
      tenant: typeof s.tenant === 'string' ? s.tenant : null,
      home,
      admin: role === 'operator' || role === 'owner' || role === 'admin',
      remember: s.remember === true,
    };
  } catch {
    return null;
  }
}

/** The stored session: this tab's first, then a remembered one. */
export function loadSession(tab: Storage = sessionStorage, device: Storage = localStorage): Session | null {
  return parse(tab.getItem(STORAGE_KEY)) ?? parse(device.getItem(STORAGE_KEY));
}

export function saveSession(session: Session, tab: Storage = sessionStorage, device: Storage = localStorage): void {
  const raw = JSON.stringify(session);
  tab.setItem(STORAGE_KEY, raw);
  if (session.remember) device.setItem(STORAGE_KEY, raw);
  else device.removeItem(STORAGE_KEY);
}

export function clearSession(tab: Storage = sessionStorage, device: Storage = localStorage): void {
  tab.removeItem(STORAGE_KEY);
  device.removeItem(STORAGE_KEY);
}
