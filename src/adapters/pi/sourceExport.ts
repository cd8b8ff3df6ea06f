/**
 * Export of stored sessions as one pi version 3 file: a single branch
 * (`exportPi(store, id)`) or the whole family (`{ tree: true }`).
 *
 * The family of a session is its lineage root and every fork below it
 * (`store.lineage`, `store.children`). For a session a pi import wrote
 * (`provenance.ts`), the entries come from the stored source file
 * (`sourceTree.ts`): every entry exactly as pi wrote it (same `id`,
 * `parentId`, `type`, `timestamp`, every field in its order), v1/v2 migrated
 * as pi migrates them; what the importer repaired (inserted aborted tool
 * results, dropped streaming residue, moved notices) is not written, because
 * pi did not write it. Then, per session of the family (parents first):
 *
 * - an imported session whose transcript still starts with what the import
 *   wrote (the first `pi.imported.messages` messages digest to
 *   `pi.imported.revision`): messages appended after the import follow its
 *   branch's leaf entry as fresh entries (`export.ts` mapping, new ids);
 * - an imported session compacted after the import the way pi compacts (its
 *   transcript is one `compaction_summary` user message of one text block, then
 *   the import's messages from some index `k ≥ 1` to its end unchanged, then
 *   anything appended): a pi `compaction` entry after the branch's leaf
 *   (`summary` the text, `firstKeptEntryId` the entry of message `k`,
 *   `tokensBefore` from a `tokensBefore=N` note of the rewrite's reason, else
 *   0, `timestamp` the rewrite's commit time), the appended messages after it
 *   (`rewritten: 'compaction'`); pi's `buildSessionContext` then gives the
 *   summary, the kept messages and the rest, as palimpsest's transcript does;
 * - an imported session rewritten any other way (a rewrite, a compaction that
 *   keeps something else, a system prompt): its transcript is written as a
 *   branch of fresh entries from the last message it shares with the import
 *   (`rewritten: 'branch'`);
 * - a fork made in palimpsest: its messages after the last one it shares with
 *   its parent at the fork point follow that message's entry;
 * - a session no pi import wrote: its messages as fresh entries (a root from
 *   `parentId: null`), header from the family root's `pi.*` metadata.
 *
 * The single-branch export writes the header and the path from the session's
 * last entry to the root; the tree export writes the header, every source
 * entry in file order, then the fresh entries in family order.
 *
 * Streamed (`exportPiTo`): the lines go to a sink one at a time, never the
 * whole file. The stored source is copied once to a scratch file (checked
 * against its manifest first, `sourceTree.ts`), scanned and planned again the
 * way the streamed import does (`scan.ts`, `planPiSessions`: its per-entry
 * index, on disk, is the export's index of the source's ids, lines and
 * parents; a v1 file's migrated ids are indexed in memory), keeping per
 * planned message its source line and, only when a placement compares
 * messages (a session changed since the import, a label set in palimpsest), a
 * 128-bit digest; source entries are parsed one at a time as they are
 * written; stored sessions are read in windows of `WINDOW` messages. Placing
 * the family runs the fresh-entry mapping once to learn each entry's id;
 * writing runs it again. Held: a line number (and maybe a digest) per planned
 * message, an id per message of a placed session, an id and parent per fresh
 * entry. `exportPi` collects the same lines into one string.
 *
 * Errors: `SessionNotFound` and store read errors, `PiSourceMismatch` /
 * `BlobNotFound` / `CorruptBlob` when the stored source does not read back as
 * recorded (found before any line is written), `PiImportIncomplete` for a
 * session of an import that never finished. A lazily read message chunk that
 * is missing or corrupt can only be found while writing: the sink has then
 * had the lines before it (the CLI writes to a temporary file and keeps it
 * only on success).
 */
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Json } from '../../model/json.ts';
import type { Message } from '../../model/message.ts';
import type { Digest } from '../../model/scalars.ts';
import { canonicalMessageBytes, commaMessageBytes, framing } from '../../model/digest.ts';
import { defaultSha256 } from '../../model/hashing.ts';
import type { Session } from '../../session/session.ts';
import { isLazyReadFailure, LazyReadFailure, type SessionStore, type StoreError } from '../../store/index.ts';
import { entryId, iso, piEntries, piHeaderFor, piJsonlLines } from './export.ts';
import { labelsOf } from '../../store/labels.ts';
import { planPiSessions, type PiPlanOp, type PiPlanShape } from './plan.ts';
import { piImportStatus, type PiImportMark } from './provenance.ts';
import type { PiImportError } from './report.ts';
import { scanPiFile } from './scan.ts';
import type { PiSourceMismatch } from './source.ts';
import { openOpSpill } from './spill.ts';
import type { PiColumn, PiColumnFactory } from './columns.ts';
import { copyPiSource, indexPiSource, ordinalOfLine, piSourceLines, scannedPiSourceIndex, sourceEntryValue, type PiSourceIndex } from './sourceTree.ts';

/** A session of an import that never finished (no `pi.imported`): re-run the import first. */
export interface PiImportIncomplete {
  readonly _tag: 'PiImportIncomplete';
  readonly sessionId: string;
  readonly file: string;
  readonly message: string;
}

/** Everything `exportPi` can fail with. */
export type PiExportError = StoreError | PiSourceMismatch | PiImportIncomplete | PiImportError;

/** How one session of the family was written. */
export interface PiExportedSession {
  readonly sessionId: string;
  /** `import`: written by a pi import; `fork`: forked in palimpsest from a family member; `native`: a root no import wrote. */
  readonly origin: 'import' | 'fork' | 'native';
  /** Fresh entries written for it (messages after the import or the fork point). */
  readonly fresh: number;
  /**
   * Set when it was rewritten after the import: `compaction` when written as
   * a pi `compaction` entry after the imported leaf, `branch` when its new
   * transcript is a branch of fresh entries.
   */
  readonly rewritten?: 'compaction' | 'branch';
}

/** What `exportPiTo` wrote: its entry count and how each session was written. */
export interface PiExportReport {
  readonly sessionId: string;
  readonly tree: boolean;
  /** Entries (lines after the header). */
  readonly entries: number;
  /** Entries copied from the stored pi source. */
  readonly fromSource: number;
  readonly sessions: readonly PiExportedSession[];
}

/** What `exportPi` wrote: the JSONL text (header line, then one line per entry, each ending in `"\n"`) and the report. */
export interface PiExport extends PiExportReport {
  readonly jsonl: string;
}

/**
 * Where `exportPiTo` writes: called once per line (the line with its `"\n"`),
 * in order; a returned promise is awaited before the next line (backpressure).
 * What it throws ends the export and is thrown by `exportPiTo`.
 */
export type PiLineSink = (line: string) => void | Promise<void>;

/** The planned digests, which `readImport` keeps whenever they will be compared (its `withKeys`). */
const plannedKeys = (p: { readonly keys: readonly string[] | undefined }): readonly string[] => {
  // An invariant of this module, not an input error: exportUnsafe asks for the digests whenever a placement compares them.
  if (p.keys === undefined) throw new Error('pi export: the planned message digests were not read');
  return p.keys;
};

/** Messages read from a stored session at a time. */
const WINDOW = 512;

/** One family member as export sees it. */
interface Member {
  readonly session: Session;
  readonly forkedFrom?: { readonly sessionId: string; readonly seq: number };
}

/**
 * What the import planned for one of its sessions: the source line of each
 * message and, when the export compares messages (a session changed since the
 * import, a label set in palimpsest), each one's digest (`messageKey`).
 */
interface Planned {
  /** Messages planned. */
  readonly count: number;
  /** In int32 columns of the export's scratch directory: message `i`'s source line, and the latest source line of messages `0..i` (0 for none). */
  readonly line: PiColumn;
  readonly maxLine: PiColumn;
  readonly keys: readonly string[] | undefined;
}

/**
 * The entry of each message of a placed session, looked up one at a time
 * (`at(i)`: `undefined` outside `[0, length)`), so nothing is held per message
 * of an imported session: its entries are read from the source index.
 */
interface EntryMap {
  readonly length: number;
  readonly at: (i: number) => string | null | undefined;
}

/** The entries of a list held in memory. */
const listEntries = (xs: readonly (string | null)[]): EntryMap => ({ length: xs.length, at: (i) => xs[i] });

/** The messages `[from, to)` of each map in turn (each range clamped to its map, as `slice` clamps). */
const joinEntries = (...parts: ReadonlyArray<readonly [EntryMap, number, number]>): EntryMap => {
  const runs = parts.map(([m, from, to]) => {
    const end = Math.min(to, m.length);
    return { m, from: Math.min(from, end), end };
  });
  return {
    length: runs.reduce((n, r) => n + (r.end - r.from), 0),
    at: (i) => {
      if (!Number.isInteger(i) || i < 0) return undefined;
      let k = i;
      for (const r of runs) {
        if (k < r.end - r.from) return r.m.at(r.from + k);
        k -= r.end - r.from;
      }
      return undefined;
    },
  };
};

/** What is known of a member once placed: the entry of each of its messages and its tip (last entry). */
interface Placed {
  readonly entryOf: EntryMap;
  readonly tip: string | null;
  /** For an unchanged import: messages that came from the source and the branch leaf entry. */
  readonly imported?: { readonly messages: number; readonly leaf: string | null };
  /**
   * For an import exported with a pi `compaction` entry (`id`) keeping `kept`
   * source messages: pi has no entry whose context is the summary and only
   * some of them, so a fork inside `[1, kept]` messages cannot hang off the tree.
   */
  readonly compacted?: { readonly id: string; readonly kept: number };
  /** For an import: the messages the import wrote (digests, when read) and the source entry of each (labels on those states point there). */
  readonly source?: { readonly keys: readonly string[] | undefined; readonly entryOf: EntryMap };
}

/**
 * A run of fresh entries, in the order they are written: `messages` maps
 * `session`'s messages from `from` on (`piEntries`, chained from `parentId`,
 * with the ids `ids` drawn when it was placed); `line` is one entry written as
 * is (a `compaction` or `label` entry).
 */
type FreshPart =
  | {
      readonly kind: 'messages';
      readonly session: Session;
      readonly from: number;
      readonly parentId: string | null;
      readonly userMetadata: boolean;
      readonly toolNames: ReadonlyMap<string, string>;
      readonly ids: readonly string[];
    }
  | { readonly kind: 'line'; readonly id: string; readonly line: string };

/** A 128-bit digest of a message's canonical bytes (32 hex digits): equal digests, equal messages. */
const messageKey = (m: Message): string => defaultSha256.ofBytes(canonicalMessageBytes(m)).slice(7, 39);

/** Messages `[from, to)` of a stored session, read `WINDOW` at a time; a chunk that cannot be read throws `LazyReadFailure`. */
function* messagesOf(s: Session, from = 0, to: number = s.messageCount): Generator<Message, void, undefined> {
  for (let i = from; i < to; i += WINDOW) {
    const w = s.readMessages(i, Math.min(to, i + WINDOW));
    if (E.isLeft(w)) throw new LazyReadFailure(w.left);
    yield* w.right;
  }
}

/** The digests (`messageKey`) of messages `[0, to)` of `s`. */
const keysOf = (s: Session, to: number = s.messageCount): string[] => {
  const out: string[] = [];
  for (const m of messagesOf(s, 0, to)) out.push(messageKey(m));
  return out;
};

/** The transcript digest of `s`'s first `n` messages (`transcriptDigest`, streamed). */
const prefixDigest = (s: Session, n: number): Digest => {
  const h = defaultSha256.create();
  h.update(framing.OPEN);
  let i = 0;
  for (const m of messagesOf(s, 0, n)) h.update(i++ > 0 ? commaMessageBytes(m) : canonicalMessageBytes(m));
  h.update(framing.CLOSE);
  return `sha256:${h.digestHex()}`;
};

/** Length of the common prefix of the messages of `a` and the digests `b`. */
const commonPrefixWith = (a: Session, b: readonly string[]): number => {
  let i = 0;
  for (const m of messagesOf(a, 0, Math.min(a.messageCount, b.length))) {
    if (messageKey(m) !== b[i]) break;
    i++;
  }
  return i;
};

/** Length of the common prefix of the digest lists `a` and `b`. */
const commonPrefix = (a: readonly string[], b: readonly string[]): number => {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
};

/** Tool names by call id in messages `[0, to)` of `s` (for `toolResult.toolName` of fresh entries). */
const toolNamesOf = (s: Session, to: number): Map<string, string> => {
  const m = new Map<string, string>();
  for (const x of messagesOf(s, 0, to)) if (x.role === 'assistant') for (const b of x.content) if (b.type === 'tool_use') m.set(b.id, b.name);
  return m;
};

/** The family members to write: `tree`: the lineage root and all its descendants; else the lineage chain root → `sessionId`. */
const familyOf = async (store: SessionStore, sessionId: string, tree: boolean): Promise<E.Either<StoreError, Member[]>> => {
  const lin = await store.lineage(sessionId);
  if (E.isLeft(lin)) return lin;
  // lineage lists the session first, its root last.
  const chain = [...lin.right].reverse();
  const ids: Array<{ id: string; forkedFrom?: { sessionId: string; seq: number } }> = [];
  if (tree) {
    const root = chain[0]!;
    const queue: Array<{ id: string; forkedFrom?: { sessionId: string; seq: number } }> = [{ id: root.sessionId }];
    while (queue.length > 0) {
      const cur = queue.shift()!;
      ids.push(cur);
      const kids = await store.children(cur.id);
      if (E.isLeft(kids)) return kids;
      for (const k of kids.right) queue.push({ id: k.sessionId, forkedFrom: { sessionId: cur.id, seq: k.seq } });
    }
  } else {
    for (const l of chain) ids.push(l.forkedAt !== undefined ? { id: l.sessionId, forkedFrom: { sessionId: l.forkedAt.sessionId, seq: l.forkedAt.seq } } : { id: l.sessionId });
  }
  const out: Member[] = [];
  for (const x of ids) {
    const l = await store.load(x.id);
    if (E.isLeft(l)) return l;
    out.push(x.forkedFrom !== undefined ? { session: l.right, forkedFrom: x.forkedFrom } : { session: l.right });
  }
  return E.right(out);
};

/** The import's source (a checked scratch copy, indexed) and plan, read once per export. */
interface ImportSource {
  readonly mark: PiImportMark;
  /** The scratch copy of the source file. */
  readonly path: string;
  readonly index: PiSourceIndex;
  readonly planned: ReadonlyMap<string, Planned>;
  /** The plan key of each store id of the import. */
  readonly keys: ReadonlyMap<string, string>;
  /** The pi labels each imported session got: target entry id → label. */
  readonly labels: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Releases the scan behind `index` (again: nothing). */
  readonly close: () => void;
}

/**
 * The planned ops reduced to what export needs (how many messages each appends
 * or puts in `[start, end)`, and their source line), one row per op of every
 * session in plan order, in int32 columns of the export's scratch directory
 * (`columns.ts`: a few pages in memory), so holding them does not grow with
 * the file: `kind` 0 (an op that changes no message), 1 (append) or 2
 * (rewrite). `first[i]` is the first row of session `i`. The messages'
 * digests (`messageKey`), when asked for, are kept per row in memory.
 */
interface OpEffects {
  readonly kind: PiColumn;
  readonly count: PiColumn;
  readonly line: PiColumn;
  readonly start: PiColumn;
  readonly end: PiColumn;
  /** Set (empty) before planning when the digests are wanted. */
  keys: Array<readonly string[] | undefined> | undefined;
  readonly first: number[];
  rows: number;
}

const NO_EFFECT = 0;
const APPEND = 1;
const REWRITE = 2;

/** Empty effect columns made by `column` (no digests kept unless `keys` is set). */
const openEffects = (column: PiColumnFactory): OpEffects => ({
  kind: column('int32'),
  count: column('int32'),
  line: column('int32'),
  start: column('int32'),
  end: column('int32'),
  keys: undefined,
  first: [],
  rows: 0,
});

const closeEffects = (fx: OpEffects): void => {
  for (const c of [fx.kind, fx.count, fx.line, fx.start, fx.end]) c.close();
  if (fx.keys !== undefined) fx.keys.length = 0;
};

/** Adds the row of `op` (of the session opened last). */
const pushEffect = (fx: OpEffects, op: PiPlanOp): void => {
  const r = fx.rows++;
  switch (op.op) {
    case 'append':
      fx.kind.set(r, APPEND);
      fx.count.set(r, op.messages.length);
      fx.line.set(r, op.line);
      if (fx.keys !== undefined) fx.keys[r] = op.messages.map(messageKey);
      return;
    case 'rewrite':
      fx.kind.set(r, REWRITE);
      fx.count.set(r, op.replacement.length);
      fx.line.set(r, op.line);
      fx.start.set(r, op.start);
      fx.end.set(r, op.end);
      if (fx.keys !== undefined) fx.keys[r] = op.replacement.map(messageKey);
      return;
    case 'metadata_set':
    case 'usage':
      fx.kind.set(r, NO_EFFECT);
      return;
  }
};

/** Replaces `xs[start, end)` by `items` in place (no copy of the whole list per rewrite). */
const replaceRange = <T>(xs: T[], start: number, end: number, items: readonly T[]): void => {
  if (items.length <= 4096) {
    xs.splice(start, end - start, ...items);
    return;
  }
  const tail = xs.slice(end);
  xs.length = start;
  for (const x of items) xs.push(x);
  for (const x of tail) xs.push(x);
};

/** The planned messages of session `i` after its first `n` own ops (its fork parent's first), as `plannedMessages`/`plannedMessageLines` give them. */
const plannedAfter = (shapes: readonly PiPlanShape[], fx: OpEffects, i: number, n: number): { keys: string[] | undefined; lines: number[] } => {
  const fork = shapes[i]!.forkOf;
  const parent = fork === undefined ? -1 : shapes.findIndex((x) => x.key === fork.sessionKey);
  const base = parent < 0 || fork === undefined ? undefined : plannedAfter(shapes, fx, parent, fork.afterOp);
  const lines = base?.lines ?? [];
  const keys = base?.keys ?? [];
  const withKeys = fx.keys !== undefined && (base === undefined || base.keys !== undefined);
  const first = fx.first[i]!;
  for (let r = first; r < first + n; r++) {
    const kind = fx.kind.get(r);
    if (kind === NO_EFFECT) continue;
    const count = fx.count.get(r);
    const line = fx.line.get(r);
    const added = withKeys ? (fx.keys![r] ?? []) : [];
    if (kind === APPEND) {
      for (let k = 0; k < count; k++) lines.push(line);
      if (withKeys) for (const k of added) keys.push(k);
    } else {
      const start = fx.start.get(r);
      const end = fx.end.get(r);
      replaceRange(lines, start, end, Array.from({ length: count }, () => line));
      if (withKeys) replaceRange(keys, start, end, added);
    }
  }
  return { keys: withKeys ? keys : undefined, lines };
};

/** `plannedAfter`'s lines moved to int32 columns made by `column` (with their running maximum), its digests kept. */
const plannedColumns = (column: PiColumnFactory, p: { readonly keys: string[] | undefined; readonly lines: number[] }): Planned => {
  const line = column('int32');
  const maxLine = column('int32');
  let max = 0;
  p.lines.forEach((l, i) => {
    max = Math.max(max, l);
    line.set(i, l);
    maxLine.set(i, max);
  });
  return { count: p.lines.length, line, maxLine, keys: p.keys };
};

/**
 * Copies, checks, plans and indexes the source of the import `mark` in the
 * scratch directory `dir` (`close()` releases the scan behind the index); the planned messages' digests are kept only when
 * `withKeys(hasEntry)` says they will be compared. Errors: the store's read
 * errors and `PiSourceMismatch` (`copyPiSource`), a `PiImportError` (only a
 * changed parser or planner can give one for a source its import read).
 */
const readImport = async (
  store: SessionStore,
  mark: PiImportMark,
  dir: string,
  column: PiColumnFactory,
  withKeys: (hasEntry: (id: string) => boolean) => boolean,
): Promise<E.Either<PiExportError, ImportSource>> => {
  const path = join(dir, 'source.jsonl');
  const copied = await copyPiSource(store, mark.source, path);
  if (E.isLeft(copied)) return copied;
  const scanned = await scanPiFile(path, mark.file, dir, column);
  if (E.isLeft(scanned)) {
    const err = scanned.left;
    // A scratch file that cannot be read back is an I/O failure of this machine, not of the store.
    if (err._tag === 'PiScanReadError') throw err.cause;
    return E.left(err);
  }
  const scan = scanned.right;
  // The scan's close is not idempotent (it closes a file descriptor): called once, here.
  let open = true;
  const closeScan = (): void => {
    if (open) scan.close();
    open = false;
  };
  const fx = openEffects(column);
  let shapes: PiPlanShape[];
  let index: PiSourceIndex;
  try {
    // The scan's ids are the file's (a v1 file's entries have none yet: its labels then always ask for the digests).
    const keys = withKeys((id) => scan.indexOfId(id) !== undefined);
    if (keys) fx.keys = [];
    const plan = planPiSessions(scan, { open: (i) => void (fx.first[i] = fx.rows), push: (op) => pushEffect(fx, op) });
    if (E.isLeft(plan)) {
      closeScan();
      closeEffects(fx);
      return plan;
    }
    shapes = plan.right.sessions;
    if (scan.version >= 2) {
      // The scan's on-disk index is the export's: it stays open until the export ends.
      index = scannedPiSourceIndex(scan, piSourceLines(path), mark.file, mark.digest);
    } else {
      // A v1 file's ids come from pi's migration: indexed in memory (pi rewrites a v1 file as v3 when it opens one, so v1 files stay small).
      const entryLines = Int32Array.from({ length: scan.count }, (_, i) => scan.lineOf(i));
      closeScan();
      index = indexPiSource(piSourceLines(path), { file: mark.file, digest: mark.digest, version: scan.version, headerId: scan.header.id, entryLines });
    }
  } catch (e) {
    closeScan();
    closeEffects(fx);
    throw e;
  }
  const planned = new Map<string, Planned>();
  const planKeys = new Map<string, string>();
  const labels = new Map<string, Map<string, string>>();
  // mark.sessions lists the store ids in plan order.
  shapes.forEach((s, i) => {
    const id = mark.sessions[i];
    if (id === undefined) return;
    planned.set(id, plannedColumns(column, plannedAfter(shapes, fx, i, s.opCount)));
    planKeys.set(id, s.key);
    const byTarget = new Map<string, string>();
    for (const l of s.labels) {
      if (l.label === undefined) byTarget.delete(l.targetId);
      else byTarget.set(l.targetId, l.label);
    }
    labels.set(id, byTarget);
  });
  closeEffects(fx);
  return E.right({ mark, path, index, planned, keys: planKeys, labels, close: closeScan });
};

/**
 * Exports session `sessionId` (or with `tree` its whole family) as pi JSONL
 * version 3, one line at a time to `sink`, and says how each session was
 * written. See the module comment (what is held, what can fail when).
 * Scratch files (the stored source copied out, and its scan) go in a spill
 * directory under `opts.scratchDir` (default: the OS temporary directory;
 * `spill.ts`, key `x` and 16 hex digits of the source's digest), removed
 * before it returns. A process stopped by a signal before then removes it with
 * `removeOwnSpills` (the CLI's stop handler does); one killed outright leaves
 * it until the next export of the same source.
 */
export const exportPiTo = async (
  store: SessionStore,
  sessionId: string,
  sink: PiLineSink,
  opts: { readonly tree?: boolean; readonly scratchDir?: string } = {},
): Promise<E.Either<PiExportError, PiExportReport>> => {
  try {
    return await exportUnsafe(store, sessionId, sink, opts.tree === true, opts.scratchDir);
  } catch (e) {
    // Reading the messages of a cold-loaded session can meet a missing or corrupt chunk.
    if (isLazyReadFailure(e)) return E.left(e.error);
    throw e;
  }
};

/**
 * Exports session `sessionId` (or with `tree` its whole family) as pi JSONL
 * version 3 in one string: `exportPiTo` collected. See the module comment.
 */
export const exportPi = async (store: SessionStore, sessionId: string, opts: { readonly tree?: boolean } = {}): Promise<E.Either<PiExportError, PiExport>> => {
  const parts: string[] = [];
  const r = await exportPiTo(store, sessionId, (line) => void parts.push(line), opts);
  return E.isLeft(r) ? r : E.right({ ...r.right, jsonl: parts.join('') });
};

const exportUnsafe = async (store: SessionStore, sessionId: string, sink: PiLineSink, tree: boolean, scratchDir: string | undefined): Promise<E.Either<PiExportError, PiExportReport>> => {
  const fam = await familyOf(store, sessionId, tree);
  if (E.isLeft(fam)) return fam;
  const members = fam.right;
  const root = members[0]!.session;
  const self = members.find((m) => m.session.id === sessionId)!.session;
  const rootStatus = piImportStatus(root.id, root.metadata);

  // A session no import wrote, alone: the transcript export.
  if (rootStatus.kind === 'none' && !tree) {
    let lines = 0;
    for (const line of piJsonlLines({ sessionId: self.id, createdAt: self.createdAt, metadata: self.metadata, messages: messagesOf(self) })) {
      await sink(line);
      lines++;
    }
    const entries = lines - 1;
    return E.right({ sessionId, tree, entries, fromSource: 0, sessions: [{ sessionId, origin: 'native', fresh: entries }] });
  }
  for (const m of members) {
    const st = piImportStatus(m.session.id, m.session.metadata);
    if (st.kind === 'incomplete') {
      return E.left({
        _tag: 'PiImportIncomplete',
        sessionId: m.session.id,
        file: st.mark.file,
        message: `session ${JSON.stringify(m.session.id)} is an incomplete import of ${st.mark.file}: run the import again to finish it`,
      });
    }
  }
  // Whether each imported session is still what its import wrote: only a changed one (or a label set in palimpsest) compares messages.
  const unchanged = new Map<string, boolean>();
  for (const m of members) {
    const st = piImportStatus(m.session.id, m.session.metadata);
    if (st.kind !== 'complete') continue;
    const n = st.imported.messages;
    const count = m.session.messageCount;
    unchanged.set(m.session.id, count >= n && (count === n ? m.session.transcriptRevision() : prefixDigest(m.session, n)) === st.imported.revision);
  }
  if (rootStatus.kind === 'none') return writeFamily(store, sessionId, members, undefined, unchanged, sink, tree);
  const withKeys = (hasEntry: (id: string) => boolean): boolean =>
    [...unchanged.values()].some((u) => !u) || members.some((m) => labelsOf(m.session.metadata).some((l) => l.pi === undefined || !hasEntry(l.pi)));
  // The scratch directory is named after the source digest; one left by a killed export is removed when the next opens.
  const spill = openOpSpill(`x${rootStatus.mark.digest.slice('sha256:'.length, 'sha256:'.length + 16)}`, scratchDir);
  try {
    const s = await readImport(store, rootStatus.mark, spill.dir, spill.column, withKeys);
    if (E.isLeft(s)) return s;
    try {
      return await writeFamily(store, sessionId, members, s.right, unchanged, sink, tree);
    } finally {
      s.right.close();
    }
  } finally {
    spill.dispose();
  }
};

/** Places every member (module comment), then writes the header, the source entries and the fresh entries to `sink`. */
const writeFamily = async (
  store: SessionStore,
  sessionId: string,
  members: readonly Member[],
  source: ImportSource | undefined,
  unchangedOf: ReadonlyMap<string, boolean>,
  sink: PiLineSink,
  tree: boolean,
): Promise<E.Either<PiExportError, PiExportReport>> => {
  const root = members[0]!.session;
  const self = members.find((m) => m.session.id === sessionId)!.session;
  const index = source?.index;
  const idOfLine = (line: number): string | null => {
    const i = index === undefined ? undefined : ordinalOfLine(index, line);
    return i === undefined ? null : index!.idOf(i);
  };
  let counter = 0;
  const freshIds = new Set<string>();
  const freshId = (): string => {
    let id: string;
    do id = entryId(++counter);
    while ((index !== undefined && index.indexOfId(id) !== undefined) || freshIds.has(id));
    freshIds.add(id);
    return id;
  };
  const parts: FreshPart[] = [];
  const freshParent = new Map<string, string | null>();
  let freshCount = 0;
  const placed = new Map<string, Placed>();
  const report: PiExportedSession[] = [];

  // Runs the mapping once to draw the ids and learn the entry of each message; writing runs it again with those ids.
  const placeFresh = (s: Session, from: number, parentId: string | null, userMetadata: boolean): { entryOf: EntryMap; tip: string | null; count: number } => {
    const toolNames = from > 0 && s.messageCount > from ? toolNamesOf(s, from) : new Map<string, string>();
    const ids: string[] = [];
    const entryOf: string[] = [];
    let last: string | null = parentId;
    const it = piEntries(messagesOf(s, from), s.metadata, { parentId, freshId, toolNames, ...(userMetadata ? { userMetadata: { createdAt: s.createdAt } } : {}) });
    for (let r = it.next(); r.done !== true; r = it.next()) {
      const e = r.value;
      while (entryOf.length < e.message) entryOf.push(last as string);
      ids.push(e.id);
      freshParent.set(e.id, e.parentId);
      last = e.id;
      if (e.message >= 0) entryOf[e.message] = e.id;
    }
    while (entryOf.length < s.messageCount - from) entryOf.push(last as string);
    parts.push({ kind: 'messages', session: s, from, parentId, userMetadata, toolNames, ids });
    freshCount += ids.length;
    return { entryOf: listEntries(entryOf), tip: last, count: ids.length };
  };
  const placeLine = (id: string, parentId: string | null, line: string): void => {
    parts.push({ kind: 'line', id, line });
    freshParent.set(id, parentId);
    freshCount++;
  };

  for (const m of members) {
    const s = m.session;
    const st = piImportStatus(s.id, s.metadata);
    if (st.kind === 'complete' && source !== undefined) {
      const planned = source.planned.get(s.id);
      if (planned === undefined) return E.left(incompleteFor(s.id, st.mark.file));
      const n = st.imported.messages;
      const unchanged = unchangedOf.get(s.id) === true;
      const current = unchanged ? undefined : keysOf(s);
      const summary = current === undefined ? undefined : summaryOf(firstMessage(s));
      const keptFrom = summary === undefined ? undefined : compactionOfKeys(current!, plannedKeys(planned).slice(0, n));
      const compacted = summary === undefined || keptFrom === undefined ? undefined : { summary, keptFrom };
      // The entry of each imported message: the latest source line at or before it.
      const sourceEntryOf: EntryMap = { length: planned.count, at: (i) => (Number.isInteger(i) && i >= 0 && i < planned.count ? idOfLine(planned.maxLine.get(i)) : undefined) };
      const src = { keys: planned.keys, entryOf: sourceEntryOf };
      const leaf = st.imported.leafLine === 0 ? null : idOfLine(st.imported.leafLine);
      const keptLine = compacted === undefined || compacted.keptFrom >= planned.count ? undefined : planned.line.get(compacted.keptFrom);
      if (unchanged) {
        const fresh = placeFresh(s, n, leaf, false);
        placed.set(s.id, { entryOf: joinEntries([sourceEntryOf, 0, n], [fresh.entryOf, 0, Infinity]), tip: fresh.count > 0 ? fresh.tip : leaf, imported: { messages: n, leaf }, source: src });
        report.push({ sessionId: s.id, origin: 'import', fresh: fresh.count });
      } else if (compacted !== undefined && leaf !== null && keptLine !== undefined && idOfLine(keptLine) !== null) {
        // A compaction pi can express: a `compaction` entry after the leaf, then what followed.
        const id = freshId();
        const history = s.transcriptHistory();
        const commit = history?.commits[history.commits.length - 1];
        const tokens = /tokensBefore=(\d+)/.exec(commit?.reason.note ?? '')?.[1];
        const entry = {
          type: 'compaction',
          id,
          parentId: leaf,
          timestamp: iso(commit?.committedAt ?? s.updatedAt),
          summary: compacted.summary,
          firstKeptEntryId: idOfLine(keptLine)!,
          tokensBefore: tokens === undefined ? 0 : Number(tokens),
        };
        placeLine(id, leaf, JSON.stringify(entry));
        const kept = n - compacted.keptFrom;
        const fresh = placeFresh(s, 1 + kept, id, false);
        placed.set(s.id, {
          entryOf: joinEntries([listEntries([id]), 0, 1], [sourceEntryOf, compacted.keptFrom, n], [fresh.entryOf, 0, Infinity]),
          tip: fresh.count > 0 ? fresh.tip : id,
          compacted: { id, kept },
          source: src,
        });
        report.push({ sessionId: s.id, origin: 'import', fresh: fresh.count + 1, rewritten: 'compaction' });
      } else {
        const k = commonPrefix(current ?? keysOf(s), plannedKeys(planned));
        const attach = k > 0 ? sourceEntryOf.at(k - 1)! : null;
        const fresh = placeFresh(s, k, attach, false);
        placed.set(s.id, { entryOf: joinEntries([sourceEntryOf, 0, k], [fresh.entryOf, 0, Infinity]), tip: fresh.tip, source: src });
        report.push({ sessionId: s.id, origin: 'import', fresh: fresh.count, rewritten: 'branch' });
      }
      continue;
    }
    if (m.forkedFrom !== undefined && placed.has(m.forkedFrom.sessionId)) {
      const parent = placed.get(m.forkedFrom.sessionId)!;
      const pAt = await store.load(m.forkedFrom.sessionId, { atSeq: m.forkedFrom.seq });
      if (E.isLeft(pAt)) return pAt;
      const shared = commonPrefixWith(s, keysOf(pAt.right));
      const imp = parent.imported;
      const c = parent.compacted;
      // Inside a pi compaction's kept messages there is nothing to hang off: the fork is a root of fresh entries.
      const k = c !== undefined && shared >= 1 && shared <= c.kept ? 0 : shared;
      const attach =
        c !== undefined && k === c.kept + 1 ? c.id : imp !== undefined && k === imp.messages ? imp.leaf : k > 0 ? (parent.entryOf.at(k - 1) ?? null) : null;
      const fresh = placeFresh(s, k, attach, false);
      placed.set(s.id, { entryOf: joinEntries([parent.entryOf, 0, k], [fresh.entryOf, 0, Infinity]), tip: fresh.count > 0 ? fresh.tip : attach });
      report.push({ sessionId: s.id, origin: 'fork', fresh: fresh.count });
      continue;
    }
    const fresh = placeFresh(s, 0, null, true);
    placed.set(s.id, { entryOf: fresh.entryOf, tip: fresh.tip });
    report.push({ sessionId: s.id, origin: 'native', fresh: fresh.count });
  }

  // Labels set or deleted in palimpsest become pi `label` entries after each session's tip.
  for (const m of members) {
    const s = m.session;
    const p = placed.get(s.id)!;
    const current = labelsOf(s.metadata);
    const bodies: Array<Record<string, unknown>> = [];
    for (const l of current) {
      if (l.pi !== undefined && index !== undefined && index.indexOfId(l.pi) !== undefined) continue;
      const at = await store.load(l.sessionId, { atSeq: l.seq });
      if (E.isLeft(at)) return at;
      const owner = placed.get(l.sessionId) ?? p;
      const count = at.right.messageCount;
      // A state the import wrote (the session may be rewritten since): the source entry; else the entry of its last message now.
      const src = owner.source;
      const imported = src !== undefined && count > 0 && count <= src.entryOf.length && commonPrefixWith(at.right, plannedKeys(src)) === count;
      const target = count === 0 ? undefined : imported ? src.entryOf.at(count - 1) : owner.entryOf.at(count - 1);
      if (target === undefined || target === null) continue;
      bodies.push({ targetId: target, label: l.name });
    }
    const plannedLabels = source?.labels.get(s.id);
    if (plannedLabels !== undefined) {
      for (const [targetId, name] of plannedLabels) {
        if (!current.some((l) => l.pi === targetId || (l.name === name && l.pi !== undefined))) bodies.push({ targetId });
      }
    }
    let parentId = p.tip;
    for (const body of bodies) {
      const id = freshId();
      placeLine(id, parentId, JSON.stringify({ type: 'label', id, parentId, timestamp: iso(s.updatedAt), ...body }));
      parentId = id;
    }
    if (bodies.length > 0) {
      placed.set(s.id, { ...p, tip: parentId });
      const i = report.findIndex((x) => x.sessionId === s.id);
      if (i >= 0) report[i] = { ...report[i]!, fresh: report[i]!.fresh + bodies.length };
    }
  }

  const header: Record<string, unknown> =
    source !== undefined ? headerFor(source, self.id, tree) : piHeaderFor(root.id, root.createdAt, root.metadata as Record<string, Json>);
  await sink(`${JSON.stringify(header)}\n`);
  if (tree) {
    const fromSource = index?.count ?? 0;
    if (source !== undefined) await writeSourceEntries(source, sink, undefined);
    await writeFresh(parts, sink, undefined);
    return E.right({ sessionId, tree, entries: fromSource + freshCount, fromSource, sessions: report });
  }
  // The path from the session's tip to the root: fresh entries (whose ancestors may be source entries), then source entries.
  const onPath = new Set<string>();
  const sourcePath: number[] = [];
  for (let cur = placed.get(self.id)!.tip; cur !== null; ) {
    if (freshParent.has(cur)) {
      onPath.add(cur);
      cur = freshParent.get(cur)!;
      continue;
    }
    const i = index?.indexOfId(cur);
    if (i === undefined) break;
    sourcePath.push(i);
    const parent = index!.parentOf(i);
    cur = parent < 0 ? null : index!.idOf(parent);
  }
  sourcePath.reverse();
  if (source !== undefined && sourcePath.length > 0) await writeSourceEntries(source, sink, sourcePath);
  await writeFresh(parts, sink, onPath);
  return E.right({ sessionId, tree, entries: sourcePath.length + onPath.size, fromSource: sourcePath.length, sessions: report });
};

/**
 * Writes source entries as pi v3 lines: all in file order (`path` undefined),
 * or the entries `path` lists (indexes, root first). Reads the scratch copy
 * once; a path not in file order (a parent written after its child) is
 * gathered first and then written in path order.
 */
const writeSourceEntries = async (source: ImportSource, sink: PiLineSink, path: readonly number[] | undefined): Promise<void> => {
  const { index } = source;
  const inFileOrder = path === undefined || path.every((x, i) => i === 0 || x > path[i - 1]!);
  const wanted = path === undefined ? undefined : new Set(path);
  const gathered = new Map<number, string>();
  let next = 0;
  for (const l of piSourceLines(source.path)) {
    while (next < index.count && index.lineOf(next) < l.line) next++;
    if (next >= index.count) break;
    if (index.lineOf(next) !== l.line) continue;
    const i = next;
    if (wanted !== undefined && !wanted.has(i)) continue;
    const line = `${JSON.stringify(sourceEntryValue(index, i, l.text))}\n`;
    if (inFileOrder) await sink(line);
    else gathered.set(i, line);
  }
  if (!inFileOrder) for (const i of path!) await sink(gathered.get(i)!);
};

/** Writes the fresh entries of `parts` in order (only those in `only`, when given), drawing the ids placing drew. */
const writeFresh = async (parts: readonly FreshPart[], sink: PiLineSink, only: ReadonlySet<string> | undefined): Promise<void> => {
  for (const part of parts) {
    if (part.kind === 'line') {
      if (only === undefined || only.has(part.id)) await sink(`${part.line}\n`);
      continue;
    }
    if (only !== undefined && !part.ids.some((id) => only.has(id))) continue;
    let k = 0;
    const s = part.session;
    const chain = { parentId: part.parentId, freshId: () => part.ids[k++]!, toolNames: part.toolNames, ...(part.userMetadata ? { userMetadata: { createdAt: s.createdAt } } : {}) };
    for (const e of piEntries(messagesOf(s, part.from), s.metadata, chain)) {
      if (only === undefined || only.has(e.id)) await sink(`${e.line}\n`);
    }
  }
};

/** The first message of `s`; a chunk that cannot be read throws `LazyReadFailure`. */
const firstMessage = (s: Session): Message | undefined => {
  const head = s.readMessage(0);
  if (E.isLeft(head)) throw new LazyReadFailure(head.left);
  return head.right;
};

/** The text of `head` when it is a `compaction_summary` user message of one text block. */
const summaryOf = (head: Message | undefined): string | undefined =>
  head?.role === 'user' && head.transcriptRole === 'compaction_summary' && head.content.length === 1 && head.content[0]!.type === 'text' ? head.content[0]!.text : undefined;

/**
 * `piCompactionOf` on digests (`messageKey`s; the caller checks the first is a
 * summary): the `keptFrom` at which `messages[1..]` continues `imported`.
 */
const compactionOfKeys = (messages: readonly string[], imported: readonly string[]): number | undefined => {
  const first = messages[1];
  if (first === undefined) return undefined;
  for (let k = 1; k < imported.length; k++) {
    if (imported[k] !== first) continue;
    const kept = imported.length - k;
    if (messages.length >= 1 + kept && commonPrefix(messages.slice(1, 1 + kept), imported.slice(k)) === kept) return k;
  }
  return undefined;
};

/**
 * Whether `messages` is `imported` compacted the way pi compacts: one
 * `compaction_summary` user message holding one text block, then
 * `imported[keptFrom..]` unchanged (`keptFrom ≥ 1`, at least one message
 * kept), then anything. Returns the summary text and `keptFrom`.
 */
export const piCompactionOf = (messages: readonly Message[], imported: readonly Message[]): { readonly summary: string; readonly keptFrom: number } | undefined => {
  const summary = summaryOf(messages[0]);
  if (summary === undefined) return undefined;
  const keptFrom = compactionOfKeys(messages.map(messageKey), imported.map(messageKey));
  return keptFrom === undefined ? undefined : { summary, keptFrom };
};

const incompleteFor = (sessionId: string, file: string): PiImportIncomplete => ({
  _tag: 'PiImportIncomplete',
  sessionId,
  file,
  message: `session ${JSON.stringify(sessionId)} is not among the sessions the import of ${file} planned`,
});

/**
 * The header of an export of an imported family: the source's (as pi v3). A
 * single-branch export of a session other than the one under the pi id (the
 * branch pi reopens) gets that session's store id as `id`, so the file does
 * not claim the whole pi session.
 */
const headerFor = (source: ImportSource, sessionId: string, tree: boolean): Record<string, unknown> => {
  const h = { ...source.index.header };
  if (!tree && source.keys.get(sessionId) !== source.index.headerId) h['id'] = sessionId;
  return h;
};
