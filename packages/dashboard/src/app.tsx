import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Tenant } from '@agentik/shared';
import { ApiClient } from './api/client';
import { ErrorBoundary } from './components/error-boundary';
import { Empty } from './components/status';
import { clearSession, loadSession, saveSession, type Session } from './lib/session';
import { navigate, segments, usePath } from './lib/router';
import { useAsync } from './lib/use-async';
import { SessionContext, useSession, type SessionContextValue } from './session-context';
import { AgentsPage } from './pages/agents';
import { AuditPage } from './pages/audit';
import { ChatPage } from './pages/chat';
import { CostsPage } from './pages/costs';
import { KeysPage } from './pages/keys';
import { SignInPage } from './pages/sign-in';
import { TenantsPage } from './pages/tenants';

interface NavItem {
  path: string;
  label: string;
  /** Needs a tenant (the operator must pick one first). */
  tenant: boolean;
  operatorOnly?: boolean;
  adminOnly?: boolean;
}

const NAV: NavItem[] = [
  { path: '/tenants', label: 'Tenants', tenant: false, operatorOnly: true },
  { path: '/agents', label: 'Agents', tenant: true },
  { path: '/chat', label: 'Chat', tenant: true },
  { path: '/costs', label: 'Costs', tenant: true },
  { path: '/keys', label: 'Keys', tenant: true, adminOnly: true },
  { path: '/audit', label: 'Audit', tenant: true, adminOnly: true },
];

/** The whole app: the sign-in page, or the signed-in shell. */
export function App() {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const update = useCallback((next: Session | null) => {
    if (next) saveSession(next);
    else clearSession();
    setSession(next);
  }, []);

  if (!session) {
    return (
      <ErrorBoundary>
        <SignInPage
          onSignedIn={(s) => {
            update(s);
            navigate(s.operator ? '/tenants' : '/agents');
          }}
        />
      </ErrorBoundary>
    );
  }
  return <Shell session={session} update={update} />;
}

function Shell({ session, update }: { session: Session; update: (s: Session | null) => void }) {
  const path = usePath();
  const [tenantsVersion, setTenantsVersion] = useState(0);
  const client = useMemo(
    () => new ApiClient({ key: session.key, tenant: session.operator ? session.tenant : null }),
    [session.key, session.operator, session.tenant],
  );
  const value = useMemo<SessionContextValue>(
    () => ({
      session,
      client,
      chooseTenant: (slug) => update({ ...session, tenant: slug }),
      tenantsVersion,
      tenantsChanged: () => setTenantsVersion((v) => v + 1),
    }),
    [session, client, update, tenantsVersion],
  );
  const items = NAV.filter((n) => (!n.operatorOnly || session.operator) && (!n.adminOnly || session.admin));
  const first = segments(path)[0] ?? '';
  const current = items.find((n) => n.path === `/${first}`) ?? items[0]!;

  // A new page: move focus to it, so keyboard and screen-reader users start at its content.
  const page = current.path;
  const previous = useRef(page);
  useEffect(() => {
    if (previous.current !== page) document.getElementById('main')?.focus();
    previous.current = page;
  }, [page]);

  const signOut = () => {
    update(null);
    navigate('/');
  };

  return (
    <SessionContext.Provider value={value}>
      <a className="skip-link" href="#main" onClick={(e) => {
        e.preventDefault();
        document.getElementById('main')?.focus();
      }}>
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">◆</span> Agentik OS
        </div>
        {session.operator ? <TenantSwitcher /> : null}
        <button type="button" className="button-secondary signout" onClick={signOut}>
          Sign out
        </button>
        <nav aria-label="Main" className="nav">
          <ul>
            {items.map((n) => (
              <li key={n.path}>
                <a href={`#${n.path}`} aria-current={n === current ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <ErrorBoundary resetKey={path}>
          {current.tenant && session.operator && !session.tenant ? <ChooseTenant /> : <Page item={current} path={path} />}
        </ErrorBoundary>
      </main>
    </SessionContext.Provider>
  );
}

function Page({ item, path }: { item: NavItem; path: string }) {
  const rest = segments(path).slice(1);
  switch (item.path) {
    case '/tenants':
      return <TenantsPage />;
    case '/agents':
      return <AgentsPage rest={rest} />;
    case '/chat':
      return <ChatPage agentId={rest[0] ?? null} conversationId={rest[1] ?? null} />;
    case '/costs':
      return <CostsPage />;
    case '/keys':
      return <KeysPage />;
    case '/audit':
      return <AuditPage />;
    default:
      return null;
  }
}

function ChooseTenant() {
  return (
    <section className="page" aria-labelledby="choose-title">
      <h1 id="choose-title">Choose a tenant</h1>
      <Empty title="This page shows one tenant's data.">
        <p>
          Pick a tenant in the <strong>Tenant</strong> menu at the top, or create one on the <a href="#/tenants">Tenants</a> page.
        </p>
      </Empty>
    </section>
  );
}

/** Operator: the tenant to act in; requests then carry `X-Tenant-ID`. */
function TenantSwitcher() {
  const { client, session, chooseTenant, tenantsVersion } = useSession();
  const tenants = useAsync(() => collectTenants(client), [client, tenantsVersion]);
  const active = (tenants.data ?? []).filter((t) => t.status === 'active');
  return (
    <div className="switcher">
      <label htmlFor="tenant-switcher">Tenant</label>
      <select
        id="tenant-switcher"
        value={session.tenant ?? ''}
        onChange={(e) => chooseTenant(e.target.value || null)}
        aria-busy={tenants.loading}
      >
        <option value="">{tenants.loading ? 'Loading…' : tenants.error ? 'Could not load tenants' : 'None'}</option>
        {session.tenant && !active.some((t) => t.slug === session.tenant) ? <option value={session.tenant}>{session.tenant}</option> : null}
        {active.map((t) => (
          <option key={t.id} value={t.slug}>
            {t.name} ({t.slug})
          </option>
        ))}
      </select>
    </div>
  );
}

async function collectTenants(client: ApiClient): Promise<Tenant[]> {
  const all: Tenant[] = [];
  let cursor: string | null = null;
  do {
    const page = await client.listTenants(cursor);
    all.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor && all.length < 1000);
  return all;
}
