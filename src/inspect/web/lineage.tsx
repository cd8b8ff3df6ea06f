/**
 * The lineage view: the fork graph as a tree (each fork has exactly one
 * parent record, so the graph is a forest), each fork under its parent with
 * the fork point (seq, record hash, mode) and the labels of each session.
 */
import type { LineageView as Lineage } from '../views.ts';
import { apiPath } from '../apiPath.ts';
import { Pending } from './common.tsx';
import { num, short } from './format.ts';
import { useApi } from './hooks.ts';
import { LabelTag, labelsOn, Mismatches } from './labels.tsx';
import type { Go } from './nav.ts';

const Node = ({ id, g, go }: { id: string; g: Lineage; go: Go }) => {
  const node = g.nodes.find((n) => n.sessionId === id);
  const edge = g.edges.find((e) => e.child === id);
  const children = g.edges.filter((e) => e.parent === id).sort((x, y) => x.seq - y.seq);
  return (
    <li data-testid="lineage-node" data-session={id}>
      <div class="lineage-node">
        {edge !== undefined && (
          <span class="fork-point">
            fork ({edge.mode}) at seq {edge.seq} · {short(edge.hash)} →{' '}
          </span>
        )}
        <a href="#" onClick={(e) => (e.preventDefault(), go({ kind: 'session', sessionId: id, tab: 'timeline' }))}>
          {id}
        </a>{' '}
        <span class="muted">
          {node !== undefined ? `${num(node.messages)} messages, ${num(node.lastSeq)} records, ${node.status}` : ''}
        </span>
        {labelsOn(g.labels, id).map((l) => (
          <LabelTag key={l.label} l={l} />
        ))}
      </div>
      <Mismatches labels={g.labels} sessionId={id} />
      {children.length > 0 && (
        <ul>
          {children.map((c) => (
            <Node key={c.child} id={c.child} g={g} go={go} />
          ))}
        </ul>
      )}
    </li>
  );
};

export const LineageView = ({ go }: { go: Go }) => {
  const a = useApi<Lineage>(apiPath('lineage'));
  if (a === undefined || !a.ok) return <Pending answer={a} />;
  const g = a.value;
  const roots = g.nodes.filter((n) => !g.edges.some((e) => e.child === n.sessionId));
  return (
    <ul class="lineage" data-testid="lineage">
      {roots.map((r) => (
        <Node key={r.sessionId} id={r.sessionId} g={g} go={go} />
      ))}
    </ul>
  );
};
