import { useCallback, useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { MessageReply, SearchHit } from '@agentik/shared';
import { ApiError } from '../api/client';
import { ConversationList, newestFirst } from '../chat/conversation-list';
import { CopyButton } from '../chat/copy-button';
import { Markdown } from '../chat/markdown';
import { AsyncList } from '../components/async-list';
import { Empty, ErrorMessage, Loading, ReadOnlyNote } from '../components/status';
import { formatDateTime, formatTokens, formatUsd } from '../lib/format';
import { navigate } from '../lib/router';
import { canWrite } from '../lib/session';
import { useSubmit } from '../lib/use-action';
import { useAsync } from '../lib/use-async';
import { useSession } from '../session-context';

interface UiMessage {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  /** Set while the reply is still streaming in. */
  streaming?: boolean;
  /** The user pressed Stop: the reply ends here (the server keeps what it had). */
  stopped?: boolean;
  /** Usage and cost of a reply: live from the stream, or stored with its call's cost event. */
  reply?: Pick<MessageReply, 'usage' | 'costUsd'>;
  /** Tokens stored with a past message. */
  tokens?: number | null;
  /** A reply being regenerated: hidden while the new one streams, gone once it is in. */
  replaced?: boolean;
}

interface Thread {
  agentId: string | null;
  conversationId: string | null;
  messages: UiMessage[];
}

/** `#/chat`, `#/chat/<agentId>`, `#/chat/<agentId>/<conversationId>`. */
export function ChatPage({ agentId: routeAgent, conversationId: routeConversation }: { agentId: string | null; conversationId: string | null }) {
  const { client, session } = useSession();
  const writable = canWrite(session);
  const agents = useAsync(() => client.listAgents(), [client]);
  const agentId = routeAgent ?? agents.data?.data[0]?.id ?? null;
  const agent = agents.data?.data.find((a) => a.id === agentId) ?? null;
  const conversations = useAsync(
    () => (agentId ? client.listConversations(agentId) : Promise.resolve({ data: [], nextCursor: null })),
    [client, agentId],
  );
  const [thread, setThread] = useState<Thread>({ agentId: null, conversationId: null, messages: [] });
  const [loadingThread, setLoadingThread] = useState(false);
  const [threadError, setThreadError] = useState<unknown>(null);
  const [listOpen, setListOpen] = useState(false);

  // Load a past conversation when the route names one this page does not already hold.
  useEffect(() => {
    if (thread.agentId === agentId && thread.conversationId === routeConversation) return;
    setThreadError(null);
    if (!routeConversation) {
      setThread({ agentId, conversationId: null, messages: [] });
      return;
    }
    let current = true;
    setLoadingThread(true);
    client.getConversation(routeConversation).then(
      (c) => {
        if (!current) return;
        setThread({
          agentId,
          conversationId: c.id,
          messages: c.messages.map((m) => ({
            id: m.id,
            role: m.role,
            content: m.content,
            tokens: m.tokens,
            ...(m.usage ? { reply: { usage: m.usage, costUsd: m.costUsd } } : {}),
          })),
        });
        setLoadingThread(false);
      },
      (e: unknown) => {
        if (!current) return;
        setThreadError(e);
        setLoadingThread(false);
      },
    );
    return () => {
      current = false;
    };
    // `thread` is read only to skip reloading what this page wrote itself.
  }, [client, agentId, routeConversation]);

  const sender = useSender({
    agentId,
    conversationId: thread.conversationId,
    update: (change) => setThread((t) => ({ ...change(t), agentId })),
    onReplied: (conversationId) => {
      if (agentId && conversationId !== routeConversation) {
        navigate(`/chat/${encodeURIComponent(agentId)}/${encodeURIComponent(conversationId)}`);
      }
      conversations.reload();
    },
    onStopped: (known) => {
      // A stopped turn is kept by the server; a new conversation's id came with no event, so
      // find the conversation that was not there before.
      if (!agentId || thread.conversationId) return conversations.reload();
      void findNew(agentId, known).then((id) => {
        conversations.reload();
        if (id) navigate(`/chat/${encodeURIComponent(agentId)}/${encodeURIComponent(id)}`);
      });
    },
    known: () => new Set((conversations.data?.data ?? []).map((c) => c.id)),
  });

  const findNew = async (agent: string, known: Set<string>): Promise<string | null> => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const page = await client.listConversations(agent).catch(() => null);
      const fresh = page ? newestFirst(page.data).find((c) => !known.has(c.id)) : undefined;
      if (fresh) return fresh.id;
      await new Promise((r) => setTimeout(r, 200));
    }
    return null;
  };

  if (agents.loading && !agents.data) return <ChatFrame><Loading label="Loading agents…" /></ChatFrame>;
  if (agents.error) return <ChatFrame><ErrorMessage error={agents.error} onRetry={agents.reload} /></ChatFrame>;
  if (agents.data && agents.data.data.length === 0) {
    return (
      <ChatFrame>
        <Empty title="No agents to talk to yet.">
          <p>{writable ? <a href="#/agents/new">Create an agent</a> : 'A member, admin or owner of this tenant can create one'} first.</p>
        </Empty>
      </ChatFrame>
    );
  }

  const messages = thread.messages;
  const lastAssistant = messages.length >= 2 && messages[messages.length - 1]!.role === 'assistant' ? messages[messages.length - 1]! : null;
  const lastUser = lastAssistant ? [...messages].reverse().find((m) => m.role === 'user') : undefined;

  return (
    <ChatFrame>
      <div className="chat">
        <aside className="chat-side" aria-label="Conversations">
          <div className="field">
            <label htmlFor="chat-agent">Agent</label>
            <select id="chat-agent" value={agentId ?? ''} onChange={(e) => navigate(`/chat/${encodeURIComponent(e.target.value)}`)}>
              {agents.data?.data.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                </option>
              ))}
            </select>
          </div>
          {writable ? (
            <button type="button" className="button-secondary wide" onClick={() => agentId && navigate(`/chat/${encodeURIComponent(agentId)}`)}>
              New conversation
            </button>
          ) : null}
          <button
            type="button"
            className="button-secondary wide chat-list-toggle"
            aria-expanded={listOpen}
            aria-controls="chat-history"
            onClick={() => setListOpen((o) => !o)}
          >
            {listOpen ? 'Hide conversations' : 'Show conversations'}
          </button>
          <div id="chat-history" className={listOpen ? 'chat-history open' : 'chat-history'}>
            <SearchBox agentId={agentId} />
            <h2 className="side-title">Past conversations</h2>
            <AsyncList list={conversations} loadingLabel="Loading…" empty={<p className="muted small">None yet.</p>}>
              {(rows) => (
                <ConversationList
                  rows={rows}
                  currentId={thread.conversationId}
                  writable={writable}
                  onDeleted={(id) => {
                    conversations.reload();
                    if (id === thread.conversationId && agentId) navigate(`/chat/${encodeURIComponent(agentId)}`);
                  }}
                />
              )}
            </AsyncList>
          </div>
        </aside>
        <div className="chat-main">
          {agent ? (
            <p className="muted small chat-agent-line">
              {agent.name} · {agent.provider} · {agent.model}
            </p>
          ) : null}
          {loadingThread ? <Loading label="Loading the conversation…" /> : null}
          <ErrorMessage error={threadError} />
          <Messages
            messages={messages}
            canRegenerate={writable && !sender.busy && !!lastUser && !!thread.conversationId}
            onRegenerate={() => void sender.regenerate()}
          />
          {agentId && writable ? (
            <Composer busy={sender.busy} error={sender.error} onSend={sender.send} onStop={sender.stop} />
          ) : agentId ? (
            <ReadOnlyNote>You are signed in with a viewer key: you can read conversations, but not send messages.</ReadOnlyNote>
          ) : null}
        </div>
      </div>
    </ChatFrame>
  );
}

/** How one streamed call changes the thread: at the start, on its reply, and when it failed. */
interface Streamed {
  call: (onDelta: (text: string) => void, signal: AbortSignal) => Promise<MessageReply>;
  /** The thread with the pending reply (`pending`) in place. */
  start: (t: Thread, pending: UiMessage) => Thread;
  /** The thread once the reply came (`pending` replaced by it) or was stopped (`pending` kept). */
  settle: (t: Thread) => Thread;
  /** The thread as it was: the call failed, the server stored nothing. */
  undo: (t: Thread) => Thread;
}

/**
 * Sending a message, or regenerating the last reply, and streaming the reply. The user's turn
 * shows at once; if the call fails before a reply, the thread goes back to what it was (the server
 * stored nothing) and a sent text goes back to the box, so a retry never shows the message twice.
 * A regenerate hides the old reply while the new one streams, drops it once the new one is in,
 * and shows it again when the call failed (the server kept it). Stop aborts the stream; the
 * server keeps what had streamed.
 */
function useSender({
  agentId,
  conversationId,
  update,
  onReplied,
  onStopped,
  known,
}: {
  agentId: string | null;
  conversationId: string | null;
  update: (change: (t: Thread) => Thread) => void;
  onReplied: (conversationId: string) => void;
  /** After Stop, with the conversations that existed before the send. */
  onStopped: (known: Set<string>) => void;
  known: () => Set<string>;
}) {
  const { client } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);

  const stream = useCallback(
    async ({ call, start, settle, undo }: Streamed): Promise<boolean> => {
      setBusy(true);
      setError(null);
      const pendingId = `pending-${Date.now()}-${Math.random().toString(36).slice(2)}`;
      update((t) => start(t, { id: pendingId, role: 'assistant', content: '', streaming: true }));
      const patch = (change: (m: UiMessage) => UiMessage) =>
        update((t) => ({ ...t, messages: t.messages.map((m) => (m.id === pendingId ? change(m) : m)) }));
      const controller = new AbortController();
      abort.current = controller;
      const before = known();
      try {
        const reply = await call((delta) => patch((m) => ({ ...m, content: m.content + delta })), controller.signal);
        update((t) => {
          const settled = settle(t);
          return {
            ...settled,
            conversationId: reply.conversationId,
            messages: settled.messages.map((m) =>
              m.id === pendingId ? { id: reply.message.id, role: 'assistant', content: reply.message.content, reply: { usage: reply.usage, costUsd: reply.costUsd } } : m,
            ),
          };
        });
        onReplied(reply.conversationId);
        return true;
      } catch (e) {
        if (controller.signal.aborted) {
          update((t) => settle(t));
          patch((m) => ({ ...m, streaming: false, stopped: true }));
          onStopped(before);
          return true;
        }
        setError(e);
        update((t) => undo({ ...t, messages: t.messages.filter((m) => m.id !== pendingId) }));
        return false;
      } finally {
        abort.current = null;
        setBusy(false);
      }
    },
    [update, onReplied, onStopped, known],
  );

  const send = useCallback(
    (content: string): Promise<boolean> => {
      if (!agentId || !content.trim()) return Promise.resolve(false);
      const userId = `user-${Date.now()}-${Math.random().toString(36).slice(2)}`;
      return stream({
        call: (onDelta, signal) => client.streamMessage(agentId, { content, ...(conversationId ? { conversationId } : {}) }, { onDelta }, signal),
        start: (t, pending) => ({ ...t, messages: [...t.messages, { id: userId, role: 'user', content }, pending] }),
        settle: (t) => t,
        undo: (t) => ({ ...t, messages: t.messages.filter((m) => m.id !== userId) }),
      });
    },
    [agentId, conversationId, client, stream],
  );

  const regenerate = useCallback((): Promise<boolean> => {
    if (!conversationId) return Promise.resolve(false);
    return stream({
      call: (onDelta, signal) => client.regenerate(conversationId, { onDelta }, signal),
      // The replies after the last user turn hide while the new one streams in after them.
      start: (t, pending) => {
        const lastUser = t.messages.map((m) => m.role).lastIndexOf('user');
        return { ...t, messages: [...t.messages.map((m, i) => (i > lastUser ? { ...m, replaced: true } : m)), pending] };
      },
      settle: (t) => ({ ...t, messages: t.messages.filter((m) => !m.replaced) }),
      undo: (t) => ({ ...t, messages: t.messages.map((m) => (m.replaced ? { ...m, replaced: false } : m)) }),
    });
  }, [conversationId, client, stream]);

  const stop = useCallback(() => abort.current?.abort(), []);
  return { busy, error, send, regenerate, stop };
}

function ChatFrame({ children }: { children: React.ReactNode }) {
  return (
    <section className="page page-wide" aria-labelledby="chat-title">
      <h1 id="chat-title">Chat</h1>
      {children}
    </section>
  );
}

function Messages({ messages: all, canRegenerate, onRegenerate }: { messages: UiMessage[]; canRegenerate: boolean; onRegenerate: () => void }) {
  const messages = all.filter((m) => !m.replaced);
  const end = useRef<HTMLDivElement>(null);
  // Scroll after every change, the reply's cost line included (it comes after the last delta).
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'end' });
  }, [all]);
  if (messages.length === 0) {
    return (
      <div className="messages messages-empty">
        <p className="muted">Send a message to start a conversation.</p>
      </div>
    );
  }
  const lastIndex = messages.length - 1;
  return (
    <div className="messages" role="log" aria-live="polite" aria-label="Messages">
      {messages.map((m, n) => (
        <div key={m.id} className={`message message-${m.role}`} data-testid={m.role === 'assistant' ? 'assistant-message' : 'user-message'}>
          <div className="message-role">{m.role === 'user' ? 'You' : 'Agent'}</div>
          <div className="message-text" data-streaming={m.streaming ? 'true' : undefined} aria-busy={m.streaming ? true : undefined}>
            {m.role === 'assistant' && !m.streaming ? <Markdown text={m.content} /> : <span className="plain">{m.content}</span>}
            {m.streaming ? <span className="cursor" aria-hidden="true" /> : null}
          </div>
          <div className="message-foot">
            {m.reply ? (
              <span className="message-meta" data-testid="reply-meta">
                {formatTokens(m.reply.usage.inputTokens)} in · {formatTokens(m.reply.usage.outputTokens)} out tokens · {formatUsd(m.reply.costUsd)}
              </span>
            ) : m.stopped ? (
              <span className="message-meta" data-testid="reply-stopped">
                Stopped
              </span>
            ) : m.tokens !== undefined && m.tokens !== null ? (
              <span className="message-meta">{formatTokens(m.tokens)} tokens</span>
            ) : null}
            {!m.streaming && m.content ? <CopyButton text={m.content} what={m.role === 'user' ? 'your message' : 'the reply'} /> : null}
            {n === lastIndex && m.role === 'assistant' && canRegenerate ? (
              <button type="button" className="button-small button-secondary" onClick={onRegenerate} title="Answers your last message again; the new reply takes the place of this one">
                Regenerate
              </button>
            ) : null}
          </div>
        </div>
      ))}
      <div ref={end} />
    </div>
  );
}

function Composer({
  busy,
  error,
  onSend,
  onStop,
}: {
  busy: boolean;
  error: unknown;
  onSend: (content: string) => Promise<boolean>;
  onStop: () => void;
}) {
  const [text, setText] = useState('');
  const box = useRef<HTMLTextAreaElement>(null);

  const send = async (event?: FormEvent) => {
    event?.preventDefault();
    const content = text.trim();
    if (!content || busy) return;
    setText('');
    // A failed send puts the text back, to edit or send again.
    if (!(await onSend(content))) {
      setText((now) => (now === '' ? content : now));
      box.current?.focus();
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  };

  return (
    <form className="composer" onSubmit={(e) => void send(e)}>
      <ErrorMessage error={error} />
      {error instanceof ApiError && error.code === 'BUDGET_EXCEEDED' ? (
        <p className="hint" data-testid="budget-hint">
          A hard budget holds back the most this call could cost (the whole prompt and a reply of the agent&apos;s max tokens), not what it
          will cost. Lower the agent&apos;s max tokens, or raise the budget on the Costs page.
        </p>
      ) : null}
      <label htmlFor="chat-message">Message</label>
      <div className="composer-row">
        <textarea
          ref={box}
          id="chat-message"
          rows={2}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          aria-describedby="chat-message-help"
          maxLength={100_000}
        />
        {busy ? (
          <button type="button" className="button-secondary" onClick={onStop}>
            Stop
          </button>
        ) : (
          <button type="submit" disabled={text.trim() === ''}>
            Send
          </button>
        )}
      </div>
      <p id="chat-message-help" className="hint">
        Enter sends; Shift+Enter starts a new line.
      </p>
    </form>
  );
}

function SearchBox({ agentId }: { agentId: string | null }) {
  const { client } = useSession();
  const [q, setQ] = useState('');
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const { busy, error, onSubmit } = useSubmit(async () => {
    setHits((await client.searchConversations(q.trim(), agentId ?? undefined)).data);
  });
  return (
    <form className="search" role="search" onSubmit={(e) => (q.trim() ? onSubmit(e) : e.preventDefault())}>
      <label htmlFor="chat-search">Search conversations</label>
      <div className="composer-row">
        <input id="chat-search" type="search" value={q} onChange={(e) => setQ(e.target.value)} maxLength={500} />
        <button type="submit" className="button-secondary" disabled={busy}>
          Search
        </button>
      </div>
      <ErrorMessage error={error} />
      {hits && hits.length === 0 ? <p className="muted small" role="status">No matches.</p> : null}
      {hits && hits.length > 0 ? (
        <ul className="search-hits" aria-label="Search results">
          {hits.map((h) => (
            <li key={h.messageId}>
              <a href={`#/chat/${encodeURIComponent(h.agentId)}/${encodeURIComponent(h.conversationId)}`}>
                <span className="small muted">
                  {h.role === 'user' ? 'You' : 'Agent'} · {formatDateTime(h.createdAt)}
                </span>
                <span className="hit-text">{h.content.length > 140 ? `${h.content.slice(0, 140)}…` : h.content}</span>
              </a>
            </li>
          ))}
        </ul>
      ) : null}
    </form>
  );
}
