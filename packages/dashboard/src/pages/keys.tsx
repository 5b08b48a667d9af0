import { useState, type FormEvent } from 'react';
import type { CreatedKey, KeySummary, Role } from '@agentik/shared';
import { SecretOnce } from '../components/secret-once';
import { Empty, ErrorMessage, Loading, Notice } from '../components/status';
import { Table } from '../components/table';
import { formatDateTime, formatRelative } from '../lib/format';
import { useAsync } from '../lib/use-async';
import { useSession } from '../session-context';
import { ROLES } from './tenants';

export function KeysPage() {
  const { client } = useSession();
  const [cursor, setCursor] = useState<string | null>(null);
  const keys = useAsync(() => client.listKeys(cursor), [client, cursor]);
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [confirming, setConfirming] = useState<KeySummary | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const revoke = async (key: KeySummary) => {
    setError(null);
    try {
      await client.revokeKey(key.id);
      setConfirming(null);
      setNotice(`Key ${key.name ?? key.prefix} revoked.`);
      keys.reload();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <section className="page" aria-labelledby="keys-title">
      <h1 id="keys-title">API keys</h1>
      {created ? (
        <SecretOnce secret={created.key} label={`New ${created.role} key${created.name ? ` "${created.name}"` : ''}`} onDone={() => setCreated(null)} />
      ) : (
        <CreateKey
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
        <div className="card card-danger" role="alertdialog" aria-labelledby="revoke-title">
          <h2 id="revoke-title">Revoke {confirming.name ?? confirming.prefix}?</h2>
          <p>Anything that uses this key stops working at once.</p>
          <div className="actions">
            <button type="button" className="button-danger" onClick={() => void revoke(confirming)}>
              Revoke key
            </button>
            <button type="button" className="button-secondary" onClick={() => setConfirming(null)}>
              Cancel
            </button>
          </div>
        </div>
      ) : null}
      <h2>Keys of this tenant</h2>
      {keys.loading && !keys.data ? <Loading label="Loading keys…" /> : null}
      <ErrorMessage error={keys.error} onRetry={keys.reload} />
      {keys.data && keys.data.data.length === 0 ? <Empty title="No keys yet." /> : null}
      {keys.data && keys.data.data.length > 0 ? (
        <Table
          caption="API keys"
          rows={keys.data.data}
          rowKey={(k) => k.id}
          columns={[
            { header: 'Name', cell: (k) => k.name ?? <span className="muted">unnamed</span> },
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
                k.revokedAt ? (
                  <span className="muted">—</span>
                ) : (
                  <button type="button" className="button-small button-danger" onClick={() => setConfirming(k)} aria-label={`Revoke ${k.name ?? k.prefix}`}>
                    Revoke
                  </button>
                ),
            },
          ]}
        />
      ) : null}
      <div className="pager">
        {cursor ? (
          <button type="button" className="button-secondary" onClick={() => setCursor(null)}>
            First page
          </button>
        ) : null}
        {keys.data?.nextCursor ? (
          <button type="button" className="button-secondary" onClick={() => setCursor(keys.data?.nextCursor ?? null)}>
            Next page
          </button>
        ) : null}
      </div>
    </section>
  );
}

function CreateKey({ onCreated }: { onCreated: (k: CreatedKey) => void }) {
  const { client } = useSession();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onCreated(await client.createKey({ role, ...(name.trim() ? { name: name.trim() } : {}) }));
      setName('');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card" onSubmit={(e) => void submit(e)} aria-labelledby="new-key-title">
      <h2 id="new-key-title">New key</h2>
      <div className="grid">
        <div className="field">
          <label htmlFor="key-name">Key name</label>
          <input id="key-name" maxLength={100} placeholder="e.g. support bot" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="key-role">Role</label>
          <select id="key-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy}>
        {busy ? 'Creating…' : 'Create key'}
      </button>
    </form>
  );
}
