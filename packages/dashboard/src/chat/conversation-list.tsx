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
  const { client } = useSession();
  /** Titles saved since the rows were read (null: reset to the first message). */
  const [renamed, setRenamed] = useState<Record<string, string | null>>({});
  const ordered = newestFirst(rows);
  const ids = ordered.slice(0, 100).map((c) => c.id);
  const fromServer = useAsync(() => (ids.length ? client.conversationTitles(ids) : Promise.resolve({ data: [] })), [client, ids.join(',')]);
  const firstMessage = new Map((fromServer.data?.data ?? []).map((t) => [t.id, t.title]));
  const [renaming, setRenaming] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Conversation | null>(null);
  const { error, run } = useAction();

  const ownTitle = (c: Conversation) => (c.id in renamed ? renamed[c.id] : c.title);
  const titleOf = (c: Conversation) => ownTitle(c) ?? firstMessage.get(c.id) ?? formatDateTime(c.createdAt);
  const rename = (c: Conversation, title: string | null) =>
    void run(async () => {
      const saved = await client.renameConversation(c.id, title);
      setRenamed((r) => ({ ...r, [c.id]: saved.title }));
      setRenaming(null);
    });

  return (
    <>
      <ErrorMessage error={error} />
      <ul className="conversation-list">
        {ordered.map((c) => (
          <li key={c.id} className="conversation-item">
            {renaming === c.id ? (
              <RenameField
                initial={titleOf(c)}
                onSave={(title) => rename(c, title.trim() || null)}
                onCancel={() => setRenaming(null)}
              />
            ) : (
              <>
                <a href={`#/chat/${encodeURIComponent(c.agentId)}/${encodeURIComponent(c.id)}`} aria-current={c.id === currentId ? 'true' : undefined}>
                  <span className="conversation-title">{titleOf(c)}</span>
                  <span className="muted small">
                    {formatDateTime(c.updatedAt)}
                    {c.source === 'openai' ? ' · OpenAI API' : ''}
                  </span>
                </a>
                {writable ? (
                  <div className="conversation-actions">
                    <button type="button" className="button-small button-secondary" onClick={() => setRenaming(c.id)} aria-label={`Rename ${titleOf(c)}`}>
                      Rename
                    </button>
                    <button type="button" className="button-small button-danger" onClick={() => setDeleting(c)} aria-label={`Delete ${titleOf(c)}`}>
                      Delete
                    </button>
                  </div>
                ) : null}
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

/** Saving an empty title goes back to the first message. */
function RenameField({ initial, onSave, onCancel }: { initial: string; onSave: (title: string) => void; onCancel: () => void }) {
  const [value, setValue] = useState(initial);
  useEffect(() => {
    const input = document.getElementById('rename-conversation') as HTMLInputElement | null;
    input?.focus();
    input?.select();
  }, []);
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      onCancel();
    }
  };
  return (
    <form
      className="rename"
      onSubmit={(e) => {
        e.preventDefault();
        onSave(value);
      }}
    >
      <label htmlFor="rename-conversation" className="small">
        New title (empty: the first message)
      </label>
      <input id="rename-conversation" maxLength={200} value={value} onChange={(e) => setValue(e.target.value)} onKeyDown={onKeyDown} />
      <div className="actions">
        <button type="submit" className="button-small">
          Save title
        </button>
        <button type="button" className="button-small button-secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
