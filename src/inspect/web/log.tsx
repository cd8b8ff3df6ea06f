/**
 * The record log: seq, time, command, summary, prev and hash, and the labels
 * naming each record, a page at a time. For an import, time is when the event
 * happened (pi's time, like `palimpsest log`) and the import time is under it
 * (and in its tooltip). When verify finds a problem, the first broken link is
 * named at the top and its row is red.
 */
import type { LabelView, LogPage, LogRow, VerifyView } from '../views.ts';
import { apiPath, PAGE_SIZE } from '../apiPath.ts';
import { Pager, Pending } from './common.tsx';
import { short, time } from './format.ts';
import { useApi } from './hooks.ts';
import { AnnotationsError, LabelTag, labelsOn, Mismatches } from './labels.tsx';
import type { Go } from './nav.ts';

/** The time cell: the original time when the import recorded one (the import time under it and in its tooltip), else the record's time. */
const TimeCell = ({ r }: { r: LogRow }) =>
  r.originalAt === undefined ? (
    <td title="when the record was written">{time(r.at)}</td>
  ) : (
    <td title={`happened ${time(r.originalAt)} (pi's time); imported ${time(r.at)}`} data-testid="original-time">
      {time(r.originalAt)}
      <div class="muted">imported {time(r.at)}</div>
    </td>
  );

/** One readable record; red when verify names it as the first broken link (e.g. a replay that diverges there). */
const row = (brokenSeq: number | undefined, labels: readonly LabelView[], sessionId: string) => (r: LogRow) => (
  <tr key={r.seq} class={r.seq === brokenSeq ? 'broken' : ''} data-testid="log-row" data-seq={r.seq}>
    <td class="r">{r.seq}</td>
    <TimeCell r={r} />
    <td>{r.type}</td>
    <td class="summary">
      {labelsOn(labels, sessionId)
        .filter((l) => l.seq === r.seq)
        .map((l) => (
          <LabelTag key={l.label} l={l} />
        ))}{' '}
      {r.summary}
    </td>
    <td class="digest" title={r.prev}>
      {short(r.prev)}
    </td>
    <td class="digest" title={r.hash}>
      {short(r.hash)}
    </td>
  </tr>
);

export const LogView = ({ sessionId, offset, go }: { sessionId: string; offset: number; go: Go }) => {
  const from = offset < 1 ? 1 : offset;
  const page = useApi<LogPage>(apiPath('log', { session: sessionId, from, limit: PAGE_SIZE }));
  const verify = useApi<VerifyView>(apiPath('verify', { session: sessionId }));
  const broken = verify !== undefined && verify.ok ? verify.value.firstBrokenSeq : undefined;
  const problem = verify !== undefined && verify.ok ? verify.value.problems[0] : undefined;
  const toPage = (seq: number) => go({ kind: 'session', sessionId, tab: 'log', offset: 1 + Math.floor((seq - 1) / PAGE_SIZE) * PAGE_SIZE });
  return (
    <div>
      {verify === undefined && <p class="muted">verifying the hash chain…</p>}
      {verify !== undefined && verify.ok && verify.value.ok && <p class="ok-text">hash chain verified: {verify.value.records} records</p>}
      {problem !== undefined && (
        <p class="broken-banner" data-testid="broken-banner">
          verify failed{broken !== undefined ? ` — first broken link at seq ${broken}` : ''}: {problem.reason} [{problem._tag}]{' '}
          {broken !== undefined && <button onClick={() => toPage(broken)}>show</button>}
        </p>
      )}
      {page === undefined || !page.ok ? (
        <Pending answer={page} />
      ) : (
        <>
          <AnnotationsError error={page.value.annotationsError} />
          <Mismatches labels={page.value.labels} sessionId={sessionId} />
          <Pager first={1} offset={from} size={PAGE_SIZE} total={page.value.total} onPage={(o) => go({ kind: 'session', sessionId, tab: 'log', offset: o })} />
          <table class="grid compact" data-testid="log">
            <thead>
              <tr>
                <th class="r">seq</th>
                <th>time</th>
                <th>command</th>
                <th>summary</th>
                <th>prev</th>
                <th>hash</th>
              </tr>
            </thead>
            <tbody>
              {page.value.rows.filter((r) => page.value.broken === undefined || r.seq < page.value.broken.seq).map(row(broken, page.value.labels, sessionId))}
              {page.value.broken !== undefined && (
                <tr class="broken" data-testid="log-row" data-seq={page.value.broken.seq}>
                  <td class="r">{page.value.broken.seq}</td>
                  <td colSpan={5}>
                    record fails its check, not shown as data: {page.value.broken.reason} [{page.value.broken._tag}]
                  </td>
                </tr>
              )}
              {page.value.broken !== undefined && page.value.rows.filter((r) => r.seq > page.value.broken!.seq).map(row(broken, page.value.labels, sessionId))}
              {page.value.brokenTail !== undefined && (
                <tr class="broken">
                  <td class="r">{page.value.brokenTail.seq}…</td>
                  <td colSpan={5}>{page.value.brokenTail.message}</td>
                </tr>
              )}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
};
