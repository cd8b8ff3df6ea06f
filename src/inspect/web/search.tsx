/**
 * Search across the session's texts at the head: the server searches; a
 * static page searches the head transcript pages it holds.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Message } from '../../model/message.ts';
import type { SearchView as Search, TranscriptPage } from '../views.ts';
import { apiPath, PAGE_SIZE } from '../apiPath.ts';
import { searchMessages } from '../search.ts';
import { getJson, isStatic, type Answer } from './data.ts';
import { num } from './format.ts';
import type { Go } from './nav.ts';

/** Searches the head transcript pages a static page holds. */
const searchStatic = async (sessionId: string, q: string): Promise<Answer<Search>> => {
  const messages: Message[] = [];
  for (let offset = 0; ; offset += PAGE_SIZE) {
    const p = await getJson<TranscriptPage>(apiPath('transcript', { session: sessionId, at: 'head', offset, limit: PAGE_SIZE }));
    if (!p.ok) return p;
    messages.push(...p.value.entries.map((e) => e.message));
    if (offset + PAGE_SIZE >= p.value.total) break;
  }
  return { ok: true, value: searchMessages(sessionId, messages, q) };
};

export const SearchView = ({ sessionId, go }: { sessionId: string; go: Go }) => {
  const [q, setQ] = useState('');
  const [asked, setAsked] = useState('');
  const [answer, setAnswer] = useState<Answer<Search> | undefined>(undefined);
  useEffect(() => {
    if (asked === '') return;
    let live = true;
    setAnswer(undefined);
    void (isStatic() ? searchStatic(sessionId, asked) : getJson<Search>(apiPath('search', { session: sessionId, q: asked }))).then((a) => live && setAnswer(a));
    return () => {
      live = false;
    };
  }, [asked, sessionId]);
  return (
    <div>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setAsked(q.trim());
        }}
      >
        <input data-testid="search-input" value={q} placeholder="search the transcript at the head" onInput={(e) => setQ((e.target as HTMLInputElement).value)} /> <button>search</button>
      </form>
      {asked !== '' && answer === undefined && <p class="muted">searching…</p>}
      {answer !== undefined && !answer.ok && <p class="error-text">{answer.error.message}</p>}
      {answer !== undefined && answer.ok && (
        <>
          <p data-testid="search-total">
            {num(answer.value.total)} messages match {JSON.stringify(answer.value.query)}
            {answer.value.total > answer.value.hits.length ? ` (first ${answer.value.hits.length} shown)` : ''}
          </p>
          <ul class="hits">
            {answer.value.hits.map((h) => (
              <li key={h.index} data-testid="search-hit">
                <a href="#" onClick={(e) => (e.preventDefault(), go({ kind: 'session', sessionId, tab: 'transcript', at: 'head', offset: Math.floor(h.index / PAGE_SIZE) * PAGE_SIZE }))}>
                  #{h.index}
                </a>{' '}
                <span class="role">{h.role}</span> {h.snippet}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
};
