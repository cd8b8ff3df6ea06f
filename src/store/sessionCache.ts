/**
 * The LRU of the latest `Session` of recently used sessions, one per open store
 * (`layout.ts`, "Writes"): an append takes its session from here instead of
 * reloading. `get` marks the entry as most recently used; `peek` does not.
 * A capacity of 0 keeps nothing.
 */
import type { Session } from '../session/session.ts';
import type { SnapshotMemos } from './snapshot.ts';

/** The latest state of a session kept in memory. `session` has an empty log (rebased). */
export interface CacheEntry {
  readonly session: Session;
  readonly memos: SnapshotMemos;
  /** The newest snapshot seq at or below the session's seq. */
  readonly snapshot: number | undefined;
}

/** An LRU of `CacheEntry` by session id. */
export interface SessionCache {
  /** The entry of `sid` (now the most recently used), or `undefined`. */
  get(sid: string): CacheEntry | undefined;
  /** The entry of `sid` without touching its recency. */
  peek(sid: string): CacheEntry | undefined;
  has(sid: string): boolean;
  /** Stores `e` as the most recently used entry, dropping the least recently used beyond the capacity. */
  set(sid: string, e: CacheEntry): void;
  delete(sid: string): void;
  clear(): void;
}

/**
 * An empty cache holding at most `capacity` entries (0: none). Recency is the
 * map's insertion order; the most recently used id is also kept aside, so
 * touching it again (every append of a session written in a row) moves
 * nothing.
 */
export const sessionCache = (capacity: number): SessionCache => {
  const entries = new Map<string, CacheEntry>();
  /** The last key of `entries` (the most recently used), when known. */
  let newest: string | undefined;
  const touch = (sid: string, e: CacheEntry): void => {
    if (sid !== newest) entries.delete(sid);
    entries.set(sid, e);
    newest = sid;
  };
  return {
    get: (sid) => {
      const e = entries.get(sid);
      if (e !== undefined) touch(sid, e);
      return e;
    },
    peek: (sid) => entries.get(sid),
    has: (sid) => entries.has(sid),
    set: (sid, e) => {
      if (capacity === 0) return;
      touch(sid, e);
      while (entries.size > capacity) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
    },
    delete: (sid) => {
      entries.delete(sid);
      if (sid === newest) newest = undefined;
    },
    clear: () => {
      entries.clear();
      newest = undefined;
    },
  };
};
