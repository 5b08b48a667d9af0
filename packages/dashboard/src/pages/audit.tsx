import { useState } from 'react';
import type { AuditEvent } from '@agentik/shared';
import type { ApiClient } from '../api/client';
import { Empty, ErrorMessage, Loading } from '../components/status';
import { Table } from '../components/table';
import { formatDateTime } from '../lib/format';
import { useAsync } from '../lib/use-async';
import { useSession } from '../session-context';

const PAGE_SIZE = 25;

async function everything<T>(load: (cursor: string | null) => Promise<{ data: T[]; nextCursor: string | null }>, max: number) {
  const rows: T[] = [];
  let cursor: string | null = null;
  do {
    const page = await load(cursor);
    rows.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor && rows.length < max);
  return rows;
}

/** The names shown beside key and agent ids. */
async function loadNames(client: ApiClient) {
  const [keys, agents] = await Promise.all([everything((c) => client.listKeys(c), 1000), client.listAgents()]);
  const names = new Map<string, string>();
  for (const k of keys) names.set(`key:${k.id}`, `${k.name ?? k.prefix} (${k.role} key)`);
  for (const a of agents.data) names.set(`agent:${a.id}`, `${a.name} (agent)`);
  return names;
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
  // The API pages newest first: page n starts after cursors[n] (null: the newest event), so
  // every event can be reached, a page at a time, however long the log.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const page = cursors.length - 1;
  const data = useAsync(() => client.listAudit(cursors[page], PAGE_SIZE, 'desc'), [client, cursors]);
  const names = useAsync(() => loadNames(client), [client]);
  const rows = data.data?.data ?? [];
  const older = data.data?.nextCursor ?? null;

  const who = (ref: string | null) => {
    if (!ref) return '—';
    if (ref.startsWith('operator')) return <span>Operator</span>;
    const name = names.data?.get(ref);
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
      {data.data && rows.length === 0 && page === 0 ? <Empty title="Nothing has been audited yet." /> : null}
      {data.data && rows.length > 0 ? (
        <Table
          caption="Audit events"
          rows={rows}
          rowKey={(e: AuditEvent) => e.id}
          columns={[
            { header: 'Time', cell: (e) => formatDateTime(e.at) },
            { header: 'Actor', cell: (e) => who(e.actor) },
            { header: 'Action', cell: (e) => e.action },
            { header: 'Target', cell: (e) => who(e.target) },
            { header: 'Details', cell: (e) => (Object.keys(e.details).length ? <span className="details">{readableDetails(e.details)}</span> : '—') },
          ]}
        />
      ) : null}
      <nav className="pager" aria-label="Audit pages">
        <button type="button" className="button-secondary" disabled={page === 0} onClick={() => !data.loading && setCursors((c) => c.slice(0, -1))}>
          Newer
        </button>
        <span className="muted small" aria-live="polite">
          Page {page + 1}
        </span>
        <button type="button" className="button-secondary" disabled={!older} onClick={() => older && !data.loading && setCursors((c) => [...c, older])}>
          Older
        </button>
      </nav>
    </section>
  );
}
