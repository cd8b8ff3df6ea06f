/**
 * The revision timeline: the labels (selecting one shows its diff to the head),
 * the rewrite commits (reason, actor, note, digests; selecting one shows its
 * diff) and one row per head change, paged, with its original time (imports)
 * and the labels naming it.
 */
import { useState } from 'preact/hooks';
import type { TimelineView as Timeline } from '../views.ts';
import { apiPath, labelPoint, PAGE_SIZE } from '../apiPath.ts';
import { Pager, Pending } from './common.tsx';
import { DiffPanel } from './diff.tsx';
import { num, short, time } from './format.ts';
import { useApi } from './hooks.ts';
import { AnnotationsError, LabelTag, labelsOn, Mismatches, type OkLabel } from './labels.tsx';
import type { Go } from './nav.ts';

/** The head change each label names: the newest node at or before its seq (nodes are in seq order). */
const labelsByNode = (nodes: Timeline['nodes'], labels: readonly OkLabel[]): Map<number, OkLabel[]> => {
  const out = new Map<number, OkLabel[]>();
  for (const l of labels) {
    let lo = 0;
    let hi = nodes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (nodes[mid]!.seq <= l.seq) lo = mid;
      else hi = mid - 1;
    }
    const n = nodes[lo];
    if (n === undefined || n.seq > l.seq) continue;
    out.set(n.seq, [...(out.get(n.seq) ?? []), l]);
  }
  return out;
};

/** The labels the session holds: each with its record, and buttons for the transcript there and its diff to the head. */
const Labels = ({ t, labelDiff, go }: { t: Timeline; labelDiff: string | undefined; go: Go }) => {
  const ok = t.labels.filter((l): l is OkLabel => l.status === 'ok');
  return (
    <>
      <h3>labels</h3>
      <AnnotationsError error={t.annotationsError} />
      <Mismatches labels={t.labels} sessionId={t.sessionId} />
      {ok.length === 0 && t.annotationsError === undefined && <p class="muted">none</p>}
      <ul class="labels">
        {ok.map((l) => (
          <li key={l.label} class={l.label === labelDiff ? 'selected' : ''} data-testid="timeline-label" data-label={l.label} data-seq={l.seq}>
            <LabelTag l={l} /> {l.sessionId !== t.sessionId ? `inherited: ${l.sessionId} ` : ''}seq {l.seq} · revision <span class="digest" title={l.revision}>{short(l.revision)}</span>{' '}
            <button data-testid="label-diff" onClick={() => go({ kind: 'session', sessionId: t.sessionId, tab: 'timeline', labelDiff: l.label })}>
              diff to head
            </button>{' '}
            <button onClick={() => go({ kind: 'session', sessionId: t.sessionId, tab: 'transcript', at: labelPoint(l.label) })}>transcript</button>
          </li>
        ))}
      </ul>
    </>
  );
};

export const TimelineView = ({ sessionId, commitSeq, labelDiff, go }: { sessionId: string; commitSeq: number | undefined; labelDiff: string | undefined; go: Go }) => {
  const a = useApi<Timeline>(apiPath('timeline', { session: sessionId }));
  const [offset, setOffset] = useState(0);
  if (a === undefined || !a.ok) return <Pending answer={a} />;
  const t = a.value;
  const select = (seq: number) => go({ kind: 'session', sessionId, tab: 'timeline', commitSeq: seq });
  const byNode = labelsByNode(t.nodes, labelsOn(t.labels, sessionId));
  const original = t.nodes.some((n) => n.originalAt !== undefined);
  return (
    <div>
      <p>
        head <span class="digest">{t.head}</span> · {num(t.nodes.length)} head changes · {t.commits.length} rewrite commits
        {t.forkedFrom !== undefined && ` · fork of ${t.forkedFrom.sessionId} at seq ${t.forkedFrom.seq}`}
      </p>
      <Labels t={t} labelDiff={labelDiff} go={go} />
      {labelDiff !== undefined && <DiffPanel sessionId={sessionId} a={labelPoint(labelDiff)} b="head" />}
      <h3>rewrite commits</h3>
      {t.commits.length === 0 && <p class="muted">none</p>}
      <ul class="commits">
        {t.commits.map(({ seq, commit: c }) => (
          <li key={seq} class={seq === commitSeq ? 'commit selected' : 'commit'} data-testid="commit" data-seq={seq} onClick={() => select(seq)}>
            <div>
              <b>seq {seq}</b> · <span class="reason">{c.reason.kind}</span>
              {c.actor !== undefined && ` · actor ${c.actor}`} · [{c.selection.start},{c.selection.end}) · messages {num(c.messagesBefore)} → {num(c.messagesAfter)} · {time(c.committedAt)}
            </div>
            {c.reason.note !== undefined && <div class="note">{c.reason.note}</div>}
            <div class="digests">
              parent <span title={c.parentRevision}>{short(c.parentRevision)}</span> → revision <span title={c.revision}>{short(c.revision)}</span> · original span{' '}
              <span title={c.originalSpanDigest}>{short(c.originalSpanDigest)}</span> · replacement <span title={c.replacementDigest}>{short(c.replacementDigest)}</span>
            </div>
            <div class="actions">
              <button data-testid="transcript-before" onClick={(e) => (e.stopPropagation(), go({ kind: 'session', sessionId, tab: 'transcript', at: String(seq - 1) }))}>
                transcript before
              </button>{' '}
              <button onClick={(e) => (e.stopPropagation(), go({ kind: 'session', sessionId, tab: 'transcript', at: String(seq) }))}>transcript after</button>
            </div>
          </li>
        ))}
      </ul>
      {commitSeq !== undefined && <DiffPanel sessionId={sessionId} a={String(commitSeq - 1)} b={String(commitSeq)} />}
      <h3>head changes</h3>
      <Pager offset={offset} size={PAGE_SIZE} total={t.nodes.length} onPage={setOffset} />
      <table class="grid compact" data-testid="heads">
        <thead>
          <tr>
            <th class="r">seq</th>
            {original && <th title="when the event happened (the import's original time)">happened</th>}
            <th>revision</th>
            <th>by</th>
            <th>labels</th>
          </tr>
        </thead>
        <tbody>
          {t.nodes.slice(offset, offset + PAGE_SIZE).map((n) => (
            <tr key={n.seq} class={n.commit !== undefined ? 'is-commit' : ''} data-testid="head-row" data-seq={n.seq}>
              <td class="r">{n.seq}</td>
              {original && <td>{n.originalAt !== undefined ? time(n.originalAt) : ''}</td>}
              <td class="digest" title={n.revision}>
                {short(n.revision)}
              </td>
              <td>
                {n.commandType}
                {n.commit !== undefined && (
                  <button class="link" onClick={() => select(n.seq)}>
                    {' '}
                    ({n.commit.reason.kind}: show diff)
                  </button>
                )}
              </td>
              <td>
                {(byNode.get(n.seq) ?? []).map((l) => (
                  <LabelTag key={l.label} l={l} />
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
};
