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

/** GETs an API path (`apiPath(...)`). */
export const getJson = async <A>(path: string): Promise<Answer<A>> => {
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
