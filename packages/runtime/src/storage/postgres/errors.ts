/** Postgres reports unique and primary-key violations with SQLSTATE 23505. */
export function isPgUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}

/** Raised when the database or its login role is not set up the way the runtime needs. */
export class PostgresSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PostgresSetupError';
  }
}
