import { useEffect, useState } from 'react';

/**
 * Hash routing (`#/agents`): it works from any static host, a file server or the runtime alike,
 * without a server-side fallback.
 */
export function currentPath(): string {
  const hash = window.location.hash.replace(/^#/, '');
  return hash.startsWith('/') ? hash : '/';
}

export function navigate(path: string): void {
  window.location.hash = path;
}

/** The current route's path, re-rendering on every change. */
export function usePath(): string {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const update = () => setPath(currentPath());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return path;
}

/** Splits a path into its segments: "/agents/ag_1/edit" -> ["agents", "ag_1", "edit"]. */
export function segments(path: string): string[] {
  return path.split('?')[0]!.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
}
