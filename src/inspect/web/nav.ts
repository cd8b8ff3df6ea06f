/** What the page shows: the sessions list, the lineage graph, or one view of one session. */
export type SessionTab = 'timeline' | 'transcript' | 'log' | 'charts' | 'search';

/**
 * The page's location. `at` is a point (head, seq, revision, `label:<name>`)
 * for the transcript; `offset` its first message shown; on the timeline,
 * `commitSeq` selects a rewrite commit's diff and `labelDiff` a label's diff to the head.
 */
export type View =
  | { readonly kind: 'sessions' }
  | { readonly kind: 'lineage' }
  | { readonly kind: 'session'; readonly sessionId: string; readonly tab: SessionTab; readonly at?: string; readonly offset?: number; readonly commitSeq?: number; readonly labelDiff?: string };

/** Moves the page to a view. */
export type Go = (v: View) => void;
