/** The diff panel: counts, then the changed messages side by side (old left, new right), and the kept spans. */
import type { DiffView } from '../views.ts';
import { apiPath } from '../apiPath.ts';
import { Pending } from './common.tsx';
import { num, short } from './format.ts';
import { useApi } from './hooks.ts';

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
        a: record {v.a.seq}, revision {short(v.a.revision)}, {num(v.a.messages)} messages · b: record {v.b.seq}, revision {short(v.b.revision)}, {num(v.b.messages)} messages
      </p>
      <ul class="hunks">
        {v.diff.hunks.map((h, k) => (
          <li key={k} class={`hunk ${h.kind}`} data-testid="hunk" data-kind={h.kind}>
            {h.kind} a[{h.a.start},{h.a.end}) → b[{h.b.start},{h.b.end})
          </li>
        ))}
      </ul>
      <div class="side-by-side">
        <div class="side old" data-testid="diff-old">
          <h4>removed / replaced (a)</h4>
          {v.removedSummaries.map((s) => (
            <div key={s.index} class="line removed">
              <span class="idx">#{s.index}</span> <span class="role">{s.role}</span> {s.summary}
            </div>
          ))}
          {v.removedSummaries.length < n.removed + n.replaced && <p class="muted">… {num(n.removed + n.replaced - v.removedSummaries.length)} more</p>}
        </div>
        <div class="side new" data-testid="diff-new">
          <h4>added / replacement (b)</h4>
          {v.addedSummaries.map((s) => (
            <div key={s.index} class="line added">
              <span class="idx">#{s.index}</span> <span class="role">{s.role}</span> {s.summary}
            </div>
          ))}
          {v.addedSummaries.length < n.added + n.replacements && <p class="muted">… {num(n.added + n.replacements - v.addedSummaries.length)} more</p>}
        </div>
      </div>
    </section>
  );
};
