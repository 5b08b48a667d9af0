import { ApiError } from '../api/client';

/** The message to show for any error: the API's own message (with its code), or a generic line. */
export function describeError(error: unknown): { code: string | null; message: string } {
  if (error instanceof ApiError) return { code: error.code, message: error.message };
  if (error instanceof Error && error.message) return { code: null, message: error.message };
  return { code: null, message: 'Something went wrong.' };
}

/** An error, announced to screen readers, with an optional retry. */
export function ErrorMessage({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (error === undefined || error === null) return null;
  const { code, message } = describeError(error);
  return (
    <div className="alert alert-error" role="alert">
      <p>
        {message}
        {code ? <span className="code"> ({code})</span> : null}
      </p>
      {onRetry ? (
        <button type="button" className="button-secondary" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** A loading line that screen readers announce politely. */
export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

/** What a list says when it has nothing in it. */
export function Empty({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children ? <div className="empty-body">{children}</div> : null}
    </div>
  );
}

/** A success notice. */
export function Notice({ children }: { children: React.ReactNode }) {
  return (
    <div className="alert alert-ok" role="status">
      {children}
    </div>
  );
}

/** Why a viewer key sees no buttons that change things. */
export function ReadOnlyNote({ children }: { children?: React.ReactNode }) {
  return (
    <p className="note" data-testid="read-only">
      {children ?? 'You are signed in with a viewer key: you can read everything here, but not change it.'}
    </p>
  );
}
