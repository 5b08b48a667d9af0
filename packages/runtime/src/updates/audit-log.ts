import { appendLineDurably } from './durable-fs.js';

/** One line of `/var/lib/agentik-os/updates/audit.log` (JSON lines, append-only). */
export interface AuditEntry {
  action: 'check' | 'apply' | 'rollback' | 'recover';
  outcome: 'committed' | 'refused' | 'rolled-back' | 'failed' | 'restored' | 'finished' | 'checked';
  from?: string;
  to?: string;
  keyFingerprint?: string;
  bundleSha256?: string;
  /** The error code and message, or what was done. */
  detail?: string;
}

export function appendAudit(file: string, entry: AuditEntry): void {
  appendLineDurably(file, JSON.stringify({ at: new Date().toISOString(), ...entry }), 0o640);
}
