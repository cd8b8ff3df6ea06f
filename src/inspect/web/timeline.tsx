/**
 * The revision timeline: the rewrite commits (reason, actor, note, digests;
 * selecting one shows its diff) and one row per head change, paged.
 */
import { useState } from 'preact/hooks';
import type { TimelineView as Timeline } from '../views.ts';
import { apiPath, PAGE_SIZE } from '../apiPath.ts';
import { Pager, Pending } from './common.tsx';
import { DiffPanel } from './diff.tsx';
import { num, short, time } from './format.ts';
import { useApi } from './hooks.ts';
import type { Go } from './nav.ts';

export const TimelineView = ({ sessionId, commitSeq, go }: { sessionId: string; commitSeq: number | undefined; go: Go }) => {
  const a = useApi<Timeline>(apiPath('timeline', { session: sessionId }));
  const [offset, setOffset] = useState(0);
  if (a === undefined || !a.ok) return <Pending answer={a} />;
  const t = a.value;
  const select = (seq: number) => go({ kind: 'session', sessionId, tab: 'timeline', commitSeq: seq });
  return (
    <div>
      <p>
        head <span class="digest">{t.head}</span> · {num(t.nodes.length)} head changes · {t.commits.length} rewrite commits
        {t.forkedFrom !== undefined && ` · fork of ${t.forkedFrom.sessionId} at seq ${t.forkedFrom.seq}`}
      </p>
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
            <th>revision</th>
            <th>by</th>
          </tr>
        </thead>
        <tbody>
          {t.nodes.slice(offset, offset + PAGE_SIZE).map((n) => (
            <tr key={n.seq} class={n.commit !== undefined ? 'is-commit' : ''}>
              <td class="r">{n.seq}</td>
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
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
};
