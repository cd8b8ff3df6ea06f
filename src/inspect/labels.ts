/**
 * The store's labels as the inspector and `palimpsest diff` see them, built on
 * `store/labels.ts` (a label is a recorded `metadata_set` of `label:<name>` =
 * `{ sessionId, seq, revision }`).
 *
 * Every label is checked against the log before it is shown or followed: the
 * session it names, loaded at its seq, must have the revision it recorded. One
 * that does not (or whose value is malformed, or whose seq is not in the log)
 * is never shown as a point: listing returns it as a `mismatch` entry carrying
 * the typed error, and resolving it is `LabelMismatch` (fail closed).
 *
 * A fork inherits its parent's labels (metadata is copied at the fork); such a
 * label names a record of the ancestor, so it is shown on that ancestor.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Json } from '../model/json.ts';
import type { SessionStore, StoreError } from '../store/index.ts';
import { LABEL_KEY_PREFIX, labelsOf, type LabelEntry, type LabelMismatch } from '../store/labels.ts';
import { noLabels, type LabelResolver } from './points.ts';
import type { LabelView } from './views.ts';

/** Store errors that mean "the label names no record of the log" rather than "the store cannot be read". */
const NOT_IN_LOG: ReadonlySet<string> = new Set(['SeqOutOfRange', 'SessionNotFound']);

const mismatch = (sessionId: string, name: string, message: string): LabelMismatch => ({ _tag: 'LabelMismatch', sessionId, name, message });

/**
 * Checks one label of `setOn` against the log: `Right(undefined)` when the
 * session it names is `setOn` or one of its ancestors (at or before the fork
 * point: what a fork inherited) and has its recorded revision at its seq,
 * `Right(LabelMismatch)` when not (or when that record is not in the log),
 * `Left` when the store cannot be read (a `CorruptRecord` included).
 */
export const checkLabel = async (store: SessionStore, setOn: string, l: LabelEntry): Promise<E.Either<StoreError, LabelMismatch | undefined>> => {
  if (l.sessionId !== setOn) {
    const reach = await ancestorReach(store, setOn, l.sessionId);
    if (E.isLeft(reach)) return reach;
    if (reach.right === undefined || l.seq > reach.right) {
      const why = reach.right === undefined ? 'which is not this session or one of its ancestors' : `past the fork point (seq ${reach.right})`;
      return E.right(mismatch(setOn, l.name, `label ${JSON.stringify(l.name)} of ${JSON.stringify(setOn)} names ${l.sessionId} seq ${l.seq}, ${why}`));
    }
  }
  const at = await store.load(l.sessionId, { atSeq: l.seq });
  if (E.isLeft(at)) {
    return NOT_IN_LOG.has(at.left._tag) ? E.right(mismatch(setOn, l.name, `label ${JSON.stringify(l.name)} of ${JSON.stringify(setOn)} names ${l.sessionId} seq ${l.seq}, which is not in the log: ${at.left.message}`)) : at;
  }
  const actual = at.right.transcriptRevision();
  return actual === l.revision
    ? E.right(undefined)
    : E.right(mismatch(setOn, l.name, `label ${JSON.stringify(l.name)} of ${JSON.stringify(setOn)} records revision ${l.revision} at ${l.sessionId} seq ${l.seq}, but the log has ${actual} there`));
};

/** The last seq of ancestor `target` that `sessionId` inherited (the fork point of `target`'s child on the lineage), or `undefined` when `target` is not an ancestor. */
const ancestorReach = async (store: SessionStore, sessionId: string, target: string): Promise<E.Either<StoreError, number | undefined>> => {
  const line = await store.lineage(sessionId);
  if (E.isLeft(line)) return line;
  let reach: number | undefined;
  for (const entry of line.right) {
    if (entry.sessionId === target) return E.right(reach);
    reach = entry.forkedAt?.seq;
  }
  return E.right(undefined);
};

/** Where the inspector's labels come from: `storeLabelSource` (the default) or `noLabelSource`. */
export interface LabelSource {
  /** The labels the newest state of a session holds (own and inherited), checked against the log. */
  readonly list: (store: SessionStore, sessionId: string) => Promise<E.Either<StoreError, LabelView[]>>;
  /** The record a label names (`Right(undefined)`: no such label; `Left(LabelMismatch)`: it disagrees with the log). */
  readonly resolve: LabelResolver;
}

/** No labels (a store whose `label:` metadata means something else). */
export const noLabelSource: LabelSource = { list: async () => E.right([]), resolve: noLabels };

/** A label of `setOn` checked against the log: the record it names, or the mismatch. */
type Checked = { readonly ok: LabelEntry } | { readonly mismatch: LabelMismatch };

/** Checks label `name` held in `md` (the metadata of `setOn`); a value that is not `{ sessionId, seq, revision }` is a mismatch. */
const checkKey = async (store: SessionStore, setOn: string, md: Readonly<Record<string, Json>>, name: string): Promise<E.Either<StoreError, Checked>> => {
  const l = labelsOf({ [`${LABEL_KEY_PREFIX}${name}`]: md[`${LABEL_KEY_PREFIX}${name}`]! })[0];
  if (l === undefined) return E.right({ mismatch: mismatch(setOn, name, `label ${JSON.stringify(name)} of ${JSON.stringify(setOn)} is not { sessionId, seq, revision }`) });
  const checked = await checkLabel(store, setOn, l);
  if (E.isLeft(checked)) return checked;
  return E.right(checked.right === undefined ? { ok: l } : { mismatch: checked.right });
};

const labelNames = (md: Readonly<Record<string, Json>>): string[] =>
  Object.keys(md)
    .filter((k) => k.startsWith(LABEL_KEY_PREFIX))
    .sort()
    .map((k) => k.slice(LABEL_KEY_PREFIX.length));

/**
 * The labels held by the newest state of `sessionId` (own and inherited), each
 * checked against the log (see the module comment), in name order. Errors:
 * the store's (`SessionNotFound`, `CorruptRecord`, …); a label that disagrees
 * with the log is a `mismatch` entry, not an error.
 */
export const listLabels = async (store: SessionStore, sessionId: string): Promise<E.Either<StoreError, LabelView[]>> => {
  const head = await store.load(sessionId);
  if (E.isLeft(head)) return head;
  const md = head.right.metadata;
  const out: LabelView[] = [];
  for (const name of labelNames(md)) {
    const c = await checkKey(store, sessionId, md, name);
    if (E.isLeft(c)) return c;
    if ('mismatch' in c.right) {
      out.push({ status: 'mismatch', label: name, setOn: sessionId, error: c.right.mismatch });
      continue;
    }
    const l = c.right.ok;
    out.push({ status: 'ok', label: name, setOn: sessionId, sessionId: l.sessionId, seq: l.seq, revision: l.revision, ...(l.pi !== undefined ? { pi: l.pi } : {}) });
  }
  return E.right(out);
};

/**
 * Resolves label `label` of `sessionId` to the record it names (an ancestor's
 * for an inherited label), checked against the log. `Right(undefined)`: no
 * such label; `Left(LabelMismatch)`: the label disagrees with the log.
 */
export const resolveStoreLabel: LabelResolver = async (store, sessionId, label) => {
  const head = await store.load(sessionId);
  if (E.isLeft(head)) return head;
  const md = head.right.metadata;
  if (md[`${LABEL_KEY_PREFIX}${label}`] === undefined) return E.right(undefined);
  const c = await checkKey(store, sessionId, md, label);
  if (E.isLeft(c)) return c;
  return 'mismatch' in c.right ? E.left(c.right.mismatch) : E.right({ sessionId: c.right.ok.sessionId, seq: c.right.ok.seq });
};

/** The labels the store records (`palimpsest label`, the pi import), checked against the log: the default of the inspector and `diff`. */
export const storeLabelSource: LabelSource = { list: listLabels, resolve: resolveStoreLabel };

/**
 * `source` with its answers kept: `list` is asked once per session and
 * `resolve` once per (session, label), later calls get the first answer.
 * For a build over a store that does not change while it runs (the static
 * page: this process holds the store's lock), where every page lists the
 * labels again and each check loads the session at the label's seq.
 */
export const memoLabelSource = (source: LabelSource): LabelSource => {
  const lists = new Map<string, ReturnType<LabelSource['list']>>();
  const resolved = new Map<string, ReturnType<LabelResolver>>();
  return {
    list: (store, sessionId) => {
      let p = lists.get(sessionId);
      if (p === undefined) lists.set(sessionId, (p = source.list(store, sessionId)));
      return p;
    },
    resolve: (store, sessionId, label) => {
      const key = JSON.stringify([sessionId, label]);
      let p = resolved.get(key);
      if (p === undefined) resolved.set(key, (p = source.resolve(store, sessionId, label)));
      return p;
    },
  };
};
