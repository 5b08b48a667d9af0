import { useState } from 'react';
import { ApiClient, ApiError } from '../api/client';
import { ErrorMessage } from '../components/status';
import type { Session } from '../lib/session';
import { useSubmit } from '../lib/use-action';

/**
 * Works out what a key is: `GET /api/tenants` answers only the operator; a tenant key gets
 * FORBIDDEN there, and then `GET /api/keys` (owner/admin only) tells whether it may administer.
 */
export async function identify(key: string, client = new ApiClient({ key })): Promise<Session> {
  try {
    await client.listTenants();
    return { key, operator: true, tenant: null, admin: true };
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== 'FORBIDDEN') throw error;
  }
  try {
    await client.listKeys();
    return { key, operator: false, tenant: null, admin: true };
  } catch (error) {
    if (error instanceof ApiError && error.code === 'FORBIDDEN') return { key, operator: false, tenant: null, admin: false };
    throw error;
  }
}

export function SignInPage({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [key, setKey] = useState('');
  // Once signed in this page goes away, so it stays busy.
  const { busy, error, onSubmit } = useSubmit(async () => onSignedIn(await identify(key.trim())), { staysBusy: true });

  return (
    <main className="signin" id="main">
      <form className="card signin-card" onSubmit={onSubmit} aria-labelledby="signin-title">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">◆</span> Agentik OS
        </div>
        <h1 id="signin-title">Sign in</h1>
        <p className="muted">Use an API key: the operator key, or a key issued for your tenant.</p>
        <div className="field">
          <label htmlFor="api-key">API key</label>
          <input
            id="api-key"
            type="password"
            autoComplete="off"
            spellCheck={false}
            required
            value={key}
            onChange={(e) => setKey(e.target.value)}
            aria-describedby="api-key-help"
          />
          <p id="api-key-help" className="hint">
            Kept in this browser tab only (session storage) and sent as a bearer token.
          </p>
        </div>
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy || key.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
