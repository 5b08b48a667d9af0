import { useState } from 'react';
import type { CostEvent } from '@agentik/shared';
import type { ApiClient } from '../api/client';
import { DateRangeFields, thisMonth, type DayRange } from '../components/date-range';
import { SelectField } from '../components/select-field';
import { Empty, ErrorMessage, Loading } from '../components/status';
import { Table } from '../components/table';
import { formatDateTime, formatTokens, formatUsd } from '../lib/format';
import { useAsync } from '../lib/use-async';
import { useSession } from '../session-context';

/** At most this many events are read for one range (the newest are shown first). */
const MAX_EVENTS = 2000;

async function eventsIn(client: ApiClient, range: DayRange): Promise<{ events: CostEvent[]; truncated: boolean }> {
  const events: CostEvent[] = [];
  let cursor: string | null = null;
  do {
    const page = await client.listCostEvents(range.from, range.to, cursor);
    events.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor && events.length < MAX_EVENTS);
  events.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  return { events, truncated: cursor !== null };
}

const ALL = 'all';
const OUTCOMES = [ALL, 'ok', 'aborted', 'failed'] as const;

/** Every model call of the tenant, from its cost events, with filters and a date range. */
export function RequestsPage() {
  const { client } = useSession();
  const [range, setRange] = useState<DayRange>(() => thisMonth());
  const [agent, setAgent] = useState<string>(ALL);
  const [model, setModel] = useState<string>(ALL);
  const [outcome, setOutcome] = useState<(typeof OUTCOMES)[number]>(ALL);
  const data = useAsync(async () => {
    const [log, agents] = await Promise.all([eventsIn(client, range), client.listAgents()]);
    return { ...log, names: new Map(agents.data.map((a) => [a.id, a.name])) };
  }, [client, range.from, range.to]);

  const nameOf = (id: string) => data.data?.names.get(id) ?? `${id} (deleted)`;
  const events = data.data?.events ?? [];
  const agentIds = [ALL, ...new Set(events.map((e) => e.agentId))];
  const models = [ALL, ...new Set(events.map((e) => `${e.provider}/${e.model}`))].sort((a, b) => (a === ALL ? -1 : b === ALL ? 1 : a.localeCompare(b)));
  const shown = events.filter(
    (e) => (agent === ALL || e.agentId === agent) && (model === ALL || `${e.provider}/${e.model}` === model) && (outcome === ALL || e.outcome === outcome),
  );
  const total = shown.reduce((sum, e) => sum + (e.costUsd ?? 0), 0);

  return (
    <section className="page page-wide" aria-labelledby="requests-title">
      <h1 id="requests-title">Requests</h1>
      <p className="muted">Every model call, from the cost records: newest first.</p>
      <div className="card filters">
        <DateRangeFields idPrefix="requests" value={range} onChange={setRange} />
        <div className="grid">
          <div className="field">
            <label htmlFor="filter-agent">Agent</label>
            <select id="filter-agent" value={agent} onChange={(e) => setAgent(e.target.value)}>
              {agentIds.map((id) => (
                <option key={id} value={id}>
                  {id === ALL ? 'All agents' : nameOf(id)}
                </option>
              ))}
            </select>
          </div>
          <SelectField id="filter-model" label="Model" value={model} options={models} onChange={setModel} />
          <SelectField id="filter-outcome" label="Outcome" value={outcome} options={OUTCOMES} onChange={setOutcome} />
        </div>
      </div>
      {data.loading && !data.data ? <Loading label="Loading requests…" /> : null}
      <ErrorMessage error={data.error} onRetry={data.reload} />
      {data.data ? (
        <>
          <p role="status" data-testid="requests-summary">
            {shown.length} of {events.length} requests · {formatUsd(total)}
            {data.data.truncated ? ` · only the newest ${MAX_EVENTS} of this range are read; pick a shorter range` : ''}
          </p>
          {shown.length === 0 ? (
            <Empty title="No requests match." />
          ) : (
            <Table
              caption="Requests"
              rows={shown}
              rowKey={(e) => e.id}
              columns={[
                { header: 'Time', cell: (e) => formatDateTime(e.createdAt) },
                { header: 'Agent', cell: (e) => nameOf(e.agentId) },
                { header: 'Model', cell: (e) => `${e.provider}/${e.model}` },
                { header: 'Tokens in / out', numeric: true, cell: (e) => `${formatTokens(e.inputTokens)} / ${formatTokens(e.outputTokens)}${e.usageEstimated ? ' (est.)' : ''}` },
                { header: 'Latency', numeric: true, cell: (e) => `${formatTokens(e.latencyMs)} ms` },
                { header: 'Cost', numeric: true, cell: (e) => formatUsd(e.costUsd) },
                { header: 'Outcome', cell: (e) => <span className={`badge badge-outcome-${e.outcome}`}>{e.outcome}</span> },
              ]}
            />
          )}
        </>
      ) : null}
    </section>
  );
}
