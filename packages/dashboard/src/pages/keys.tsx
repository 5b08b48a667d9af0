import { useEffect, useRef, useState } from 'react';
import type { CreatedKey, KeySummary, Role } from '@agentik/shared';
import { AsyncList } from '../components/async-list';
import { ConfirmDialog } from '../components/confirm-dialog';
import { CursorPager } from '../components/cursor-pager';
import { SecretOnce } from '../components/secret-once';
import { SelectField } from '../components/select-field';
import { Empty, ErrorMessage, Notice } from '../components/status';
import { Table } from '../components/table';
import { ROLES } from '../lib/choices';
import { formatDateTime, formatRelative } from '../lib/format';
import { useAction, useSubmit } from '../lib/use-action';
import { useAsync } from '../lib/use-async';
import { mayManageRole } from '../lib/session';
import { useSession } from '../session-context';

export function KeysPage() {
  const { client, session, signOut } = useSession();
  const [cursor, setCursor] = useState<string | null>(null);
  const keys = useAsync(() => client.listKeys(cursor), [client, cursor]);
  const [created, setCreated] = useState<CreatedKey | null>(null);
  // Set once a new key's panel was dismissed: the form that replaces it takes the focus.
  const [afterSecret, setAfterSecret] = useState(false);
  const [confirming, setConfirming] = useState<KeySummary | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const { error, run } = useAction();

  const revoke = (key: KeySummary) =>
    run(async () => {
      await client.revokeKey(key.id);
      setConfirming(null);
      // The key this browser signed in with no longer works: back to sign-in, saying why.
      if (key.id === session.keyId) return signOut('You revoked the key you were signed in with, so you were signed out. Sign in with another key.');
      setNotice(`Key ${key.name ?? key.prefix} revoked.`);
      keys.reload();
    });

  return (
    <section className="page" aria-labelledby="keys-title">
      <h1 id="keys-title">API keys</h1>
      {created ? (
        <SecretOnce
          secret={created.key}
          label={`New ${created.role} key${created.name ? ` "${created.name}"` : ''}`}
          onDone={() => {
            setCreated(null);
            setAfterSecret(true);
          }}
        />
      ) : (
        <CreateKey
          focusName={afterSecret}
          onCreated={(k) => {
            setCreated(k);
            setNotice(null);
            keys.reload();
          }}
        />
      )}
      {notice ? <Notice>{notice}</Notice> : null}
      <ErrorMessage error={error} />
      {confirming ? (
        <ConfirmDialog
          titleId="revoke-title"
          title={`Revoke ${confirming.name ?? confirming.prefix}?`}
          confirmLabel="Revoke key"
          onConfirm={() => void revoke(confirming)}
          onCancel={() => setConfirming(null)}
        >
          {confirming.id === session.keyId ? (
            <p className="alert alert-warn" data-testid="own-key-warning">
              <strong>This is the key you are signed in with.</strong> Revoking it signs you out of the dashboard at once.
            </p>
          ) : null}
          <p>Anything that uses this key stops working at once.</p>
        </ConfirmDialog>
      ) : null}
      <h2>Keys of this tenant</h2>
      <AsyncList list={keys} loadingLabel="Loading keys…" empty={<Empty title="No keys yet." />}>
        {(rows) => (
          <Table
            caption="API keys"
            rows={rows}
            rowKey={(k) => k.id}
            columns={[
              {
                header: 'Name',
                cell: (k) => (
                  <>
                    {k.name ?? <span className="muted">unnamed</span>}
                    {k.id === session.keyId ? <span className="badge you">you</span> : null}
                  </>
                ),
              },
              { header: 'Key', cell: (k) => <code>{k.prefix}…</code> },
              { header: 'Role', cell: (k) => k.role },
              { header: 'Created', cell: (k) => formatDateTime(k.createdAt) },
              { header: 'Last used', cell: (k) => formatRelative(k.lastUsedAt) },
              {
                header: 'Status',
                cell: (k) =>
                  k.revokedAt ? <span className="badge badge-deleted">revoked</span> : <span className="badge badge-active">active</span>,
              },
              {
                header: 'Actions',
                cell: (k) =>
                  k.revokedAt || !mayManageRole(session, k.role) ? (
                    <span className="muted">{k.revokedAt ? '—' : `only an ${k.role} or the operator`}</span>
                  ) : (
                    <button type="button" className="button-small button-danger" onClick={() => setConfirming(k)} aria-label={`Revoke ${k.name ?? k.prefix}`}>
                      Revoke
                    </button>
                  ),
              },
            ]}
          />
        )}
      </AsyncList>
      <CursorPager cursor={cursor} nextCursor={keys.data?.nextCursor} onPage={setCursor} />
    </section>
  );
}

function CreateKey({ onCreated, focusName }: { onCreated: (k: CreatedKey) => void; focusName: boolean }) {
  const { client, session } = useSession();
  const [name, setName] = useState('');
  const nameField = useRef<HTMLInputElement>(null);
  // Shown again after a new key's panel: the panel that had the focus is gone, so the focus goes
  // to what comes next here, the name of another key (not back to the top of the page).
  useEffect(() => {
    if (focusName) nameField.current?.focus();
  }, [focusName]);
  const [role, setRole] = useState<Role>('member');
  const { busy, error, onSubmit } = useSubmit(async () => {
    onCreated(await client.createKey({ role, ...(name.trim() ? { name: name.trim() } : {}) }));
    setName('');
  });
  return (
    <form className="card" onSubmit={onSubmit} aria-labelledby="new-key-title">
      <h2 id="new-key-title">New key</h2>
      <div className="grid">
        <div className="field">
          <label htmlFor="key-name">Key name</label>
          <input id="key-name" ref={nameField} maxLength={100} placeholder="e.g. support bot" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <SelectField id="key-role" label="Role" value={role} options={ROLES.filter((r) => mayManageRole(session, r))} onChange={setRole} />
      </div>
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy}>
        {busy ? 'Creating…' : 'Create key'}
      </button>
    </form>
  );
}
