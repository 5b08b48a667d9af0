import type { ReactNode } from 'react';
import { ErrorMessage } from './status';

/** The foot of a form: its error, if any, then the submit button and Cancel. */
export function FormActions({
  error,
  onCancel,
  disabled,
  danger = false,
  children,
}: {
  error: unknown;
  onCancel: () => void;
  /** Whether the submit button is disabled (busy, or not confirmed yet). */
  disabled: boolean;
  danger?: boolean;
  /** The submit button's label. */
  children: ReactNode;
}) {
  return (
    <>
      <ErrorMessage error={error} />
      <div className="actions">
        <button type="submit" className={danger ? 'button-danger' : undefined} disabled={disabled}>
          {children}
        </button>
        <button type="button" className="button-secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </>
  );
}
