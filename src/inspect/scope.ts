/**
 * A read scope: the store seen by one API request, with `load`, `list` and
 * `revisions` memoized by their arguments, so the views that one request
 * builds (a head load for labels, original times and the page itself; the
 * same record for a label and a diff side) read and replay each point once.
 * Everything else goes to the store unchanged. A `Session` is an immutable
 * value, so sharing one is safe; the scope holds them only as long as the
 * request does.
 */
import type { SessionStore } from '../store/index.ts';

type Load = SessionStore['load'];

/** `store` with `load`, `list` and `revisions` memoized for the scope's lifetime (see the module comment). */
export const readScope = (store: SessionStore): SessionStore => {
  const loads = new Map<string, ReturnType<Load>>();
  const revisions = new Map<string, ReturnType<SessionStore['revisions']>>();
  let list: ReturnType<SessionStore['list']> | undefined;
  const memo: Partial<SessionStore> = {
    load: (sessionId, opts) => {
      const key = JSON.stringify([sessionId, opts?.atSeq ?? null, opts?.atRevision ?? null]);
      let p = loads.get(key);
      if (p === undefined) loads.set(key, (p = store.load(sessionId, opts)));
      return p;
    },
    list: () => (list ??= store.list()),
    revisions: (sessionId) => {
      let p = revisions.get(sessionId);
      if (p === undefined) revisions.set(sessionId, (p = store.revisions(sessionId)));
      return p;
    },
  };
  return new Proxy(store, {
    get: (target, prop) => {
      if (typeof prop === 'string' && prop in memo) return memo[prop as keyof SessionStore];
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
};
