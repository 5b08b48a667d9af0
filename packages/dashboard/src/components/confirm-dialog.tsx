import type { ReactNode } from 'react';

/** An inline "are you sure?" panel for a destructive action, with the action and Cancel. */
export function ConfirmDialog({
  titleId,
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
}: {
  titleId: string;
  title: ReactNode;
  /** What the action does, in one sentence. */
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <div className="card card-danger" role="alertdialog" aria-labelledby={titleId}>
      <h2 id={titleId}>{title}</h2>
      <p>{children}</p>
      <div className="actions">
        <button type="button" className="button-danger" onClick={onConfirm}>
          {confirmLabel}
        </button>
        <button type="button" className="button-secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
