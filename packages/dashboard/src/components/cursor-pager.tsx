/** "First page" and "Next page" for a list the API pages forward with a cursor. */
export function CursorPager({
  cursor,
  nextCursor,
  onPage,
}: {
  /** The cursor of the page shown; null on the first page. */
  cursor: string | null;
  nextCursor: string | null | undefined;
  onPage: (cursor: string | null) => void;
}) {
  return (
    <div className="pager">
      {cursor ? (
        <button type="button" className="button-secondary" onClick={() => onPage(null)}>
          First page
        </button>
      ) : null}
      {nextCursor ? (
        <button type="button" className="button-secondary" onClick={() => onPage(nextCursor)}>
          Next page
        </button>
      ) : null}
    </div>
  );
}
