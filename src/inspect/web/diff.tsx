/** The diff panel: counts, then the changed messages side by side (old left, new right), and the kept spans. */
import type { DiffView } from '../views.ts';
import { apiPath } from '../apiPath.ts';
import { Pending } from './common.tsx';
import { num, short } from './format.ts';
import { useApi } from './hooks.ts';

/** One side of the diff: the summaries of its changed messages (`changed` in all; the rest are counted). */
const Side = ({ testId, title, kind, lines, changed }: { testId: string; title: string; kind: 'removed' | 'added'; lines: DiffView['addedSummaries']; changed: number }) => (
  <div class={`side ${kind === 'removed' ? 'old' : 'new'}`} data-testid={testId}>
    <h4>{title}</h4>
    {lines.map((s) => (
      <div key={s.index} class={`line ${kind}`}>
        <span class="idx">#{s.index}</span> <span class="role">{s.role}</span> {s.summary}
      </div>
    ))}
    {lines.length < changed && <p class="muted">… {num(changed - lines.length)} more</p>}
  </div>
);

export const DiffPanel = ({ sessionId, a, b }: { sessionId: string; a: string; b: string }) => {
  const d = useApi<DiffView>(apiPath('diff', { session: sessionId, a, b }));
  if (d === undefined || !d.ok) return <Pending answer={d} />;
  const v = d.value;
  const n = v.diff.counts;
  return (
    <section class="diff" data-testid="diff">
      <h3>
        diff {a} → {b}
      </h3>
      <p class="counts" data-testid="diff-counts">
        <span class="kept">kept {num(n.kept)}</span> · <span class="removed">removed {num(n.removed)}</span> · <span class="added">added {num(n.added)}</span> ·{' '}
        <span class="replaced" data-testid="diff-replaced">
          replaced {num(n.replaced)} → {num(n.replacements)}
        </span>
      </p>
      <p class="muted">
        a: {v.a.sessionId !== undefined ? `${v.a.sessionId} ` : ''}record {v.a.seq}, revision {short(v.a.revision)}, {num(v.a.messages)} messages · b: {v.b.sessionId !== undefined ? `${v.b.sessionId} ` : ''}record {v.b.seq}, revision {short(v.b.revision)}, {num(v.b.messages)} messages
      </p>
      <ul class="hunks">
        {v.diff.hunks.map((h, k) => (
          <li key={k} class={`hunk ${h.kind}`} data-testid="hunk" data-kind={h.kind}>
            {h.kind} a[{h.a.start},{h.a.end}) → b[{h.b.start},{h.b.end})
          </li>
        ))}
      </ul>
      <div class="side-by-side">
        <Side testId="diff-old" title="removed / replaced (a)" kind="removed" lines={v.removedSummaries} changed={n.removed + n.replaced} />
        <Side testId="diff-new" title="added / replacement (b)" kind="added" lines={v.addedSummaries} changed={n.added + n.replacements} />
      </div>
    </section>
  );
};
