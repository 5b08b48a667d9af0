import { useEffect, useRef, useState } from 'react';
import { ApiClient, ApiError } from '../api/client';
import { ErrorMessage } from '../components/status';
import type { Session } from '../lib/session';
import { useSubmit } from '../lib/use-action';

/**
 * Works out what a key is from `GET /api/session`, which any valid key may call (no operator
 * route is probed, so a tenant key's sign-in logs no 403).
 */
export async function identify(key: string, remember = false, client = new ApiClient({ key })): Promise<Session> {
  let info;
  try {
    info = await client.whoami();
  } catch (error) {
    if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') {
      throw new ApiError(error.code, 'This key is not valid: it is unknown, revoked or expired.', error.status);
    }
    throw error;
  }
  const role = info.kind === 'operator' ? 'operator' : info.role;
  return {
    key,
    keyId: info.keyId,
    operator: role === 'operator',
    role,
    tenant: null,
    home: info.tenant ? { slug: info.tenant.slug, name: info.tenant.name, status: info.tenant.status } : null,
    admin: role === 'operator' || role === 'owner' || role === 'admin',
    remember,
  };
}

export function SignInPage({ onSignedIn, reason }: { onSignedIn: (session: Session) => void; reason?: string | null }) {
  const [key, setKey] = useState('');
  const [remember, setRemember] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  // Once signed in this page goes away, so it stays busy.
  const { busy, error, onSubmit } = useSubmit(async () => onSignedIn(await identify(key.trim(), remember)), { staysBusy: true });
  // After a failed attempt focus goes back to the key (the button it was on is disabled while busy).
  useEffect(() => {
    if (error) input.current?.focus();
  }, [error]);

  return (
    <main className="signin" id="main">
      <form className="card signin-card" onSubmit={onSubmit} aria-labelledby="signin-title">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">◆</span> Agentik OS
        </div>
        <h1 id="signin-title">Sign in</h1>
        {reason ? (
          <div className="alert alert-warn" role="alert" data-testid="signed-out-reason">
            <p>{reason}</p>
          </div>
        ) : null}
        <p className="muted">Use an API key: the operator key, or a key issued for your tenant.</p>
        <div className="field">
          <label htmlFor="api-key">API key</label>
          <input
            ref={input}
            id="api-key"
            type="password"
            autoComplete="off"
            spellCheck={false}
            required
            value={key}
            onChange={(e) => setKey(e.target.value)}
            aria-describedby={error ? 'api-key-help signin-error' : 'api-key-help'}
            aria-invalid={error ? true : undefined}
          />
          <p id="api-key-help" className="hint">
            Kept in this browser tab only (session storage) and sent as a bearer token, unless you tick the box below.
          </p>
        </div>
        <div className="check">
          <input id="remember" type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} aria-describedby="remember-help" />
          <label htmlFor="remember">Remember on this device</label>
          <span id="remember-help" className="hint">
            Keeps you signed in across tabs and visits (local storage). Leave it off on a shared computer.
          </span>
        </div>
        <div id="signin-error">
          <ErrorMessage error={error} />
        </div>
        <button type="submit" disabled={busy || key.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
