import { useDeferredValue, useState } from 'react';
import { formatInt } from './format';
import { TextField } from './ui';

/** Cursor paging for a Relay connection: Next follows endCursor, Previous
 * goes back to the cursor the page before started at. */
export function usePager() {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  const after = stack[stack.length - 1];
  return {
    after,
    page: stack.length,
    reset: () => setStack([null]),
    next: (cursor: string | null | undefined) => cursor && setStack((s) => [...s, cursor]),
    prev: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
  };
}

/** The total a connection reports; exact false marks a count that
 * stopped at its cap, shown as "1,000+". */
export function totalText(total: number, exact = true): string {
  return exact ? formatInt(total) : `${formatInt(total)}+`;
}

export function Pager({ pager, hasNext, total, exact = true, shown }: { pager: ReturnType<typeof usePager> & { endCursor?: string | null }; hasNext: boolean; total: number; exact?: boolean; shown: number }) {
  return (
    <nav className="pager" aria-label="Pages">
      <span className="muted small">
        Page {pager.page} · {shown} shown of {totalText(total, exact)}
      </span>
      <button type="button" onClick={pager.prev} disabled={pager.page === 1}>Previous</button>
      <button type="button" onClick={() => pager.next(pager.endCursor)} disabled={!hasNext}>Next</button>
    </nav>
  );
}

/** A paged list with a search: its pager, the text typed, and the search
 * to send (trimmed, and deferred while typing). Typing starts again from
 * the first page. */
export function useSearchedPager() {
  const pager = usePager();
  const [search, setSearch] = useState('');
  const searched = useDeferredValue(search.trim());
  const type = (text: string) => {
    pager.reset();
    setSearch(text);
  };
  return { pager, search, searched, type };
}

/** The search box above a paged list. */
export function ListSearch({ label, list, placeholder, hint }: { label: string; list: ReturnType<typeof useSearchedPager>; placeholder: string; hint: string }) {
  return (
    <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={label}>
      <TextField label="Search" type="search" value={list.search} onChange={(e) => list.type(e.target.value)} placeholder={placeholder} hint={hint} />
    </form>
  );
}
