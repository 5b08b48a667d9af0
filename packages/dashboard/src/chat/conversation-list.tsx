import { useEffect, useState, type KeyboardEvent } from 'react';
import type { Conversation } from '@agentik/shared';
import { ConfirmDialog } from '../components/confirm-dialog';
import { ErrorMessage } from '../components/status';
import { formatDateTime } from '../lib/format';
import { useAction } from '../lib/use-action';
import { useAsync } from '../lib/use-async';
import { useSession } from '../session-context';

/** Newest first, as chat apps list them. */
export function newestFirst(rows: Conversation[]): Conversation[] {
  return [...rows].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || b.id.localeCompare(a.id));
}

/**
 * Names the user gave conversations. The API stores no title, so a rename is kept in this
 * browser (localStorage, per tenant); without one a conversation is titled by its first message.
 */
function useLocalTitles(scope: string) {
  const storageKey = `agentik.titles.${scope}`;
  const read = (): Record<string, string> => {
    try {
      return JSON.parse(localStorage.getItem(storageKey) ?? '{}') as Record<string, string>;
    } catch {
      return {};
    }
  };
  const [titles, setTitles] = useState(read);
  const set = (id: string, title: string | null) => {
    const next = { ...read() };
    if (title) next[id] = title;
    else delete next[id];
    localStorage.setItem(storageKey, JSON.stringify(next));
    setTitles(next);
  };
  return { titles, set };
}

/** The past conversations of an agent: titled, newest first, with rename and delete. */
export function ConversationList({
  rows,
  currentId,
  writable,
  onDeleted,
}: {
  rows: Conversation[];
  currentId: string | null;
  writable: boolean;
  onDeleted: (id: string) => void;
}) {
  const { client, session } = useSession();
  const scope = session.operator ? `op.${session.tenant ?? ''}` : (session.home?.slug ?? 'tenant');
  const local = useLocalTitles(scope);
  const ordered = newestFirst(rows);
  const ids = ordered.slice(0, 100).map((c) => c.id);
  const fromServer = useAsync(() => (ids.length ? client.conversationTitles(ids) : Promise.resolve({ data: [] })), [client, ids.join(',')]);
  const firstMessage = new Map((fromServer.data?.data ?? []).map((t) => [t.id, t.title]));
  const [renaming, setRenaming] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Conversation | null>(null);
  const { error, run } = useAction();

  const titleOf = (c: Conversation) => local.titles[c.id] ?? firstMessage.get(c.id) ?? formatDateTime(c.createdAt);

  return (
    <>
      <ErrorMessage error={error} />
      <ul className="conversation-list">
        {ordered.map((c) => (
          <li key={c.id} className="conversation-item">
            {renaming === c.id ? (
              <RenameField initial={titleOf(c)} onDone={(title) => {
                if (title !== null) local.set(c.id, title.trim() || null);
                setRenaming(null);
              }} />
            ) : (
              <>
                <a href={`#/chat/${encodeURIComponent(c.agentId)}/${encodeURIComponent(c.id)}`} aria-current={c.id === currentId ? 'true' : undefined}>
                  <span className="conversation-title">{titleOf(c)}</span>
                  <span className="muted small">
                    {formatDateTime(c.updatedAt)}
                    {c.source === 'openai' ? ' · OpenAI API' : ''}
                  </span>
                </a>
                <div className="conversation-actions">
                  <button type="button" className="button-small button-secondary" onClick={() => setRenaming(c.id)} aria-label={`Rename ${titleOf(c)}`}>
                    Rename
                  </button>
                  {writable ? (
                    <button type="button" className="button-small button-danger" onClick={() => setDeleting(c)} aria-label={`Delete ${titleOf(c)}`}>
                      Delete
                    </button>
                  ) : null}
                </div>
              </>
            )}
          </li>
        ))}
      </ul>
      {deleting ? (
        <ConfirmDialog
          titleId="delete-conversation-title"
          title="Delete this conversation?"
          confirmLabel="Delete conversation"
          onCancel={() => setDeleting(null)}
          onConfirm={() =>
            void run(async () => {
              await client.deleteConversation(deleting.id);
              local.set(deleting.id, null);
              setDeleting(null);
              onDeleted(deleting.id);
            })
          }
        >
          <p>
            “{titleOf(deleting)}” and all its messages are deleted. Its costs stay in the cost records.
          </p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}

function RenameField({ initial, onDone }: { initial: string; onDone: (title: string | null) => void }) {
  const [value, setValue] = useState(initial);
  useEffect(() => {
    const input = document.getElementById('rename-conversation') as HTMLInputElement | null;
    input?.focus();
    input?.select();
  }, []);
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      onDone(null);
    }
  };
  return (
    <form
      className="rename"
      onSubmit={(e) => {
        e.preventDefault();
        onDone(value);
      }}
    >
      <label htmlFor="rename-conversation" className="small">
        New title (kept in this browser)
      </label>
      <input id="rename-conversation" maxLength={120} value={value} onChange={(e) => setValue(e.target.value)} onKeyDown={onKeyDown} />
      <div className="actions">
        <button type="submit" className="button-small">
          Save title
        </button>
        <button type="button" className="button-small button-secondary" onClick={() => onDone(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
