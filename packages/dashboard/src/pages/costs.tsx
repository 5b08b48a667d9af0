import { useState } from 'react';
import type { Budget, CostSummary } from '@agentik/shared';
import { BarChart } from '../components/bar-chart';
import { BudgetGauge } from '../components/budget-gauge';
import { DateRangeFields, thisMonth, type DayRange } from '../components/date-range';
import { Empty, ErrorMessage, Loading, Notice } from '../components/status';
import { Table } from '../components/table';
import { daysBetween, formatTokens, formatUsd, utcDay } from '../lib/format';
import { useSubmit } from '../lib/use-action';
import { useAsync } from '../lib/use-async';
import { useSession } from '../session-context';

type Group = CostSummary['groups'][number];

/** The last UTC day of the summary's range ("YYYY-MM-DD"): `to` is exclusive. */
function lastDayOf(summary: CostSummary): string {
  return utcDay(new Date(Date.parse(summary.to) - 1));
}

/** One bar per UTC day of the summary's range up to today, zero where nothing was spent. */
export function dailyBars(summary: CostSummary, today: Date = new Date()): { label: string; value: number }[] {
  const from = summary.from.slice(0, 10);
  const lastOfRange = lastDayOf(summary);
  const last = lastOfRange < utcDay(today) ? lastOfRange : utcDay(today);
  const byDay = new Map(summary.groups.map((g) => [g.key.slice(0, 10), g.usd]));
  return daysBetween(from, last < from ? from : last).map((day) => ({ label: day, value: byDay.get(day) ?? 0 }));
}

export function CostsPage() {
  const { client, session } = useSession();
  const [range, setRange] = useState<DayRange>(() => thisMonth());
  const data = useAsync(async () => {
    const [byDay, byModel, byAgent, budget, agents] = await Promise.all([
      client.costSummary('day', range.from, range.to),
      client.costSummary('model', range.from, range.to),
      client.costSummary('agent', range.from, range.to),
      client.getBudget(),
      client.listAgents(),
    ]);
    return { byDay, byModel, byAgent, budget, agentNames: new Map(agents.data.map((a) => [a.id, a.name])) };
  }, [client, range.from, range.to]);
  const monthToDate = range.from === thisMonth().from && range.to === thisMonth().to;

  return (
    <section className="page" aria-labelledby="costs-title">
      <h1 id="costs-title">Costs</h1>
      <div className="card filters">
        <DateRangeFields idPrefix="costs" value={range} onChange={setRange} />
      </div>
      {data.loading && !data.data ? <Loading label="Loading costs…" /> : null}
      <ErrorMessage error={data.error} onRetry={data.reload} />
      {data.data ? (
        <>
          <div className="stats">
            <Stat label={monthToDate ? 'Spent this month' : 'Spent in the range'} value={formatUsd(data.data.byDay.totalUsd)} testId="total-spend" />
            <Stat label="Calls" value={formatTokens(data.data.byDay.calls)} />
            <Stat label="Input tokens" value={formatTokens(data.data.byDay.inputTokens)} />
            <Stat label="Output tokens" value={formatTokens(data.data.byDay.outputTokens)} />
          </div>
          <div className="card">
            <h2>Spend per day</h2>
            <p className="muted small">
              {data.data.byDay.from.slice(0, 10)} to {lastDayOf(data.data.byDay)} (UTC)
            </p>
            {data.data.byDay.calls === 0 ? (
              <Empty title={monthToDate ? 'Nothing spent this month yet.' : 'Nothing spent in this range.'}>
                <p>Costs appear here after the first reply.</p>
              </Empty>
            ) : (
              <BarChart title="Spend per day in US dollars" bars={dailyBars(data.data.byDay)} format={formatUsd} />
            )}
          </div>
          <div className="card">
            <h2>Budget</h2>
            <BudgetGauge budget={data.data.budget} />
            {session.admin ? <BudgetEditor budget={data.data.budget} onSaved={data.reload} /> : null}
          </div>
          <div className="two-col">
            <GroupTable title="By model" groups={data.data.byModel.groups} name={(k) => k} />
            <GroupTable title="By agent" groups={data.data.byAgent.groups} name={(k) => data.data?.agentNames.get(k) ?? `${k} (deleted)`} />
          </div>
        </>
      ) : null}
    </section>
  );
}

function Stat({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={testId}>
        {value}
      </div>
    </div>
  );
}

function GroupTable({ title, groups, name }: { title: string; groups: Group[]; name: (key: string) => string }) {
  return (
    <div className="card">
      <h2>{title}</h2>
      {groups.length === 0 ? (
        <p className="muted">No spend yet.</p>
      ) : (
        <Table
          caption={`Spend ${title.toLowerCase()}`}
          rows={[...groups].sort((a, b) => b.usd - a.usd)}
          rowKey={(g) => g.key}
          columns={[
            { header: title.replace('By ', '').replace(/^./, (c) => c.toUpperCase()), cell: (g) => name(g.key) },
            { header: 'Calls', numeric: true, cell: (g) => formatTokens(g.calls) },
            { header: 'Tokens in / out', numeric: true, cell: (g) => `${formatTokens(g.inputTokens)} / ${formatTokens(g.outputTokens)}` },
            { header: 'Cost', numeric: true, cell: (g) => formatUsd(g.usd) },
          ]}
        />
      )}
    </div>
  );
}

/** Parses "50, 80, 100" into [50, 80, 100]; null when a part is not a positive number. */
export function parseThresholds(text: string): number[] | null {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  const values = parts.map(Number);
  if (values.some((v) => !Number.isFinite(v) || v <= 0 || v > 1000)) return null;
  return [...new Set(values)].sort((a, b) => a - b);
}

function BudgetEditor({ budget, onSaved }: { budget: Budget; onSaved: () => void }) {
  const { client } = useSession();
  const [limit, setLimit] = useState(budget.monthlyLimitUsd === null ? '' : String(budget.monthlyLimitUsd));
  const [hard, setHard] = useState(budget.hard);
  const [thresholds, setThresholds] = useState(budget.thresholds.join(', '));
  const [saved, setSaved] = useState(false);

  const { busy, error, onSubmit } = useSubmit(async () => {
    setSaved(false);
    const parsed = parseThresholds(thresholds);
    if (!parsed) throw new Error('Thresholds must be percentages between 0 and 1000, separated by commas.');
    await client.setBudget({ monthlyLimitUsd: limit.trim() === '' ? null : Number(limit), hard, thresholds: parsed });
    setSaved(true);
    onSaved();
  });

  return (
    <form className="budget-editor" onSubmit={onSubmit} aria-labelledby="budget-editor-title">
      <h3 id="budget-editor-title">Edit the budget</h3>
      <div className="grid">
        <div className="field">
          <label htmlFor="budget-limit">Monthly limit (USD)</label>
          <input
            id="budget-limit"
            type="number"
            min={0}
            step="any"
            inputMode="decimal"
            placeholder="no limit"
            value={limit}
            onChange={(e) => setLimit(e.target.value)}
            aria-describedby="budget-limit-help"
          />
          <p id="budget-limit-help" className="hint">
            Leave empty for no limit.
          </p>
        </div>
        <div className="field">
          <label htmlFor="budget-thresholds">Alert thresholds (%)</label>
          <input id="budget-thresholds" value={thresholds} onChange={(e) => setThresholds(e.target.value)} aria-describedby="budget-thresholds-help" />
          <p id="budget-thresholds-help" className="hint">
            For example 50, 80, 100.
          </p>
        </div>
      </div>
      <div className="check">
        <input id="budget-hard" type="checkbox" checked={hard} onChange={(e) => setHard(e.target.checked)} />
        <label htmlFor="budget-hard">Hard limit: refuse calls that would pass it</label>
      </div>
      <ErrorMessage error={error} />
      {saved ? <Notice>Budget saved.</Notice> : null}
      <button type="submit" disabled={busy}>
        {busy ? 'Saving…' : 'Save budget'}
      </button>
    </form>
  );
}
