/**
 * Where the page's data comes from: the server's API (relative `fetch`), or,
 * in a static page, the answers written into it (`window.__PALIMPSEST_INSPECT__`).
 * A request the static page does not hold answers `NotInStaticPage`.
 */
import { STATIC_DATA_GLOBAL, type StaticData } from '../page.ts';

/** An answer: the value, or the API's error. */
export type Answer<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly error: { readonly _tag: string; readonly message: string } };

/** The static page's data, when this is a static page. */
export const staticData = (): StaticData | undefined => (window as unknown as Record<string, StaticData | undefined>)[STATIC_DATA_GLOBAL];

/** Whether this is a static page (no server: only the answers written into it). */
export const isStatic = (): boolean => staticData() !== undefined;

/**
 * Answers the page keeps for its lifetime: requests in flight (two views asking
 * for one path share one request) and `verify` answers (a full replay of the
 * session on the server; the sessions list, the session header and the log all
 * show it). Reloading the page verifies again.
 */
const kept = new Map<string, Promise<Answer<unknown>>>();

/** GETs an API path (`apiPath(...)`), sharing a request in flight and keeping `verify` answers (see `kept`). */
export const getJson = <A>(path: string): Promise<Answer<A>> => {
  const known = kept.get(path);
  if (known !== undefined) return known as Promise<Answer<A>>;
  const p = fetchJson<A>(path);
  kept.set(path, p);
  if (!path.startsWith('api/verify?')) void p.finally(() => kept.delete(path));
  return p;
};

const fetchJson = async <A>(path: string): Promise<Answer<A>> => {
  const data = staticData();
  if (data !== undefined) {
    if (!(path in data.responses)) return { ok: false, error: { _tag: 'NotInStaticPage', message: `this static page does not hold ${path}; serve the store with palimpsest inspect to see it` } };
    return answerOf<A>(data.responses[path]);
  }
  try {
    const res = await fetch(path, { headers: { accept: 'application/json' } });
    return answerOf<A>(await res.json());
  } catch (e) {
    return { ok: false, error: { _tag: 'NetworkError', message: e instanceof Error ? e.message : String(e) } };
  }
};

const answerOf = <A>(body: unknown): Answer<A> => {
  if (typeof body === 'object' && body !== null && 'error' in body) return { ok: false, error: (body as { error: { _tag: string; message: string } }).error };
  return { ok: true, value: body as A };
};
