import { useState } from 'react';

/** Copies `text` to the clipboard and says so for a moment (to screen readers too). */
/** `what` completes the button's name: "Copy <what>". */
export function CopyButton({ text, what }: { text: string; what: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = () => {
    const done = (next: 'copied' | 'failed') => {
      setState(next);
      window.setTimeout(() => setState('idle'), 2000);
    };
    if (!navigator.clipboard) return done('failed');
    navigator.clipboard.writeText(text).then(
      () => done('copied'),
      () => done('failed'),
    );
  };
  // The visible word starts the accessible name ("Copy ts code"), as WCAG's label-in-name asks.
  return (
    <>
      <button type="button" className="button-small button-secondary copy-button" onClick={copy}>
        {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed' : 'Copy'}
        <span className="sr-only"> {what}</span>
      </button>
      <span className="sr-only" role="status">
        {state === 'copied' ? `Copied ${what}` : state === 'failed' ? `Could not copy ${what}` : ''}
      </span>
    </>
  );
}
