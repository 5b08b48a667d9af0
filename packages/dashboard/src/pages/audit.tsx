import { useState } from 'react';
import type { AuditEvent } from '@agentik/shared';
import type { ApiClient } from '../api/client';
import { Empty, ErrorMessage, Loading } from '../components/status';
import { Table } from '../components/table';
import { formatDateTime } from '../lib/format';
import { useAsync } from '../lib/use-async';
import { useSession } from '../session-context';

const PAGE_SIZE = 25;
/** The API pages oldest first; this many events are read to show the newest first. */
const MAX_EVENTS = 5000;

async function everything<T>(load: (cursor: string | null) => Promise<{ data: T[]; nextCursor: string | null }>, max: number) {
  const rows: T[] = [];
  let cursor: string | null = null;
  do {
    const page = await load(cursor);
    rows.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor && rows.length < max);
  return { rows, truncated: cursor !== null };
}

async function loadAudit(client: ApiClient) {
  const [audit, keys, agents] = await Promise.all([
    everything((c) => client.listAudit(c, 200), MAX_EVENTS),
    everything((c) => client.listKeys(c), 1000),
    client.listAgents(),
  ]);
  const names = new Map<string, string>();
  for (const k of keys.rows) names.set(`key:${k.id}`, `${k.name ?? k.prefix} (${k.role} key)`);
  for (const a of agents.data) names.set(`agent:${a.id}`, `${a.name} (agent)`);
  return { events: [...audit.rows].reverse(), truncated: audit.truncated, names };
}

/** "name: Support bot, role: member" from an event's details. */
export function readableDetails(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

/** The tenant's audit log, newest first, with names beside ids, a page at a time. */
export function AuditPage() {
  const { client } = useSession();
  const data = useAsync(() => loadAudit(client), [client]);
  const [page, setPage] = useState(0);
  const events = data.data?.events ?? [];
  const pages = Math.max(1, Math.ceil(events.length / PAGE_SIZE));
  const rows = events.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);

  const who = (ref: string | null, names: Map<string, string>) => {
    if (!ref) return '—';
    if (ref.startsWith('operator')) return <span>Operator</span>;
    const name = names.get(ref);
    return (
      <>
        {name ? <span>{name} </span> : null}
        <code className="muted small">{ref}</code>
      </>
    );
  };

  return (
    <section className="page" aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <p className="muted">Who did what in this tenant, newest first. Secrets never appear here.</p>
      {data.loading && !data.data ? <Loading label="Loading the audit log…" /> : null}
      <ErrorMessage error={data.error} onRetry={data.reload} />
      {data.data && events.length === 0 ? <Empty title="Nothing has been audited yet." /> : null}
      {data.data && events.length > 0 ? (
        <Table
          caption="Audit events"
          rows={rows}
          rowKey={(e: AuditEvent) => e.id}
          columns={[
            { header: 'Time', cell: (e) => formatDateTime(e.at) },
            { header: 'Actor', cell: (e) => who(e.actor, data.data!.names) },
            { header: 'Action', cell: (e) => e.action },
            { header: 'Target', cell: (e) => who(e.target, data.data!.names) },
            { header: 'Details', cell: (e) => (Object.keys(e.details).length ? <span className="details">{readableDetails(e.details)}</span> : '—') },
          ]}
        />
      ) : null}
      {data.data?.truncated ? <p className="muted small">Only the newest {MAX_EVENTS} events are shown.</p> : null}
      <nav className="pager" aria-label="Audit pages">
        <button type="button" className="button-secondary" disabled={page === 0} onClick={() => setPage((p) => p - 1)}>
          Newer
        </button>
        <span className="muted small" aria-live="polite">
          Page {page + 1} of {pages}
        </span>
        <button type="button" className="button-secondary" disabled={page + 1 >= pages} onClick={() => setPage((p) => p + 1)}>
          Older
        </button>
      </nav>
    </section>
  );
}
