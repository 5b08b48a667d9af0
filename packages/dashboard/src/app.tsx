import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Tenant } from '@agentik/shared';
import { ApiClient } from './api/client';
import { ErrorBoundary } from './components/error-boundary';
import { Empty, Loading } from './components/status';
import { clearSession, loadSession, saveSession, type Session } from './lib/session';
import { currentPath, navigate, segments, usePath } from './lib/router';
import { useAsync } from './lib/use-async';
import { SessionContext, useSession, type SessionContextValue } from './session-context';
import { AgentsPage } from './pages/agents';
import { AuditPage } from './pages/audit';
import { CostsPage } from './pages/costs';
import { KeysPage } from './pages/keys';
import { RequestsPage } from './pages/requests';
import { SignInPage } from './pages/sign-in';
import { TenantsPage } from './pages/tenants';

// The chat page (with its markdown and code highlighting) loads when first opened, not with the app.
const ChatPage = lazy(() => import('./pages/chat').then((m) => ({ default: m.ChatPage })));

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
  { path: '/requests', label: 'Requests', tenant: true },
  { path: '/keys', label: 'Keys', tenant: true, adminOnly: true },
  { path: '/audit', label: 'Audit', tenant: true, adminOnly: true },
];

/** Why the app went back to sign-in on its own. */
const KEY_GONE = 'You were signed out: the key you signed in with was revoked or has expired. Sign in with a valid key.';

/** The pages a session may open, and where it lands by default. */
function allowedItems(session: Session): NavItem[] {
  return NAV.filter((n) => (!n.operatorOnly || session.operator) && (!n.adminOnly || session.admin));
}

/** The whole app: the sign-in page, or the signed-in shell. */
export function App() {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [reason, setReason] = useState<string | null>(null);
  const update = useCallback((next: Session | null) => {
    if (next) saveSession(next);
    else clearSession();
    setSession(next);
  }, []);

  const onSignedOut = useCallback(
    (why: string | null) => {
      setReason(why);
      update(null);
    },
    [update],
  );

  if (!session) {
    return (
      <ErrorBoundary>
        <SignInPage
          reason={reason}
          onSignedIn={(s) => {
            update(s);
            setReason(null);
            // A deep link (#/costs) survives sign-in when the key may open that page.
            const first = segments(currentPath())[0];
            if (!allowedItems(s).some((n) => n.path === `/${first}`)) navigate(s.operator ? '/tenants' : '/agents');
          }}
        />
      </ErrorBoundary>
    );
  }
  return (
    <Shell
      session={session}
      update={update}
      onSignedOut={onSignedOut}
    />
  );
}

function Shell({
  session,
  update,
  onSignedOut,
}: {
  session: Session;
  update: (s: Session | null) => void;
  onSignedOut: (reason: string | null) => void;
}) {
  const onKeyGone = useCallback(() => onSignedOut(KEY_GONE), [onSignedOut]);
  const path = usePath();
  const [tenantsVersion, setTenantsVersion] = useState(0);
  // The latest session, for callbacks the client keeps.
  const latest = useRef(session);
  latest.current = session;
  const client = useMemo(() => {
    const c: ApiClient = new ApiClient({
      key: session.key,
      tenant: session.operator ? session.tenant : null,
      onUnauthenticated: onKeyGone,
      // A tenant key told TENANT_NOT_FOUND: its tenant may have been suspended since sign-in.
      onTenantGone: () => {
        if (latest.current.operator) return;
        c.whoami().then(
          (info) => {
            const status = info.tenant?.status ?? 'deleted';
            const s = latest.current;
            if (s.home && s.home.status !== status) update({ ...s, home: { ...s.home, status } });
          },
          () => undefined,
        );
      },
    });
    return c;
  }, [session.key, session.operator, session.tenant, onKeyGone, update]);
  const items = allowedItems(session);
  const first = segments(path)[0] ?? '';
  const current = items.find((n) => n.path === `/${first}`) ?? items[0]!;
  const value = useMemo<SessionContextValue>(
    () => ({
      session,
      client,
      chooseTenant: (slug) => {
        // Everything tenant-scoped starts over: the page is keyed by tenant, and its sub-route
        // (an agent, a conversation of the old tenant) is dropped.
        update({ ...session, tenant: slug });
        navigate(current.path);
      },
      tenantsVersion,
      tenantsChanged: () => setTenantsVersion((v) => v + 1),
      signOut: onSignedOut,
    }),
    [session, client, update, tenantsVersion, current.path, onSignedOut],
  );

  // A new page: move focus to it, so keyboard and screen-reader users start at its content.
  const page = current.path;
  const previous = useRef(page);
  useEffect(() => {
    if (previous.current !== page) document.getElementById('main')?.focus();
    previous.current = page;
  }, [page]);

  const signOut = () => {
    onSignedOut(null);
    navigate('/');
  };

  const suspended = !session.operator && session.home && session.home.status !== 'active';
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
        <p className="identity" data-testid="identity">
          {session.operator ? (
            <>
              <span className="identity-name">Operator</span>
              {session.tenant ? <span className="muted"> · acting as owner in {session.tenant}</span> : null}
            </>
          ) : (
            <>
              <span className="identity-name">{session.home?.name ?? 'Tenant'}</span>
              <span className="muted"> · {session.role}</span>
            </>
          )}
        </p>
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
        <ErrorBoundary resetKey={`${session.tenant ?? ''}|${path}`}>
          {suspended ? (
            <Suspended name={session.home!.name} status={session.home!.status} />
          ) : current.tenant && session.operator && !session.tenant ? (
            <ChooseTenant />
          ) : (
            <Page key={session.tenant ?? ''} item={current} path={path} />
          )}
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
      return (
        <Suspense fallback={<Loading label="Loading the chat…" />}>
          <ChatPage agentId={rest[0] ?? null} conversationId={rest[1] ?? null} />
        </Suspense>
      );
    case '/costs':
      return <CostsPage />;
    case '/requests':
      return <RequestsPage />;
    case '/keys':
      return <KeysPage />;
    case '/audit':
      return <AuditPage />;
    default:
      return null;
  }
}

/** A tenant key whose tenant the operator suspended: its data is out of reach until it is resumed. */
function Suspended({ name, status }: { name: string; status: string }) {
  return (
    <section className="page" aria-labelledby="suspended-title">
      <h1 id="suspended-title">{status === 'suspended' ? 'This tenant is suspended' : 'This tenant is gone'}</h1>
      <div className="alert alert-warn" role="alert">
        <p>
          {status === 'suspended'
            ? `${name} is suspended by the operator: its agents, conversations, costs and keys cannot be used until the operator resumes it.`
            : `${name} has been deleted; this key can no longer be used.`}
        </p>
      </div>
    </section>
  );
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
