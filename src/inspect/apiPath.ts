/**
 * The canonical path of an API request: `api/<route>?<params sorted by name>`
 * (relative, no leading slash). The page builds every request with it, and the
 * static page's data is keyed by it, so both modes ask for exactly the same keys.
 */

/** Routes of the data API (see `handler.ts`). */
export type ApiRoute = 'sessions' | 'lineage' | 'verify' | 'timeline' | 'transcript' | 'log' | 'series' | 'search' | 'diff';

/** The canonical relative path of a request; parameters that are `undefined` are left out. */
export const apiPath = (route: ApiRoute, params: Readonly<Record<string, string | number | undefined>> = {}): string => {
  const q = new URLSearchParams();
  for (const k of Object.keys(params).sort()) {
    const v = params[k];
    if (v !== undefined) q.set(k, String(v));
  }
  const s = q.toString();
  return s === '' ? `api/${route}` : `api/${route}?${s}`;
};

/** The page size the page asks for (transcript and log), so that a static page can hold every page it will ask for. */
export const PAGE_SIZE = 200;

/** The point text of label `name` (`label:<name>`), as the page and the static page write it. */
export const labelPoint = (name: string): string => `label:${name}`;
