import { newId } from '../../lib/ids.js';
import type { StorageBackend, TenantStore, TenantStoreHandle } from '../port.js';
import type { AgentRecord, ApiKeyRecord, CostEventRecord, TenantRecord } from '../records.js';

/** What a backend's conformance test file gives the suite. */
export interface ConformanceTarget {
  /** Opens a backend on empty storage (called once for the suite). */
  open(): Promise<StorageBackend>;
  /** Removes whatever `open` made (called after the backend was closed). */
  teardown?(): Promise<void>;
}

/** The backend under test, shared by every domain's tests (each works on fresh ids). */
export interface ConformanceSuite {
  /** The open backend (set before any test runs). */
  backend(): StorageBackend;
  /** A freshly provisioned tenant store, closed when the suite ends. */
  freshTenant(): Promise<{ id: string; store: TenantStore; handle: TenantStoreHandle }>;
}

export const T0 = Date.parse('2026-03-10T12:00:00Z');
export const DAY = 86_400_000;
export const PERIOD = '2026-03';

export function tenantRecord(overrides: Partial<TenantRecord> = {}): TenantRecord {
  const id = newId('tenant');
  return { id, slug: `s-${id.slice(-10)}`, name: 'Acme', owner: 'o@example.com', plan: 'free', status: 'active', createdAt: T0, deletedAt: null, limitOverrides: {}, ...overrides };
}

export function keyRecord(tenantId: string | null, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const id = newId('key');
  return { id, tenantId, userId: null, role: tenantId === null ? 'operator' : 'owner', name: null, prefix: 'agk_x', hash: `h-${id}`, createdAt: T0, lastUsedAt: null, revokedAt: null, ...overrides };
}

export function agentRecord(name: string, overrides: Partial<AgentRecord> = {}): AgentRecord {
  return {
    id: newId('agent'),
    name,
    description: null,
    systemPrompt: 'Be brief.',
    provider: 'ollama',
    model: 'llama3.2',
    temperature: 0.7,
    maxTokens: 256,
    tools: ['clock'],
    contextTokens: null,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

export function costEvent(agentId: string, overrides: Partial<CostEventRecord> = {}): CostEventRecord {
  return {
    id: newId('costEvent'),
    agentId,
    conversationId: null,
    messageId: null,
    provider: 'openai',
    model: 'gpt-4o',
    inputTokens: 10,
    outputTokens: 20,
    costUsd: 0.5,
    latencyMs: 12,
    outcome: 'ok',
    usageEstimated: false,
    usageAnomaly: null,
    createdAt: T0,
    ...overrides,
  };
}
