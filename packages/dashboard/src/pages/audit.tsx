import { useState } from 'react';
import { AsyncList } from '../components/async-list';
import { Empty } from '../components/status';
import { Table } from '../components/table';
import { formatDateTime } from '../lib/format';
import { useAsync } from '../lib/use-async';
import { useSession } from '../session-context';

const PAGE_SIZE = 25;

/** The tenant's audit log, oldest first, a page at a time (the API pages forward; the page keeps the way back). */
export function AuditPage() {
  const { client } = useSession();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const page = useAsync(() => client.listAudit(cursor, PAGE_SIZE), [client, cursor]);

  return (
    <section className="page" aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <p className="muted">Who did what in this tenant, oldest first. Secrets never appear here.</p>
      <AsyncList list={page} loadingLabel="Loading the audit log…" empty={<Empty title="Nothing has been audited yet." />}>
        {(rows) => (
          <Table
            caption="Audit events"
            rows={rows}
            rowKey={(e) => e.id}
            columns={[
              { header: 'Time', cell: (e) => formatDateTime(e.at) },
              { header: 'Actor', cell: (e) => <code>{e.actor}</code> },
              { header: 'Action', cell: (e) => e.action },
              { header: 'Target', cell: (e) => (e.target ? <code>{e.target}</code> : '—') },
              {
                header: 'Details',
                cell: (e) => (Object.keys(e.details).length ? <code className="details">{JSON.stringify(e.details)}</code> : '—'),
              },
            ]}
          />
        )}
      </AsyncList>
      <nav className="pager" aria-label="Audit pages">
        <button type="button" className="button-secondary" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Previous page
        </button>
        <span className="muted small" aria-live="polite">
          Page {cursors.length}
        </span>
        <button
          type="button"
          className="button-secondary"
          disabled={!page.data?.nextCursor}
          onClick={() => setCursors((c) => [...c, page.data?.nextCursor ?? null])}
        >
          Next page
        </button>
      </nav>
    </section>
  );
}
