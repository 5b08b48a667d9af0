import type {
  Agent,
  Budget,
  BudgetBody,
  Conversation,
  ConversationWithMessages,
  CostSummary,
  CreateAgentBody,
  CreateKeyBody,
  CreateTenantBody,
  CreatedKey,
  KeySummary,
  MessageReply,
  SearchHit,
  Tenant,
  UpdateAgentBody,
  UpdateTenantBody,
  AuditEvent,
  CostEvent,
  ProviderName,
  Role,
  TenantStatus,
  SseEvent,
} from '@agentik/shared';
import { SseParser } from '@agentik/shared';

/** A list page, as every list route returns it. */
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** A built-in tool an agent may use (`GET /api/tools`). */
export interface ToolInfo {
  name: string;
  description: string;
}

/** `GET /api/session`: who the key is. */
export interface SessionInfo {
  kind: 'operator' | 'member';
  role: Role | 'operator';
  keyId: string;
  /** A tenant key's own tenant, whatever its status. */
  tenant: { id: string; slug: string; name: string; status: TenantStatus } | null;
}

/** `GET /api/providers/available`: a provider an agent of this tenant can use. */
export interface AvailableProvider {
  name: ProviderName;
  /** Configured on the server, or by the tenant itself. */
  source: 'platform' | 'tenant';
}

/** An error the dashboard can show: the API's own code and message, or a network failure. */
export class ApiError extends Error {
  constructor(
    /** The API's stable code (`UNAUTHENTICATED`, ...), or `NETWORK` / `BAD_RESPONSE` from here. */
    readonly code: string,
    message: string,
    /** The HTTP status, 0 when the server was not reached. */
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Turns a non-2xx response into an {@link ApiError}, using the `{"error":{code,message}}` body when there is one. */
export async function errorFrom(response: Response): Promise<ApiError> {
  let text = '';
  try {
    text = await response.text();
  } catch {
    // The body could not be read; the status alone must do.
  }
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (body.error && typeof body.error.code === 'string' && typeof body.error.message === 'string') {
      return new ApiError(body.error.code, body.error.message, response.status);
    }
  } catch {
    // Not JSON (a proxy's error page, say): fall through.
  }
  const reason = response.statusText || 'request failed';
  return new ApiError('HTTP_' + String(response.status), `${reason} (HTTP ${response.status})`, response.status);
}

/** What the client needs to know about the signed-in key. */
export interface Credentials {
  /** The API key, sent as a bearer token. */
  key: string;
  /** For operator keys: the tenant to act in (id or slug), sent as `X-Tenant-ID`. */
  tenant?: string | null;
  /**
   * Called when the server says the key is no longer valid (UNAUTHENTICATED: revoked, expired):
   * the app then signs out and says why.
   */
  onUnauthenticated?: (error: ApiError) => void;
  /** Called on TENANT_NOT_FOUND: the tenant may have been suspended meanwhile. */
  onTenantGone?: (error: ApiError) => void;
}

/** Callbacks of a streamed reply. */
export interface StreamHandlers {
  /** A piece of the reply text, in order. */
  onDelta(text: string): void;
}

type Query = Record<string, string | number | undefined | null>;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** A thin, typed client of the Agentik OS REST API (same origin by default). */
export class ApiClient {
  constructor(
    private readonly credentials: Credentials,
    private readonly baseUrl = '',
    private readonly fetcher: typeof fetch = (...args) => fetch(...args),
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.credentials.key}`, ...extra };
    if (this.credentials.tenant) headers['x-tenant-id'] = this.credentials.tenant;
    return headers;
  }

  private async send(method: string, path: string, body?: unknown, signal?: AbortSignal, accept = 'application/json') {
    const init: RequestInit = {
      method,
      headers: this.headers(body === undefined ? { accept } : { accept, 'content-type': 'application/json' }),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    };
    let response: Response;
    try {
      response = await this.fetcher(this.baseUrl + path, init);
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new ApiError('NETWORK', 'The server could not be reached. Check your connection and try again.', 0);
    }
    if (!response.ok) {
      const error = await errorFrom(response);
      if (error.code === 'UNAUTHENTICATED') this.credentials.onUnauthenticated?.(error);
      if (error.code === 'TENANT_NOT_FOUND') this.credentials.onTenantGone?.(error);
      throw error;
    }
    return response;
  }

  /** Calls the API and returns its JSON body (undefined for 204). */
  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const response = await this.send(method, path, body, signal);
    if (response.status === 204) return undefined as T;
    try {
      return (await response.json()) as T;
    } catch {
      throw new ApiError('BAD_RESPONSE', 'The server sent a response that is not JSON.', response.status);
    }
  }

  /** Who the key is: any valid key may ask. */
  whoami() {
    return this.request<SessionInfo>('GET', '/api/session');
  }

  // Tenants (operator keys only)
  listTenants(cursor?: string | null) {
    return this.request<Page<Tenant>>('GET', withQuery('/api/tenants', { cursor, limit: 100 }));
  }
  tenantUsage(ids: string[]) {
    return this.request<{ period: string; data: { id: string; spentUsd: number; liveKeys: number }[] }>(
      'GET',
      withQuery('/api/tenant-usage', { ids: ids.join(',') }),
    );
  }
  createTenant(body: CreateTenantBody) {
    return this.request<Tenant>('POST', '/api/tenants', body);
  }
  updateTenant(id: string, body: UpdateTenantBody) {
    return this.request<Tenant>('PATCH', `/api/tenants/${encodeURIComponent(id)}`, body);
  }
  setTenantStatus(id: string, verb: 'suspend' | 'resume') {
    return this.request<Tenant>('POST', `/api/tenants/${encodeURIComponent(id)}/${verb}`);
  }
  deleteTenant(id: string) {
    return this.request<void>('DELETE', `/api/tenants/${encodeURIComponent(id)}`);
  }
  createTenantKey(id: string, body: CreateKeyBody) {
    return this.request<CreatedKey>('POST', `/api/tenants/${encodeURIComponent(id)}/keys`, body);
  }

  // Agents and tools
  listAgents() {
    return this.request<Page<Agent>>('GET', withQuery('/api/agents', { limit: 200 }));
  }
  createAgent(body: CreateAgentBody) {
    return this.request<Agent>('POST', '/api/agents', body);
  }
  updateAgent(id: string, body: UpdateAgentBody) {
    return this.request<Agent>('PATCH', `/api/agents/${encodeURIComponent(id)}`, body);
  }
  deleteAgent(id: string) {
    return this.request<void>('DELETE', `/api/agents/${encodeURIComponent(id)}`);
  }
  availableProviders() {
    return this.request<{ data: AvailableProvider[] }>('GET', '/api/providers/available');
  }
  providerModels(name: ProviderName) {
    return this.request<{ data: { name: string }[] }>('GET', `/api/providers/${encodeURIComponent(name)}/models`);
  }
  listTools() {
    return this.request<{ data: ToolInfo[] }>('GET', '/api/tools');
  }

  // Conversations
  listConversations(agentId?: string, cursor?: string | null) {
    return this.request<Page<Conversation>>('GET', withQuery('/api/conversations', { agentId, cursor, limit: 50 }));
  }
  getConversation(id: string) {
    return this.request<ConversationWithMessages>('GET', `/api/conversations/${encodeURIComponent(id)}`);
  }
  conversationTitles(ids: string[]) {
    return this.request<{ data: { id: string; title: string }[] }>('GET', withQuery('/api/conversations/titles', { ids: ids.join(',') }));
  }
  /** Sets a conversation's title; null goes back to its first message. */
  renameConversation(id: string, title: string | null) {
    return this.request<Conversation>('PATCH', `/api/conversations/${encodeURIComponent(id)}`, { title });
  }
  deleteConversation(id: string) {
    return this.request<void>('DELETE', `/api/conversations/${encodeURIComponent(id)}`);
  }
  searchConversations(q: string, agentId?: string) {
    return this.request<{ data: SearchHit[] }>('GET', withQuery('/api/conversations/search', { q, agentId }));
  }

  /**
   * Sends a message and streams the reply: `delta` events go to `onDelta` as they arrive, the
   * `done` event's body is returned, and an `error` event is thrown as an {@link ApiError}.
   * (EventSource cannot POST, hence fetch and a stream reader.)
   */
  async streamMessage(
    agentId: string,
    body: { content: string; conversationId?: string },
    handlers: StreamHandlers,
    signal?: AbortSignal,
  ): Promise<MessageReply> {
    return this.streamReply(`/api/agents/${encodeURIComponent(agentId)}/messages`, body, handlers, signal);
  }

  /**
   * Answers the conversation's last user message again and streams the new reply like
   * {@link streamMessage}; the server puts it in place of the old reply once it is complete (a
   * failure leaves the old one).
   */
  regenerate(conversationId: string, handlers: StreamHandlers, signal?: AbortSignal): Promise<MessageReply> {
    return this.streamReply(`/api/conversations/${encodeURIComponent(conversationId)}/regenerate`, {}, handlers, signal);
  }

  private async streamReply(path: string, body: unknown, handlers: StreamHandlers, signal?: AbortSignal): Promise<MessageReply> {
    const response = await this.send('POST', path, body, signal, 'text/event-stream');
    if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
      return (await response.json()) as MessageReply;
    }
    return readReplyStream(response, handlers);
  }

  // Costs and budget
  costSummary(groupBy: 'day' | 'model' | 'agent', from?: string, to?: string) {
    return this.request<CostSummary>('GET', withQuery('/api/costs/summary', { groupBy, from, to }));
  }
  listCostEvents(from?: string, to?: string, cursor?: string | null, limit = 200) {
    return this.request<Page<CostEvent>>('GET', withQuery('/api/costs/events', { from, to, cursor, limit }));
  }
  getBudget() {
    return this.request<Budget>('GET', '/api/budget');
  }
  setBudget(body: BudgetBody) {
    return this.request<Budget>('PUT', '/api/budget', body);
  }

  // Keys and audit
  listKeys(cursor?: string | null) {
    return this.request<Page<KeySummary>>('GET', withQuery('/api/keys', { cursor, limit: 100 }));
  }
  createKey(body: CreateKeyBody) {
    return this.request<CreatedKey>('POST', '/api/keys', body);
  }
  revokeKey(id: string) {
    return this.request<void>('DELETE', `/api/keys/${encodeURIComponent(id)}`);
  }
  /** The audit log a page at a time, oldest first, or newest first with `order` `desc`. */
  listAudit(cursor?: string | null, limit = 25, order: 'asc' | 'desc' = 'asc') {
    return this.request<Page<AuditEvent>>('GET', withQuery('/api/audit', { cursor, limit, order }));
  }
}

/** Reads an SSE reply body to its `done` event. Exported for tests. */
export async function readReplyStream(response: Response, handlers: StreamHandlers): Promise<MessageReply> {
  if (!response.body) throw new ApiError('BAD_RESPONSE', 'The reply stream has no body.', response.status);
  let done: MessageReply | undefined;
  let failure: ApiError | undefined;
  const onEvent = ({ event, data }: SseEvent) => {
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      failure ??= new ApiError('BAD_RESPONSE', `The reply stream sent an unreadable ${event} event.`, response.status);
      return;
    }
    if (event === 'delta') handlers.onDelta((payload as { text?: string }).text ?? '');
    else if (event === 'done') done = payload as MessageReply;
    else if (event === 'error') {
      const e = (payload as { error?: { code?: string; message?: string } }).error;
      failure = new ApiError(e?.code ?? 'INTERNAL', e?.message ?? 'The reply failed.', response.status);
    }
  };
  const parser = new SseParser();
  const reader = response.body.getReader();
  // `stream: true` keeps a multi-byte character that a chunk boundary split until its other half arrives.
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done: finished } = await reader.read();
    if (finished) break;
    for (const event of parser.push(decoder.decode(value, { stream: true }))) onEvent(event);
  }
  for (const event of parser.push(decoder.decode())) onEvent(event);
  parser.end();
  if (failure) throw failure;
  if (!done) throw new ApiError('BAD_RESPONSE', 'The reply stream ended before the reply was complete.', response.status);
  return done;
}
