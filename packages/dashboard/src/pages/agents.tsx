import { useState } from 'react';
import type { Agent } from '@agentik/shared';
import { Empty, ErrorMessage, Loading, Notice } from '../components/status';
import { Table } from '../components/table';
import { formatRelative } from '../lib/format';
import { navigate } from '../lib/router';
import { useAsync } from '../lib/use-async';
import { useSession } from '../session-context';
import { AgentForm } from './agent-form';

/** `#/agents`, `#/agents/new`, `#/agents/<id>/edit`. */
export function AgentsPage({ rest }: { rest: string[] }) {
  const { client } = useSession();
  const agents = useAsync(() => client.listAgents(), [client]);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<Agent | null>(null);
  const [error, setError] = useState<unknown>(null);

  const creating = rest[0] === 'new';
  const editing = rest[1] === 'edit' ? (agents.data?.data.find((a) => a.id === rest[0]) ?? null) : null;
  const editMissing = rest[1] === 'edit' && agents.data && !editing;

  const remove = async (agent: Agent) => {
    setError(null);
    try {
      await client.deleteAgent(agent.id);
      setConfirming(null);
      setNotice(`Agent ${agent.name} deleted.`);
      agents.reload();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <section className="page" aria-labelledby="agents-title">
      <div className="page-head">
        <h1 id="agents-title">Agents</h1>
        {!creating ? (
          <a className="button" href="#/agents/new">
            New agent
          </a>
        ) : null}
      </div>
      {creating || editing ? (
        <AgentForm
          key={editing?.id ?? 'new'}
          agent={editing}
          onCancel={() => navigate('/agents')}
          onSaved={(a) => {
            setNotice(`Agent ${a.name} ${editing ? 'saved' : 'created'}.`);
            agents.reload();
            navigate('/agents');
          }}
        />
      ) : null}
      {editMissing ? <ErrorMessage error={new Error('That agent does not exist (it may have been deleted).')} /> : null}
      {notice ? <Notice>{notice}</Notice> : null}
      <ErrorMessage error={error} />
      {confirming ? (
        <div className="card card-danger" role="alertdialog" aria-labelledby="delete-agent-title">
          <h2 id="delete-agent-title">Delete {confirming.name}?</h2>
          <p>Its conversations stay readable by id, but the agent cannot be used any more.</p>
          <div className="actions">
            <button type="button" className="button-danger" onClick={() => void remove(confirming)}>
              Delete agent
            </button>
            <button type="button" className="button-secondary" onClick={() => setConfirming(null)}>
              Cancel
            </button>
          </div>
        </div>
      ) : null}
      {agents.loading && !agents.data ? <Loading label="Loading agents…" /> : null}
      <ErrorMessage error={agents.error} onRetry={agents.reload} />
      {agents.data && agents.data.data.length === 0 ? (
        <Empty title="No agents yet.">
          <p>
            An agent is a model with a system prompt and settings. <a href="#/agents/new">Create your first agent</a>.
          </p>
        </Empty>
      ) : null}
      {agents.data && agents.data.data.length > 0 ? (
        <Table
          caption="Agents"
          rows={agents.data.data}
          rowKey={(a) => a.id}
          columns={[
            {
              header: 'Name',
              cell: (a) => (
                <>
                  <strong>{a.name}</strong>
                  {a.description ? <div className="muted small">{a.description}</div> : null}
                </>
              ),
            },
            { header: 'Model', cell: (a) => `${a.provider} · ${a.model}` },
            { header: 'Tools', cell: (a) => (a.tools.length ? a.tools.join(', ') : <span className="muted">none</span>) },
            { header: 'Updated', cell: (a) => formatRelative(a.updatedAt) },
            {
              header: 'Actions',
              cell: (a) => (
                <div className="row-actions">
                  <a className="button button-small" href={`#/chat/${encodeURIComponent(a.id)}`} aria-label={`Chat with ${a.name}`}>
                    Chat
                  </a>
                  <a className="button button-small button-secondary" href={`#/agents/${encodeURIComponent(a.id)}/edit`} aria-label={`Edit ${a.name}`}>
                    Edit
                  </a>
                  <button type="button" className="button-small button-danger" onClick={() => setConfirming(a)} aria-label={`Delete ${a.name}`}>
                    Delete
                  </button>
                </div>
              ),
            },
          ]}
        />
      ) : null}
    </section>
  );
}
