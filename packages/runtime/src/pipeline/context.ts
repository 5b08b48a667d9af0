import type { ResolvedPrice } from '../cost/pricing.js';
import type { Lease } from '../limits/concurrency-limiter.js';
import type { ChatMessage, FinishReason, LlmProvider } from '../providers/types.js';
import type { AgentRecord, ConversationRecord, CostOutcome } from '../storage/records.js';
import type { TenantContext } from '../tenants/context.js';
import type { Tool } from '../tools/registry.js';
import type { BudgetReservation, Settlement } from './budget-reservation.js';
import type { RunReads } from './run-reads.js';

/** What a caller asks of an agent. */
export interface MessageInput {
  /** Agent id, or its name (the OpenAI-compatible API names agents as models). */
  agentRef: string;
  /** The new user turn. */
  content: string;
  /** Continue this conversation; a new one is started when absent. */
  conversationId?: string | undefined;
  /** The tenant's own end-user id, kept with the conversation. */
  userId?: string | undefined;
  /**
   * Earlier turns the caller sends itself (OpenAI-compatible clients send the whole history);
   * when given, stored memory is not loaded.
   */
  history?: ChatMessage[] | undefined;
  source: 'api' | 'openai';
  /**
   * Regenerate: `content` is this stored user turn of `conversationId` (its last), answered
   * again. Memory stops before it, and save-memory replaces the replies after it instead of
   * storing the turn a second time. `conversation` is the conversation as read to find it: the
   * run's reads take it from here instead of reading it again.
   */
  regenerate?: { userMessageId: string; conversation: ConversationRecord } | undefined;
}

/** Receives streamed text as it is generated. */
export interface PipelineSink {
  /** Told the agent's name once the route stage has found it, before any text. */
  onAgent?(name: string): void;
  onText(text: string): void;
  /**
   * Given the answer by send-response, the last stage (a streaming caller writes it out as its
   * final event); the run also returns it.
   */
  onDone?(output: PipelineOutput): void;
}

/** Token usage as reported: `null` where the provider gave none and it could not be estimated. */
export interface ReplyUsage {
  inputTokens: number | null;
  outputTokens: number | null;
}

/** The answer of one pipeline run. */
export interface PipelineOutput {
  conversationId: string;
  agentId: string;
  agentName: string;
  model: string;
  message: { id: string; role: 'assistant'; content: string };
  usage: ReplyUsage;
  costUsd: number | null;
  finishReason: FinishReason;
  /** True when the caller went away before the reply was complete. */
  aborted: boolean;
}

/**
 * Why the booked token counts differ from what the provider reported: `over_bound`, a count
 * above the call's bound (the prompt's byte bound, the request's output bound); `invalid`, a
 * count that is not a non-negative integer. Either way the call is booked at its bound.
 */
export type UsageAnomaly = 'over_bound' | 'invalid';

/** What `execute` produced. */
export interface ExecutionResult {
  text: string;
  usage: ReplyUsage;
  usageEstimated: boolean;
  finishReason: FinishReason;
  /** `failed`: the run ends in an error, but a call produced output or usage that is booked. */
  outcome: CostOutcome;
  latencyMs: number;
  /** Set when the reported usage was out of bounds and the bound was booked instead. */
  usageAnomaly: UsageAnomaly | null;
}

/** What `save-memory` committed: the turn with its cost event, or the cost event alone, or nothing. */
export interface Booking {
  /** The cost event is stored (and so the call is counted into the metrics). */
  booked: boolean;
  /** The budget after the settlement; undefined when the budget row was not touched. */
  settlement: Settlement | undefined;
}

/**
 * The typed context the nine stages fill in, in order. A field is set by the stage named beside
 * it and read only by later ones; the orchestrator sets the rest.
 */
export interface PipelineContext {
  readonly tenant: TenantContext;
  readonly input: MessageInput;
  readonly signal: AbortSignal;
  readonly sink: PipelineSink;
  /** The caller wants the reply streamed to `sink` as it is generated. */
  readonly stream: boolean;
  readonly startedAt: number;
  /** orchestrator: the run's budget reservation (reserved by execute, settled by save-memory) */
  readonly reservation: BudgetReservation;
  /** orchestrator: the reads the stages before the model call need, started together (route, load-memory, model-select and execute await them) */
  readonly reads: RunReads;
  /** admission guard, model-select: concurrency slots held until the run ends (released by the orchestrator) */
  leases: Lease[];
  /** normalize */
  content?: string;
  /** route */
  agent?: AgentRecord;
  /** route */
  conversation?: { id: string; isNew: boolean };
  /** load-memory: system prompt + the turns that fit + the new user turn */
  messages?: ChatMessage[];
  /** load-memory: the output bound passed to the provider and used for reservations */
  maxTokens?: number;
  /** model-select */
  provider?: LlmProvider;
  /** model-select */
  price?: ResolvedPrice;
  /** tool-resolve */
  tools?: Tool[];
  /** execute */
  result?: ExecutionResult;
  /** execute: the priced usage of `result` (null: unknown) */
  costUsd?: number | null;
  /** save-memory */
  assistantMessageId?: string;
  /** save-memory (or the orchestrator, for a run that failed after its model answered) */
  booking?: Booking;
  /** send-response */
  output?: PipelineOutput;
}

/** Reads a field a previous stage must have set. */
export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`pipeline: ${what} is not set; a stage ran out of order`);
  return value;
}
