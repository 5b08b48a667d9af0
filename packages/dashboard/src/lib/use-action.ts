import { useState, type FormEvent } from 'react';

/** An action started from a button: `run` clears the last error, awaits the work and keeps what it threw. */
export function useAction() {
  const [error, setError] = useState<unknown>(null);
  const run = async (work: () => Promise<void>) => {
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(e);
    }
  };
  return { error, setError, run };
}

/**
 * A form's submit handler: busy while `work` runs, its error kept for display. With `staysBusy`
 * the form stays busy after a success (it is about to go away), and is ready again only after a failure.
 */
export function useSubmit(work: () => Promise<void>, { staysBusy = false }: { staysBusy?: boolean } = {}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await work();
      if (!staysBusy) setBusy(false);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return { busy, error, onSubmit: (event: FormEvent) => void submit(event) };
}
