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
 * Errors: `SessionNotFound` and store read errors, `PiSourceMismatch` /
 * `BlobNotFound` / `CorruptBlob` when the stored source does not read back as
 * recorded, `PiImportIncomplete` for a session of an import that never
 * finished.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Json } from '../../model/json.ts';
import type { Message } from '../../model/message.ts';
import { canonicalMessageBytes, transcriptDigest } from '../../model/digest.ts';
import type { Session } from '../../session/session.ts';
import { isLazyReadFailure, type SessionStore, type StoreError } from '../../store/index.ts';
import { entryId, exportPiJsonl, iso, piEntryLines, piHeaderFor } from './export.ts';
import { labelsOf } from '../../store/labels.ts';
import { planPiImport, plannedMessageLines, plannedMessages } from './plan.ts';
import { piImportStatus, type PiImportMark } from './provenance.ts';
import type { PiImportError } from './report.ts';
import { readPiSource, type PiSourceMismatch } from './source.ts';
import { sourceTree, type SourceTree } from './sourceTree.ts';

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

/** What `exportPi` wrote: the JSONL text, its entry count and how each session was written. */
export interface PiExport {
  readonly sessionId: string;
  readonly tree: boolean;
  readonly jsonl: string;
  /** Entries (lines after the header). */
  readonly entries: number;
  /** Entries copied from the stored pi source. */
  readonly fromSource: number;
  readonly sessions: readonly PiExportedSession[];
}

/** One family member as export sees it. */
interface Member {
  readonly session: Session;
  readonly forkedFrom?: { readonly sessionId: string; readonly seq: number };
}

/** What is known of a member once written: the entry of each of its messages and its tip (last entry). */
interface Placed {
  readonly entryOf: readonly (string | null)[];
  readonly tip: string | null;
  /** For an unchanged import: messages that came from the source and the branch leaf entry. */
  readonly imported?: { readonly messages: number; readonly leaf: string | null };
  /**
   * For an import exported with a pi `compaction` entry (`id`) keeping `kept`
   * source messages: pi has no entry whose context is the summary and only
   * some of them, so a fork inside `[1, kept]` messages cannot hang off the tree.
   */
  readonly compacted?: { readonly id: string; readonly kept: number };
  /** For an import: the messages the import wrote and the source entry of each (labels on those states point there). */
  readonly source?: { readonly messages: readonly Message[]; readonly entryOf: readonly (string | null)[] };
}

const digestsEqual = (a: Message, b: Message): boolean => Buffer.from(canonicalMessageBytes(a)).equals(canonicalMessageBytes(b));

/** Length of the common prefix of `a` and `b` (by message digest), at most `max`. */
const commonPrefix = (a: readonly Message[], b: readonly Message[], max = Infinity): number => {
  const n = Math.min(a.length, b.length, max);
  let i = 0;
  while (i < n && digestsEqual(a[i]!, b[i]!)) i++;
  return i;
};

/** Tool names by call id in `messages` (for `toolResult.toolName` of fresh entries). */
const toolNamesOf = (messages: readonly Message[]): Map<string, string> => {
  const m = new Map<string, string>();
  for (const x of messages) if (x.role === 'assistant') for (const b of x.content) if (b.type === 'tool_use') m.set(b.id, b.name);
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

/** The import's source and plan, read once per export. */
interface ImportSource {
  readonly mark: PiImportMark;
  readonly tree: SourceTree;
  readonly messages: ReadonlyMap<string, { readonly messages: Message[]; readonly lines: number[] }>;
  /** The plan key of each store id of the import. */
  readonly keys: ReadonlyMap<string, string>;
  /** The pi labels each imported session got: target entry id → label. */
  readonly labels: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

const readImport = async (store: SessionStore, mark: PiImportMark): Promise<E.Either<PiExportError, ImportSource>> => {
  const src = await readPiSource(store, mark.source);
  if (E.isLeft(src)) return src;
  const tree = sourceTree(src.right.text, mark.file, mark.digest);
  if (E.isLeft(tree)) return tree;
  const plan = planPiImport(tree.right.parsed);
  if (E.isLeft(plan)) return plan;
  const sessions = plan.right.sessions;
  const messages = new Map<string, { messages: Message[]; lines: number[] }>();
  const keys = new Map<string, string>();
  const labels = new Map<string, Map<string, string>>();
  // mark.sessions lists the store ids in plan order.
  sessions.forEach((s, i) => {
    const id = mark.sessions[i];
    if (id === undefined) return;
    messages.set(id, { messages: plannedMessages(sessions, s.key), lines: plannedMessageLines(sessions, s.key) });
    keys.set(id, s.key);
    const byTarget = new Map<string, string>();
    for (const l of s.labels) {
      if (l.label === undefined) byTarget.delete(l.targetId);
      else byTarget.set(l.targetId, l.label);
    }
    labels.set(id, byTarget);
  });
  return E.right({ mark, tree: tree.right, messages, keys, labels });
};

/**
 * Exports session `sessionId` (or with `tree` its whole family) as pi JSONL
 * version 3 and says how each session was written. See the module comment.
 */
export const exportPi = async (store: SessionStore, sessionId: string, opts: { readonly tree?: boolean } = {}): Promise<E.Either<PiExportError, PiExport>> => {
  try {
    return await exportPiUnsafe(store, sessionId, opts.tree === true);
  } catch (e) {
    // Reading the messages of a cold-loaded session can meet a missing or corrupt chunk.
    if (isLazyReadFailure(e)) return E.left(e.error);
    throw e;
  }
};

const exportPiUnsafe = async (store: SessionStore, sessionId: string, tree: boolean): Promise<E.Either<PiExportError, PiExport>> => {
  const fam = await familyOf(store, sessionId, tree);
  if (E.isLeft(fam)) return fam;
  const members = fam.right;
  const root = members[0]!.session;
  const self = members.find((m) => m.session.id === sessionId)!.session;
  const rootStatus = piImportStatus(root.id, root.metadata);

  // A session no import wrote, alone: the transcript export.
  if (rootStatus.kind === 'none' && !tree) {
    const jsonl = exportPiJsonl({ sessionId: self.id, createdAt: self.createdAt, metadata: self.metadata, messages: self.messages });
    const entries = jsonl.split('\n').length - 2;
    return E.right({ sessionId, tree, jsonl, entries, fromSource: 0, sessions: [{ sessionId, origin: 'native', fresh: entries }] });
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
  let source: ImportSource | undefined;
  if (rootStatus.kind !== 'none') {
    const s = await readImport(store, rootStatus.mark);
    if (E.isLeft(s)) return s;
    source = s.right;
  }

  const usedIds = new Set<string>(source?.tree.byId.keys() ?? []);
  let counter = 0;
  const freshId = (): string => {
    let id: string;
    do id = entryId(++counter);
    while (usedIds.has(id));
    usedIds.add(id);
    return id;
  };
  const freshLines: string[] = [];
  const freshParent = new Map<string, string | null>();
  const placed = new Map<string, Placed>();
  const report: PiExportedSession[] = [];

  const leafOf = (leafLine: number): string | null => (leafLine === 0 ? null : (source?.tree.idOfLine.get(leafLine) ?? null));
  const writeFresh = (s: Session, from: number, parentId: string | null, userMetadata: boolean): { entryOf: string[]; tip: string | null } => {
    const { lines, entryOf, lastId } = piEntryLines(s.messages.slice(from), s.metadata, {
      parentId,
      freshId,
      toolNames: toolNamesOf(s.messages.slice(0, from)),
      ...(userMetadata ? { userMetadata: { createdAt: s.createdAt } } : {}),
    });
    for (const l of lines) {
      const o = JSON.parse(l) as { id: string; parentId: string | null };
      freshParent.set(o.id, o.parentId);
    }
    freshLines.push(...lines);
    return { entryOf, tip: lastId };
  };

  for (const m of members) {
    const s = m.session;
    const st = piImportStatus(s.id, s.metadata);
    const msgs = s.messages;
    if (st.kind === 'complete' && source !== undefined) {
      const planned = source.messages.get(s.id);
      if (planned === undefined) return E.left(incompleteFor(s.id, st.mark.file));
      const n = st.imported.messages;
      const unchanged = msgs.length >= n && transcriptDigest(msgs.slice(0, n)) === st.imported.revision;
      const compacted = unchanged ? undefined : piCompactionOf(msgs, planned.messages.slice(0, n));
      // The entry of each imported message: the latest source line at or before it.
      const sourceEntryOf: (string | null)[] = [];
      let maxLine = 0;
      for (const line of planned.lines) {
        maxLine = Math.max(maxLine, line);
        sourceEntryOf.push(source.tree.idOfLine.get(maxLine) ?? null);
      }
      if (unchanged) {
        const leaf = st.imported.leafLine === 0 ? null : (source.tree.idOfLine.get(st.imported.leafLine) ?? null);
        const before = freshLines.length;
        const fresh = writeFresh(s, n, leaf, false);
        placed.set(s.id, {
          entryOf: [...sourceEntryOf.slice(0, n), ...fresh.entryOf],
          tip: fresh.entryOf.length > 0 ? fresh.tip : leaf,
          imported: { messages: n, leaf },
          source: { messages: planned.messages, entryOf: sourceEntryOf },
        });
        report.push({ sessionId: s.id, origin: 'import', fresh: freshLines.length - before });
      } else if (compacted !== undefined && leafOf(st.imported.leafLine) !== null && source.tree.idOfLine.has(planned.lines[compacted.keptFrom]!)) {
        // A compaction pi can express: a `compaction` entry after the leaf, then what followed.
        const leaf = leafOf(st.imported.leafLine)!;
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
          firstKeptEntryId: source.tree.idOfLine.get(planned.lines[compacted.keptFrom]!)!,
          tokensBefore: tokens === undefined ? 0 : Number(tokens),
        };
        freshLines.push(JSON.stringify(entry));
        freshParent.set(id, leaf);
        const before = freshLines.length;
        const kept = n - compacted.keptFrom;
        const fresh = writeFresh(s, 1 + kept, id, false);
        placed.set(s.id, { entryOf: [id, ...sourceEntryOf.slice(compacted.keptFrom, n), ...fresh.entryOf], tip: fresh.entryOf.length > 0 ? fresh.tip : id,
          compacted: { id, kept },
          source: { messages: planned.messages, entryOf: sourceEntryOf },
        });
        report.push({ sessionId: s.id, origin: 'import', fresh: freshLines.length - before + 1, rewritten: 'compaction' });
      } else {
        const k = commonPrefix(msgs, planned.messages);
        const attach = k > 0 ? sourceEntryOf[k - 1]! : null;
        const before = freshLines.length;
        const fresh = writeFresh(s, k, attach, false);
        placed.set(s.id, { entryOf: [...sourceEntryOf.slice(0, k), ...fresh.entryOf], tip: fresh.tip, source: { messages: planned.messages, entryOf: sourceEntryOf } });
        report.push({ sessionId: s.id, origin: 'import', fresh: freshLines.length - before, rewritten: 'branch' });
      }
      continue;
    }
    if (m.forkedFrom !== undefined && placed.has(m.forkedFrom.sessionId)) {
      const parent = placed.get(m.forkedFrom.sessionId)!;
      const pAt = await store.load(m.forkedFrom.sessionId, { atSeq: m.forkedFrom.seq });
      if (E.isLeft(pAt)) return pAt;
      const shared = commonPrefix(msgs, pAt.right.messages);
      const imp = parent.imported;
      const c = parent.compacted;
      // Inside a pi compaction's kept messages there is nothing to hang off: the fork is a root of fresh entries.
      const k = c !== undefined && shared >= 1 && shared <= c.kept ? 0 : shared;
      const attach =
        c !== undefined && k === c.kept + 1 ? c.id : imp !== undefined && k === imp.messages ? imp.leaf : k > 0 ? (parent.entryOf[k - 1] ?? null) : null;
      const before = freshLines.length;
      const fresh = writeFresh(s, k, attach, false);
      placed.set(s.id, { entryOf: [...parent.entryOf.slice(0, k), ...fresh.entryOf], tip: fresh.entryOf.length > 0 ? fresh.tip : attach });
      report.push({ sessionId: s.id, origin: 'fork', fresh: freshLines.length - before });
      continue;
    }
    const before = freshLines.length;
    const fresh = writeFresh(s, 0, null, true);
    placed.set(s.id, { entryOf: fresh.entryOf, tip: fresh.tip });
    report.push({ sessionId: s.id, origin: 'native', fresh: freshLines.length - before });
  }

  // Labels set or deleted in palimpsest become pi `label` entries after each session's tip.
  for (const m of members) {
    const s = m.session;
    const p = placed.get(s.id)!;
    const current = labelsOf(s.metadata);
    const lines: Array<Record<string, unknown>> = [];
    for (const l of current) {
      if (l.pi !== undefined && source?.tree.byId.has(l.pi) === true) continue;
      const at = await store.load(l.sessionId, { atSeq: l.seq });
      if (E.isLeft(at)) return at;
      const owner = placed.get(l.sessionId) ?? p;
      const count = at.right.messageCount;
      // A state the import wrote (the session may be rewritten since): the source entry; else the entry of its last message now.
      const src = owner.source;
      const imported = src !== undefined && count > 0 && count <= src.messages.length && transcriptDigest(src.messages.slice(0, count)) === at.right.transcriptRevision();
      const target = count === 0 ? undefined : imported ? src.entryOf[count - 1] : owner.entryOf[count - 1];
      if (target === undefined || target === null) continue;
      lines.push({ targetId: target, label: l.name });
    }
    const plannedLabels = source?.labels.get(s.id);
    if (plannedLabels !== undefined) {
      for (const [targetId, name] of plannedLabels) {
        if (!current.some((l) => l.pi === targetId || (l.name === name && l.pi !== undefined))) lines.push({ targetId });
      }
    }
    let parentId = p.tip;
    for (const body of lines) {
      const id = freshId();
      const line = JSON.stringify({ type: 'label', id, parentId, timestamp: iso(s.updatedAt), ...body });
      freshParent.set(id, parentId);
      freshLines.push(line);
      parentId = id;
    }
    if (lines.length > 0) {
      placed.set(s.id, { ...p, tip: parentId });
      const r = report.find((x) => x.sessionId === s.id);
      if (r !== undefined) report[report.indexOf(r)] = { ...r, fresh: r.fresh + lines.length };
    }
  }

  const header: Record<string, unknown> =
    source !== undefined ? headerFor(source, self.id, tree) : piHeaderFor(root.id, root.createdAt, root.metadata as Record<string, Json>);
  let body: string[];
  let fromSource = 0;
  if (tree) {
    const src = source?.tree.entries.map((e) => JSON.stringify(e.value)) ?? [];
    fromSource = src.length;
    body = [...src, ...freshLines];
  } else {
    // The path from the session's tip to the root.
    const freshById = new Map(freshLines.map((l) => [(JSON.parse(l) as { id: string }).id, l]));
    const path: string[] = [];
    for (let cur = placed.get(self.id)!.tip; cur !== null; ) {
      const f = freshById.get(cur);
      if (f !== undefined) {
        path.push(f);
        cur = freshParent.get(cur) ?? null;
        continue;
      }
      const e = source?.tree.byId.get(cur);
      if (e === undefined) break;
      path.push(JSON.stringify(e.value));
      fromSource++;
      cur = e.parentId === e.id ? null : e.parentId;
    }
    body = path.reverse();
  }
  const jsonl = [JSON.stringify(header), ...body].map((l) => `${l}\n`).join('');
  return E.right({ sessionId, tree, jsonl, entries: body.length, fromSource, sessions: report });
};

/**
 * Whether `messages` is `imported` compacted the way pi compacts: one
 * `compaction_summary` user message holding one text block, then
 * `imported[keptFrom..]` unchanged (`keptFrom ≥ 1`, at least one message
 * kept), then anything. Returns the summary text and `keptFrom`.
 */
export const piCompactionOf = (messages: readonly Message[], imported: readonly Message[]): { readonly summary: string; readonly keptFrom: number } | undefined => {
  const head = messages[0];
  if (head?.role !== 'user' || head.transcriptRole !== 'compaction_summary' || head.content.length !== 1 || head.content[0]!.type !== 'text') return undefined;
  const summary = head.content[0]!.text;
  const first = messages[1];
  if (first === undefined) return undefined;
  for (let k = 1; k < imported.length; k++) {
    if (!digestsEqual(imported[k]!, first)) continue;
    const kept = imported.length - k;
    if (messages.length >= 1 + kept && commonPrefix(messages.slice(1, 1 + kept), imported.slice(k)) === kept) return { summary, keptFrom: k };
  }
  return undefined;
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
  const h = { ...source.tree.header };
  if (!tree && source.keys.get(sessionId) !== source.tree.parsed.header.id) h['id'] = sessionId;
  return h;
};
