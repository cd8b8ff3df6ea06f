/** The sessions view: id, messages, tokens, status, parent fork, verify badge. */
import type { SessionRow } from '../views.ts';
import { apiPath } from '../apiPath.ts';
import { Pending, VerifyBadge } from './common.tsx';
import { num, short, time } from './format.ts';
import { useApi } from './hooks.ts';
import type { Go } from './nav.ts';

export const SessionsView = ({ go }: { go: Go }) => {
  const a = useApi<SessionRow[]>(apiPath('sessions'));
  if (a === undefined || !a.ok) return <Pending answer={a} />;
  return (
    <table class="grid" data-testid="sessions">
      <thead>
        <tr>
          <th>session</th>
          <th class="r">messages</th>
          <th class="r">records</th>
          <th class="r">tokens in / out</th>
          <th class="r">rewrites</th>
          <th>status</th>
          <th>fork of</th>
          <th>updated</th>
          <th>verify</th>
        </tr>
      </thead>
      <tbody>
        {a.value.map((s) => (
          <tr key={s.sessionId} data-testid="session-row" data-session={s.sessionId}>
            <td>
              <a href="#" onClick={(e) => (e.preventDefault(), go({ kind: 'session', sessionId: s.sessionId, tab: 'timeline' }))}>
                {s.sessionId}
              </a>
            </td>
            <td class="r" data-testid="session-messages">{num(s.messages)}</td>
            <td class="r">{num(s.lastSeq)}</td>
            <td class="r">
              {num(s.usage.inputTokens)} / {num(s.usage.outputTokens)}
            </td>
            <td class="r">{s.rewrites}</td>
            <td>{s.status}</td>
            <td>{s.parent !== undefined ? `${s.parent.sessionId} @ seq ${s.parent.seq} (${s.parent.mode}, ${short(s.parent.hash)})` : '—'}</td>
            <td>{time(s.updatedAt)}</td>
            <td>
              <VerifyBadge sessionId={s.sessionId} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
};
