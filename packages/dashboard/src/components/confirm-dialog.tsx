import { useEffect, useRef, type ReactNode } from 'react';

/**
 * A modal "are you sure?" dialog for a destructive action: the native `<dialog>` opened with
 * `showModal()`, so the rest of the page is inert (focus stays inside), Escape cancels, and focus
 * returns to whatever opened it when it closes; Tab wraps inside it. Focus starts on Cancel (the
 * safe choice), or on the dialog's field when it has one.
 */
export function ConfirmDialog({
  titleId,
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
  busy = false,
  confirmDisabled = false,
}: {
  titleId: string;
  title: ReactNode;
  /** What the action does. */
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  /** While the action runs: both buttons are disabled. */
  busy?: boolean;
  /** The action needs something more first (a typed confirmation). */
  confirmDisabled?: boolean;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const cancelRef = useRef(onCancel);
  cancelRef.current = onCancel;

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    // jsdom has no showModal; there the dialog is simply open.
    if (typeof d.showModal === 'function' && !d.open) d.showModal();
    else d.setAttribute('open', '');
    if (!d.querySelector('input')) cancel.current?.focus();
    const onCancelEvent = (e: Event) => {
      e.preventDefault();
      cancelRef.current();
    };
    // The page behind is inert, but Tab would still leave for the browser's own controls: wrap.
    const onKeyDown = (e: KeyboardEvent) => {
      if (e.key !== 'Tab') return;
      const stops = [...d.querySelectorAll<HTMLElement>('button:not(:disabled), input:not(:disabled), a[href], [tabindex="0"]')];
      if (stops.length === 0) return;
      const first = stops[0]!;
      const last = stops[stops.length - 1]!;
      if (e.shiftKey && (document.activeElement === first || !d.contains(document.activeElement))) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && (document.activeElement === last || !d.contains(document.activeElement))) {
        e.preventDefault();
        first.focus();
      }
    };
    d.addEventListener('cancel', onCancelEvent);
    d.addEventListener('keydown', onKeyDown);
    return () => {
      d.removeEventListener('cancel', onCancelEvent);
      d.removeEventListener('keydown', onKeyDown);
      if (d.open && typeof d.close === 'function') d.close();
      // Back to the button that opened it, when it is still there.
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  return (
    <dialog ref={dialog} className="dialog" aria-labelledby={titleId} aria-modal="true">
      <h2 id={titleId}>{title}</h2>
      <div className="dialog-body">{children}</div>
      <div className="actions">
        <button type="button" className="button-danger" onClick={onConfirm} disabled={busy || confirmDisabled}>
          {confirmLabel}
        </button>
        <button type="button" ref={cancel} className="button-secondary" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}
