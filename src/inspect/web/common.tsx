/** Small shared pieces: loading and error notes, the verify badge, the pager. */
import type { VerifyView } from '../views.ts';
import { apiPath } from '../apiPath.ts';
import type { Answer } from './data.ts';
import { useApi } from './hooks.ts';

/** "loading…" or the error of an answer; `undefined` when it holds a value. */
export const Pending = ({ answer }: { answer: Answer<unknown> | undefined }) =>
  answer === undefined ? (
    <p class="muted">loading…</p>
  ) : !answer.ok ? (
    <p class="error-text" data-testid="error">
      {answer.error.message} [{answer.error._tag}]
    </p>
  ) : null;

/** The verify badge of a session: green "verified", red "broken at seq N", grey while verifying. */
export const VerifyBadge = ({ sessionId }: { sessionId: string }) => {
  const v = useApi<VerifyView>(apiPath('verify', { session: sessionId }));
  if (v === undefined) return <span class="badge pending">verifying…</span>;
  if (!v.ok) return <span class="badge bad" title={v.error.message}>{v.error._tag}</span>;
  if (v.value.ok)
    return (
      <span class="badge ok" data-testid="verify-ok">
        verified ({v.value.records} records)
      </span>
    );
  const p = v.value.problems[0];
  return (
    <span class="badge bad" data-testid="verify-bad" title={p !== undefined ? p.reason : ''}>
      broken{v.value.firstBrokenSeq !== undefined ? ` at seq ${v.value.firstBrokenSeq}` : ''}
    </span>
  );
};

/** Previous/next page buttons for a list of `total` items shown `size` at a time from `offset`. */
export const Pager = ({ offset, size, total, onPage, first = 0 }: { offset: number; size: number; total: number; onPage: (offset: number) => void; first?: number }) => {
  const last = first + total;
  return (
    <div class="pager">
      <button disabled={offset <= first} onClick={() => onPage(Math.max(first, offset - size))}>
        ‹ previous
      </button>
      <span>
        {total === 0 ? 'none' : `${offset}–${Math.min(offset + size, last) - 1} of ${first === 0 ? total : `${first}–${last - 1}`}`}
      </span>
      <button disabled={offset + size >= last} onClick={() => onPage(offset + size)}>
        next ›
      </button>
      <button disabled={offset + size >= last} onClick={() => onPage(first + Math.floor((total - 1) / size) * size)}>
        last »
      </button>
    </div>
  );
};
