import type { ReactNode } from 'react';
import type { AsyncState } from '../lib/use-async';
import { ErrorMessage, Loading } from './status';

/**
 * A loaded list in its states: loading (first load only), failed (with a retry), empty, or its
 * rows, which `children` renders.
 */
export function AsyncList<T>({
  list,
  loadingLabel,
  empty,
  children,
}: {
  list: AsyncState<{ data: T[] }>;
  loadingLabel: string;
  empty: ReactNode;
  children: (rows: T[]) => ReactNode;
}) {
  return (
    <>
      {list.loading && !list.data ? <Loading label={loadingLabel} /> : null}
      <ErrorMessage error={list.error} onRetry={list.reload} />
      {list.data && list.data.data.length === 0 ? empty : null}
      {list.data && list.data.data.length > 0 ? children(list.data.data) : null}
    </>
  );
}
