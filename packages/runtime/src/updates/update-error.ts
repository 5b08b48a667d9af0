/**
 * Stable codes of the updater's refusals and failures (printed as `CODE: message`). Refusals
 * happen before anything on the system changed; failures after, and say what was restored.
 */
export type UpdateErrorCode =
  | 'UPDATE_USAGE'
  | 'UPDATE_SOURCE_NOT_FOUND'
  | 'UPDATE_DOWNLOAD_FAILED'
  | 'UPDATE_ARCHIVE_UNSAFE'
  | 'UPDATE_ARCHIVE_CORRUPT'
  | 'UPDATE_NO_TRUSTED_KEYS'
  | 'UPDATE_SIGNATURE_INVALID'
  | 'UPDATE_MANIFEST_INVALID'
  | 'UPDATE_BUNDLE_MISMATCH'
  | 'UPDATE_FILE_MISSING'
  | 'UPDATE_FILE_UNLISTED'
  | 'UPDATE_FILE_MISMATCH'
  | 'UPDATE_VERSION_BELOW_FLOOR'
  | 'UPDATE_SAME_VERSION'
  | 'UPDATE_NOT_INSTALLED'
  | 'UPDATE_LOCKED'
  | 'UPDATE_CONFIRMATION_REQUIRED'
  | 'UPDATE_NOTHING_TO_ROLL_BACK'
  | 'UPDATE_BACKUP_FAILED'
  | 'UPDATE_BACKUP_REFUSED'
  | 'UPDATE_SERVICE_FAILED'
  | 'UPDATE_MIGRATION_FAILED'
  | 'UPDATE_HEALTH_FAILED'
  | 'UPDATE_ROLLED_BACK'
  | 'UPDATE_RESTORE_FAILED';

/** Exit codes of `agentik update`: what an operator's script can branch on. */
export const UPDATE_EXIT = {
  ok: 0,
  /** Something failed and the system may need a look (the message says what). */
  failed: 1,
  usage: 2,
  /** Refused before anything changed (bad bundle, version rules, lock, confirmation). */
  refused: 3,
  /** The update failed and the previous version was restored, healthy, with its data. */
  rolledBack: 4,
  /** The update failed and restoring the previous version failed too: act now. */
  restoreFailed: 5,
} as const;

const REFUSALS = new Set<UpdateErrorCode>([
  'UPDATE_SOURCE_NOT_FOUND',
  'UPDATE_DOWNLOAD_FAILED',
  'UPDATE_ARCHIVE_UNSAFE',
  'UPDATE_ARCHIVE_CORRUPT',
  'UPDATE_NO_TRUSTED_KEYS',
  'UPDATE_SIGNATURE_INVALID',
  'UPDATE_MANIFEST_INVALID',
  'UPDATE_BUNDLE_MISMATCH',
  'UPDATE_FILE_MISSING',
  'UPDATE_FILE_UNLISTED',
  'UPDATE_FILE_MISMATCH',
  'UPDATE_VERSION_BELOW_FLOOR',
  'UPDATE_SAME_VERSION',
  'UPDATE_NOT_INSTALLED',
  'UPDATE_LOCKED',
  'UPDATE_CONFIRMATION_REQUIRED',
  'UPDATE_NOTHING_TO_ROLL_BACK',
  'UPDATE_BACKUP_REFUSED',
]);

export class UpdateError extends Error {
  constructor(
    readonly code: UpdateErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'UpdateError';
  }

  /** The process exit code for this error. */
  get exitCode(): number {
    if (this.code === 'UPDATE_USAGE') return UPDATE_EXIT.usage;
    if (this.code === 'UPDATE_ROLLED_BACK') return UPDATE_EXIT.rolledBack;
    if (this.code === 'UPDATE_RESTORE_FAILED') return UPDATE_EXIT.restoreFailed;
    return REFUSALS.has(this.code) ? UPDATE_EXIT.refused : UPDATE_EXIT.failed;
  }
}
