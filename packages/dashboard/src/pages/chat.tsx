import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { MessageReply, SearchHit } from '@agentik/shared';
import { AsyncList } from '../components/async-list';
import { Empty, ErrorMessage, Loading } from '../components/status';
import { formatDateTime, formatTokens, formatUsd } from '../lib/format';
import { navigate } from '../lib/router';
import { useSubmit } from '../lib/use-action';
import { useAsync } from '../lib/use-async';
import { useSession } from '../session-context';

interface UiMessage {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  /** Set while the reply is still streaming in. */
  streaming?: boolean;
  /** Usage and cost of a reply: live from the stream, or stored with its call's cost event. */
  reply?: Pick<MessageReply, 'usage' | 'costUsd'>;
  /** Tokens stored with a past message. */
  tokens?: number | null;
}

interface Thread {
  agentId: string | null;
  conversationId: string | null;
  messages: UiMessage[];
}

/** `#/chat`, `#/chat/<agentId>`, `#/chat/<agentId>/<conversationId>`. */
export function ChatPage({ agentId: routeAgent, conversationId: routeConversation }: { agentId: string | null; conversationId: string | null }) {
  const { client } = useSession();
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

  if (agents.loading && !agents.data) return <ChatFrame><Loading label="Loading agents…" /></ChatFrame>;
  if (agents.error) return <ChatFrame><ErrorMessage error={agents.error} onRetry={agents.reload} /></ChatFrame>;
  if (agents.data && agents.data.data.length === 0) {
    return (
      <ChatFrame>
        <Empty title="No agents to talk to yet.">
          <p>
            <a href="#/agents/new">Create an agent</a> first.
          </p>
        </Empty>
      </ChatFrame>
    );
  }

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
          <button type="button" className="button-secondary wide" onClick={() => agentId && navigate(`/chat/${encodeURIComponent(agentId)}`)}>
            New conversation
          </button>
          <SearchBox agentId={agentId} />
          <h2 className="side-title">Past conversations</h2>
          <AsyncList list={conversations} loadingLabel="Loading…" empty={<p className="muted small">None yet.</p>}>
            {(rows) => (
              <ul className="conversation-list">
                {rows.map((c) => (
                  <li key={c.id}>
                    <a
                      href={`#/chat/${encodeURIComponent(c.agentId)}/${encodeURIComponent(c.id)}`}
                      aria-current={c.id === thread.conversationId ? 'true' : undefined}
                    >
                      {formatDateTime(c.updatedAt)}
                      <span className="muted small"> · {c.source === 'openai' ? 'OpenAI API' : 'chat'}</span>
                    </a>
                  </li>
                ))}
              </ul>
            )}
          </AsyncList>
        </aside>
        <div className="chat-main">
          {agent ? (
            <p className="muted small chat-agent-line">
              {agent.name} · {agent.provider} · {agent.model}
            </p>
          ) : null}
          {loadingThread ? <Loading label="Loading the conversation…" /> : null}
          <ErrorMessage error={threadError} />
          <Messages messages={thread.messages} />
          {agentId ? (
            <Composer
              agentId={agentId}
              conversationId={thread.conversationId}
              onUpdate={(update) => setThread((t) => ({ ...update(t), agentId }))}
              onReplied={(reply) => {
                if (reply.conversationId !== routeConversation) {
                  navigate(`/chat/${encodeURIComponent(agentId)}/${encodeURIComponent(reply.conversationId)}`);
                }
                conversations.reload();
              }}
            />
          ) : null}
        </div>
      </div>
    </ChatFrame>
  );
}

function ChatFrame({ children }: { children: React.ReactNode }) {
  return (
    <section className="page page-wide" aria-labelledby="chat-title">
      <h1 id="chat-title">Chat</h1>
      {children}
    </section>
  );
}

function Messages({ messages }: { messages: UiMessage[] }) {
  const end = useRef<HTMLDivElement>(null);
  const last = messages[messages.length - 1];
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'nearest' });
  }, [messages.length, last?.content]);
  if (messages.length === 0) {
    return (
      <div className="messages messages-empty">
        <p className="muted">Send a message to start a conversation.</p>
      </div>
    );
  }
  return (
    <div className="messages" role="log" aria-live="polite" aria-label="Messages">
      {messages.map((m) => (
        <div key={m.id} className={`message message-${m.role}`} data-testid={m.role === 'assistant' ? 'assistant-message' : 'user-message'}>
          <div className="message-role">{m.role === 'user' ? 'You' : 'Agent'}</div>
          <div className="message-text" data-streaming={m.streaming ? 'true' : undefined} aria-busy={m.streaming ? true : undefined}>
            {m.content}
            {m.streaming ? <span className="cursor" aria-hidden="true" /> : null}
          </div>
          {m.reply ? (
            <div className="message-meta" data-testid="reply-meta">
              {formatTokens(m.reply.usage.inputTokens)} in · {formatTokens(m.reply.usage.outputTokens)} out tokens · {formatUsd(m.reply.costUsd)}
            </div>
          ) : m.tokens !== undefined && m.tokens !== null ? (
            <div className="message-meta">{formatTokens(m.tokens)} tokens</div>
          ) : null}
        </div>
      ))}
      <div ref={end} />
    </div>
  );
}

function Composer({
  agentId,
  conversationId,
  onUpdate,
  onReplied,
}: {
  agentId: string;
  conversationId: string | null;
  onUpdate: (update: (t: Thread) => Thread) => void;
  onReplied: (reply: MessageReply) => void;
}) {
  const { client } = useSession();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);

  const send = async (event?: FormEvent) => {
    event?.preventDefault();
    const content = text.trim();
    if (!content || busy) return;
    setBusy(true);
    setError(null);
    const stamp = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const pendingId = `pending-${stamp}`;
    onUpdate((t) => ({
      ...t,
      messages: [...t.messages, { id: `user-${stamp}`, role: 'user', content }, { id: pendingId, role: 'assistant', content: '', streaming: true }],
    }));
    setText('');
    const patch = (change: (m: UiMessage) => UiMessage) =>
      onUpdate((t) => ({ ...t, messages: t.messages.map((m) => (m.id === pendingId ? change(m) : m)) }));
    abort.current = new AbortController();
    try {
      const reply = await client.streamMessage(
        agentId,
        { content, ...(conversationId ? { conversationId } : {}) },
        { onDelta: (delta) => patch((m) => ({ ...m, content: m.content + delta })) },
        abort.current.signal,
      );
      onUpdate((t) => ({
        ...t,
        conversationId: reply.conversationId,
        messages: t.messages.map((m) =>
          m.id === pendingId ? { id: reply.message.id, role: 'assistant', content: reply.message.content, reply: { usage: reply.usage, costUsd: reply.costUsd } } : m,
        ),
      }));
      onReplied(reply);
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') return;
      setError(e);
      onUpdate((t) => ({ ...t, messages: t.messages.filter((m) => m.id !== pendingId || m.content !== '').map((m) => (m.id === pendingId ? { ...m, streaming: false } : m)) }));
      setText(content);
    } finally {
      setBusy(false);
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
      <label htmlFor="chat-message">Message</label>
      <div className="composer-row">
        <textarea
          id="chat-message"
          rows={2}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          aria-describedby="chat-message-help"
          maxLength={100_000}
        />
        <button type="submit" disabled={busy || text.trim() === ''}>
          {busy ? 'Sending…' : 'Send'}
        </button>
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
