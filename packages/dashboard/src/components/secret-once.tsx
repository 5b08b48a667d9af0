import { useEffect, useRef, useState } from 'react';

/** A newly issued key, shown once with a copy button and a warning that it will not be shown again. */
export function SecretOnce({ secret, label, onDone }: { secret: string; label: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const copyButton = useRef<HTMLButtonElement>(null);
  // The form that issued the key is gone: focus goes to what comes next, copying the key.
  useEffect(() => copyButton.current?.focus(), []);
  const copy = () => {
    void navigator.clipboard?.writeText(secret).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  return (
    <div className="secret" role="region" aria-label={label}>
      <p>
        <strong>{label}.</strong> Copy it now: it is shown only once and cannot be recovered.
      </p>
      <code className="secret-value" data-testid="new-key">
        {secret}
      </code>
      <div className="actions">
        <button type="button" ref={copyButton} className="button-secondary" onClick={copy}>
          {copied ? 'Copied' : 'Copy'}
        </button>
        <button type="button" onClick={onDone}>
          I have stored it
        </button>
      </div>
    </div>
  );
}
