import { createContext, useContext } from 'react';
import type { ApiClient } from './api/client';
import type { Session } from './lib/session';

/** What every page gets from the shell. */
export interface SessionContextValue {
  session: Session;
  /** A client that sends the key (and, for the operator, the chosen tenant). */
  client: ApiClient;
  /** Operator: act in this tenant (slug), or in none. */
  chooseTenant(slug: string | null): void;
  /** Bumped when tenants change, so the switcher reloads. */
  tenantsVersion: number;
  tenantsChanged(): void;
  /** Signs out; the sign-in page then shows `reason` when there is one. */
  signOut(reason: string | null): void;
}

export const SessionContext = createContext<SessionContextValue | null>(null);

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside a signed-in shell');
  return value;
}
