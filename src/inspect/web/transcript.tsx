/**
 * The transcript as the model saw it at a point (head, a seq, a revision, a label),
 * one page of messages at a time.
 */
import { useState } from 'preact/hooks';
import type { TimelineView as Timeline, TranscriptPage } from '../views.ts';
import { apiPath, labelPoint, PAGE_SIZE } from '../apiPath.ts';
import { Pager, Pending } from './common.tsx';
import { isStatic } from './data.ts';
import { num, short } from './format.ts';
import { useApi } from './hooks.ts';
import { MessageCard, pairTools } from './message.tsx';
import type { Go } from './nav.ts';

const PointPicker = ({ sessionId, at, go }: { sessionId: string; at: string; go: Go }) => {
  const t = useApi<Timeline>(apiPath('timeline', { session: sessionId }));
  const [text, setText] = useState(at);
  const options: Array<[string, string]> = [['head', 'head (newest record)']];
  if (t !== undefined && t.ok)
    for (const { seq, commit } of t.value.commits) {
      options.push([String(seq - 1), `seq ${seq - 1}: before the ${commit.reason.kind} at seq ${seq} (${num(commit.messagesBefore)} messages)`]);
      options.push([String(seq), `seq ${seq}: after the ${commit.reason.kind} (${num(commit.messagesAfter)} messages)`]);
    }
  if (t !== undefined && t.ok)
    for (const l of t.value.labels) if (l.status === 'ok') options.push([labelPoint(l.label), `label ${l.label} (${l.sessionId !== sessionId ? `${l.sessionId} ` : ''}seq ${l.seq})`]);
  if (!options.some(([v]) => v === at)) options.push([at, at]);
  return (
    <div class="picker">
      <label>
        at{' '}
        <select data-testid="point-select" value={at} onChange={(e) => go({ kind: 'session', sessionId, tab: 'transcript', at: (e.target as HTMLSelectElement).value })}>
          {options.map(([v, label]) => (
            <option key={v} value={v}>
              {label}
            </option>
          ))}
        </select>
      </label>
      {!isStatic() && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            go({ kind: 'session', sessionId, tab: 'transcript', at: text.trim() === '' ? 'head' : text.trim() });
          }}
        >
          <input data-testid="point-input" value={text} placeholder="seq, revision or head" onInput={(e) => setText((e.target as HTMLInputElement).value)} /> <button>show</button>
        </form>
      )}
    </div>
  );
};

export const TranscriptView = ({ sessionId, at, offset, go }: { sessionId: string; at: string; offset: number; go: Go }) => {
  const page = useApi<TranscriptPage>(apiPath('transcript', { session: sessionId, at, offset, limit: PAGE_SIZE }));
  return (
    <div>
      <PointPicker sessionId={sessionId} at={at} go={go} />
      {page === undefined || !page.ok ? (
        <Pending answer={page} />
      ) : (
        <>
          <p data-testid="transcript-summary">
            <b data-testid="transcript-total">{num(page.value.total)} messages</b> at record {page.value.seq}, revision <span class="digest">{short(page.value.revision)}</span>
          </p>
          <Pager offset={offset} size={PAGE_SIZE} total={page.value.total} onPage={(o) => go({ kind: 'session', sessionId, tab: 'transcript', at, offset: o })} />
          <div class="transcript">
            {page.value.entries.map((e) => (
              <MessageCard key={e.index} entry={e} pairs={pairTools(page.value.entries)} />
            ))}
          </div>
        </>
      )}
    </div>
  );
};
