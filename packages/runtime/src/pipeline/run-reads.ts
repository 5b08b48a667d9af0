import { budgetPeriod } from '../cost/budget-service.js';
import type { AgentRecord, BudgetRecord, ConversationRecord, MessageRecord, ProviderCredentialRecord } from '../storage/records.js';
import type { TenantContext } from '../tenants/context.js';

/** How many stored turns are read before the context window picks the ones that fit. */
export const RECENT_TURNS = 200;

/**
 * The reads a run needs before its model call, all started in the same turn of the event loop
 * when the run begins, while the admission guard runs: the agent (in the form the source names
 * it first), the conversation and its recent turns when one is continued, the tenant's provider
 * credentials and this month's budget. A store that groups the reads of one turn (Postgres) sends
 * them in one round trip under the tenant's scope, instead of one round trip per stage; SQLite
 * runs them in one read transaction (`readTogether`).
 *
 * Each is read at most once and only awaited by the stage that needs it, so a run refused before
 * that stage never looks at it; a failure reaches that stage and nothing else. They are reads of
 * the run's own tenant only: nothing they return is used before the stage that checks it (the
 * route stage still refuses another agent's conversation).
 */
export interface RunReads {
  /** The agent by id (REST) or by name (OpenAI-compatible): the form tried first. */
  readonly agent: Promise<AgentRecord | undefined>;
  readonly conversation: Promise<ConversationRecord | undefined> | undefined;
  /** The conversation's most recent turns, oldest first; undefined when no memory is loaded. */
  readonly recent: Promise<MessageRecord[]> | undefined;
  readonly credentials: Promise<ProviderCredentialRecord[]>;
  /** The budget of the month the run started in. */
  readonly budget: { period: string; record: Promise<BudgetRecord> };
}

/** What the reads depend on: the parts of the run's `MessageInput` that name what to read. */
interface ReadsInput {
  agentRef: string;
  source: 'api' | 'openai';
  conversationId?: string | undefined;
  history?: readonly unknown[] | undefined;
  regenerate?: { conversation: ConversationRecord } | undefined;
}

/**
 * The OpenAI-compatible API names agents as models (by name, as /v1/models lists them); the REST
 * API, and a regenerate of either API's conversation, by id.
 */
export function namesAgentByName(input: ReadsInput): boolean {
  return input.source === 'openai' && input.regenerate === undefined;
}

/** Starts the reads of one run; see {@link RunReads}. */
export function startRunReads(tenant: TenantContext, input: ReadsInput, now: number): RunReads {
  const { store } = tenant;
  const period = budgetPeriod(now);
  const { conversationId } = input;
  const continued = conversationId !== undefined;
  return store.readTogether(() => ({
    agent: quiet(namesAgentByName(input) ? store.agents.findByName(input.agentRef) : store.agents.get(input.agentRef)),
    conversation: !continued ? undefined : input.regenerate ? Promise.resolve(input.regenerate.conversation) : quiet(store.conversations.get(conversationId)),
    recent: continued && input.history === undefined ? quiet(store.messages.recent(conversationId, RECENT_TURNS)) : undefined,
    credentials: quiet(store.providerCredentials.list()),
    budget: { period, record: quiet(store.budget.get(period)) },
  }));
}

/**
 * Marks a read's failure as handled here, so a run that ends before awaiting it (refused by the
 * admission guard, say) does not leave an unhandled rejection; the stage that awaits it still
 * gets the error.
 */
function quiet<T>(read: Promise<T>): Promise<T> {
  read.catch(() => {});
  return read;
}
