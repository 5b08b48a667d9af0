import { useState } from 'react';
import type { Agent } from '@agentik/shared';
import { AsyncList } from '../components/async-list';
import { ConfirmDialog } from '../components/confirm-dialog';
import { Empty, ErrorMessage, Notice, ReadOnlyNote } from '../components/status';
import { canWrite } from '../lib/session';
import { Table } from '../components/table';
import { formatRelative } from '../lib/format';
import { navigate } from '../lib/router';
import { useAction } from '../lib/use-action';
import { useAsync } from '../lib/use-async';
import { useSession } from '../session-context';
import { AgentForm } from './agent-form';

/** `#/agents`, `#/agents/new`, `#/agents/<id>/edit`. */
export function AgentsPage({ rest }: { rest: string[] }) {
  const { client, session } = useSession();
  const writable = canWrite(session);
  const agents = useAsync(() => client.listAgents(), [client]);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<Agent | null>(null);
  const { error, run } = useAction();

  const creating = writable && rest[0] === 'new';
  const editing = writable && rest[1] === 'edit' ? (agents.data?.data.find((a) => a.id === rest[0]) ?? null) : null;
  const editMissing = writable && rest[1] === 'edit' && agents.data && !editing;

  const remove = (agent: Agent) =>
    run(async () => {
      await client.deleteAgent(agent.id);
      setConfirming(null);
      setNotice(`Agent ${agent.name} deleted.`);
      agents.reload();
    });

  return (
    <section className="page" aria-labelledby="agents-title">
      <div className="page-head">
        <h1 id="agents-title">Agents</h1>
        {!creating && writable ? (
          <a className="button" href="#/agents/new">
            New agent
          </a>
        ) : null}
      </div>
      {!writable ? <ReadOnlyNote /> : null}
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
        <ConfirmDialog
          titleId="delete-agent-title"
          title={`Delete ${confirming.name}?`}
          confirmLabel="Delete agent"
          onConfirm={() => void remove(confirming)}
          onCancel={() => setConfirming(null)}
        >
          Its conversations stay readable by id, but the agent cannot be used any more.
        </ConfirmDialog>
      ) : null}
      <AsyncList
        list={agents}
        loadingLabel="Loading agents…"
        empty={
          <Empty title="No agents yet.">
            <p>
              An agent is a model with a system prompt and settings.{' '}
              {writable ? <a href="#/agents/new">Create your first agent</a> : 'A member, admin or owner of this tenant can create one'}.
            </p>
          </Empty>
        }
      >
        {(rows) => (
          <Table
            caption="Agents"
            rows={rows}
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
                    {writable ? (
                      <>
                        <a className="button button-small button-secondary" href={`#/agents/${encodeURIComponent(a.id)}/edit`} aria-label={`Edit ${a.name}`}>
                          Edit
                        </a>
                        <button type="button" className="button-small button-danger" onClick={() => setConfirming(a)} aria-label={`Delete ${a.name}`}>
                          Delete
                        </button>
                      </>
                    ) : null}
                  </div>
                ),
              },
            ]}
          />
        )}
      </AsyncList>
    </section>
  );
}
