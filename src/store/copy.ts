/**
 * Copying sessions between stores, whatever their backends (`palimpsest copy`):
 * every stored row of a session — records, snapshots, revision index, fork
 * link, header — byte for byte, with the chunks its snapshots reach and the
 * blobs its records (and those blobs, e.g. a pi import manifest) name; then
 * every copied head is compared on both sides and the copies are verified.
 *
 * Rules: sessions are copied parents first (a fork needs its parent: a
 * requested session brings its missing ancestors along). Nothing at the
 * destination is overwritten or deleted: a session already there with the same
 * head (`lastSeq` and `lastHash`) is reported as `already` and left alone (so
 * an interrupted copy is finished by running it again); with another head it
 * is `SessionExists` naming it, before anything is written — unless it is an
 * ancestor brought along (not asked for) whose records at the destination
 * agree with the source up to every fork point its copied descendants branch
 * off from: then it is `shared` and left alone (the usual case of copying a
 * new fork of a parent that kept growing on both sides). Each session is
 * written in one batch (header last in it), so an interruption leaves whole
 * sessions only. The source is read at each session's header as first read,
 * so a source being written meanwhile (PostgreSQL) gives a consistent prefix.
 */
import * as E from 'fp-ts/lib/Either.js';
import { canonicalJsonUnsafe } from '../model/json.ts';
import { sessionExists, sessionNotFound, type StoreError } from './errors.ts';
import { decodeHeader, seqOfKey, type Io, type PutOp, type SessionHeader } from './io.ts';
import { keys, prefixRange } from './layout.ts';
import { openIo, type StoreTarget } from './open.ts';
import { snapshotChunkRoots } from './snapshot.ts';
import { indexNodeChildren } from './chunkIndex.ts';
import { SessionStore } from './store.ts';

/**
 * A session the copy covered: `{ sessionId, seq, hash }` is the same on both
 * sides after the copy. For `copied` and `already` it is the session's head;
 * for `shared` it is the last record the copied forks branch off from.
 */
export interface CopiedHead {
  readonly sessionId: string;
  readonly seq: number;
  readonly hash: string;
  /**
   * `copied` by this run; `already` at the destination with this head (left
   * alone); `shared`: an ancestor that was not asked for, at the destination
   * with another head but the same records up to every fork point the copied
   * sessions need (left alone).
   */
  readonly status: 'copied' | 'already' | 'shared';
}

/** What `copySessions` did. */
export interface CopyReport {
  readonly sessions: readonly CopiedHead[];
  /** Rows written: records, snapshots, chunks, blobs. */
  readonly written: { readonly records: number; readonly snapshots: number; readonly chunks: number; readonly blobs: number };
}

/** After the copy a head differs between the two sides, or a copy does not verify. */
export interface CopyMismatch {
  readonly _tag: 'CopyMismatch';
  readonly sessionId: string;
  readonly reason: string;
  readonly message: string;
}

/** The errors of `copySessions`. */
export type CopyError = StoreError | CopyMismatch;

const copyMismatch = (sessionId: string, reason: string): CopyMismatch => ({
  _tag: 'CopyMismatch',
  sessionId,
  reason,
  message: `copy of session ${JSON.stringify(sessionId)}: ${reason}`,
});

const DIGEST_IN_TEXT = /sha256:[0-9a-f]{64}/g;

/** One session read from the source, ready to write. */
interface SessionRows {
  readonly header: SessionHeader;
  readonly ops: PutOp[];
  readonly counts: { records: number; snapshots: number; chunks: number; blobs: number };
}

/**
 * Copies sessions `ids` (default: every session) with their ancestors from
 * store `from` to store `to` (directories or PostgreSQL targets; the
 * destination is created when missing), then checks that every head is
 * identical on both sides and verifies each copied session at the
 * destination. Errors: `SessionNotFound` (an id not in the source),
 * `SessionExists` (at the destination with another head), `CopyMismatch`,
 * and what opening or reading either store returns.
 */
export const copySessions = async (from: StoreTarget, to: StoreTarget, ids?: readonly string[]): Promise<E.Either<CopyError, CopyReport>> => {
  const src = await openIo(from, false, false);
  if (E.isLeft(src)) return src;
  const dst = await openIo(to, false, true);
  if (E.isLeft(dst)) {
    await src.right.close();
    return dst;
  }
  const planned = await copyRows(src.right, dst.right, ids);
  await src.right.close();
  await dst.right.close();
  if (E.isLeft(planned)) return planned;
  return checkHeads(from, to, planned.right);
};

/** Reads the plan from `src`, refuses conflicts, writes each session in one batch to `dst`. */
const copyRows = async (src: Io, dst: Io, ids: readonly string[] | undefined): Promise<E.Either<CopyError, CopyReport>> => {
  const order = await sessionsInOrder(src, ids);
  if (E.isLeft(order)) return order;
  const requested = ids === undefined || ids.length === 0 ? undefined : new Set(ids);
  const heads: CopiedHead[] = [];
  const todo: SessionHeader[] = [];
  for (const h of order.right) {
    const there = await dst.header(h.sessionId);
    if (E.isLeft(there)) return there;
    if (there.right === undefined) todo.push(h);
    else if (there.right.lastSeq === h.lastSeq && there.right.lastHash === h.lastHash) heads.push({ sessionId: h.sessionId, seq: h.lastSeq, hash: h.lastHash, status: 'already' });
    else {
      // Only an ancestor brought along may differ, and only after the fork points its copied descendants need.
      const shared = requested === undefined || requested.has(h.sessionId) ? E.right(undefined) : await sharedForkPoint(dst, h.sessionId, order.right);
      if (E.isLeft(shared)) return shared;
      if (shared.right === undefined) return E.left(sessionExists(h.sessionId));
      heads.push({ sessionId: h.sessionId, ...shared.right, status: 'shared' });
    }
  }
  const written = { records: 0, snapshots: 0, chunks: 0, blobs: 0 };
  const seenChunks = new Set<string>();
  const seenBlobs = new Set<string>();
  for (const h of todo) {
    const rows = await readSession(src, dst, h, seenChunks, seenBlobs);
    if (E.isLeft(rows)) return rows;
    const w = await dst.batch(rows.right.ops);
    if (E.isLeft(w)) return w;
    for (const k of Object.keys(written) as Array<keyof typeof written>) written[k] += rows.right.counts[k];
    heads.push({ sessionId: h.sessionId, seq: h.lastSeq, hash: h.lastHash, status: 'copied' });
  }
  return E.right({ sessions: heads, written });
};

/**
 * For an ancestor `sid` that exists at the destination with another head: the
 * last fork point (`{ seq, hash }`) that its children in `order` branch off
 * from, when the destination holds exactly that record there (the hash chain
 * then makes every earlier record equal too); `undefined` when a child's fork
 * point is missing or different at the destination.
 */
const sharedForkPoint = async (dst: Io, sid: string, order: readonly SessionHeader[]): Promise<E.Either<StoreError, { readonly seq: number; readonly hash: string } | undefined>> => {
  const points = order.flatMap((c) => (c.forkedFrom !== undefined && c.forkedFrom.sessionId === sid ? [c.forkedFrom] : []));
  if (points.length === 0) return E.right(undefined);
  const last = points.reduce((a, b) => (b.seq > a.seq ? b : a));
  for (const p of points) {
    const raw = await dst.get(keys.record(sid, p.seq));
    if (E.isLeft(raw)) return raw;
    if (raw.right === undefined || stringMember(raw.right, 'hash') !== p.hash) return E.right(undefined);
  }
  return E.right({ seq: last.seq, hash: last.hash });
};

/** The string member `key` of a stored JSON object's text (a record's `hash`, a chunk's `prev`); `undefined` when absent or unparsable. */
const stringMember = (raw: string, key: 'hash' | 'prev'): string | undefined => {
  try {
    const v = (JSON.parse(raw) as Record<string, unknown>)[key];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
};

/** The headers of `ids` (default all) and their ancestors, parents before children. */
const sessionsInOrder = async (src: Io, ids: readonly string[] | undefined): Promise<E.Either<StoreError, SessionHeader[]>> => {
  const byId = new Map<string, SessionHeader>();
  let wanted: string[];
  if (ids === undefined || ids.length === 0) {
    wanted = [];
    for await (const batch of src.scan(prefixRange(keys.headerPrefix))) {
      if (E.isLeft(batch)) return batch;
      for (const [k, v] of batch.right) {
        const sid = k.slice(keys.headerPrefix.length);
        const h = decodeHeader(sid, v);
        if (E.isLeft(h)) return h;
        byId.set(sid, h.right);
        wanted.push(sid);
      }
    }
  } else wanted = [...ids];
  const out: SessionHeader[] = [];
  const placed = new Set<string>();
  const place = async (sid: string, path: ReadonlySet<string>): Promise<E.Either<StoreError, void>> => {
    if (placed.has(sid) || path.has(sid)) return E.right(undefined);
    let h = byId.get(sid);
    if (h === undefined) {
      const r = await src.header(sid);
      if (E.isLeft(r)) return r;
      if (r.right === undefined) return E.left(sessionNotFound(sid));
      h = r.right;
      byId.set(sid, h);
    }
    if (h.forkedFrom !== undefined) {
      const p = await place(h.forkedFrom.sessionId, new Set([...path, sid]));
      if (E.isLeft(p)) return p;
    }
    placed.add(sid);
    out.push(h);
    return E.right(undefined);
  };
  for (const sid of wanted) {
    const p = await place(sid, new Set());
    if (E.isLeft(p)) return p;
  }
  return E.right(out);
};

/** Every row of session `h` up to its header's last seq, plus the chunks and blobs it reaches that `dst` lacks. */
const readSession = async (src: Io, dst: Io, h: SessionHeader, seenChunks: Set<string>, seenBlobs: Set<string>): Promise<E.Either<StoreError, SessionRows>> => {
  const sid = h.sessionId;
  const ops: PutOp[] = [];
  const tail: PutOp[] = [];
  const counts = { records: 0, snapshots: 0, chunks: 0, blobs: 0 };
  const blobCandidates = new Set<string>();
  const noteDigests = (text: string): void => {
    for (const m of text.matchAll(DIGEST_IN_TEXT)) blobCandidates.add(m[0]);
  };
  for await (const batch of src.scan({ gte: keys.record(sid, 1), lte: keys.record(sid, h.lastSeq) })) {
    if (E.isLeft(batch)) return batch;
    for (const [k, v] of batch.right) {
      tail.push({ key: k, value: v });
      // Only the command can name a blob (a record's own hash, prev, revision and state digests never do).
      noteDigests(commandText(v));
      counts.records++;
    }
  }
  const roots: string[] = [];
  for await (const batch of src.scan(prefixRange(keys.snapshotPrefix(sid)))) {
    if (E.isLeft(batch)) return batch;
    for (const [k, v] of batch.right) {
      if ((seqOfKey(k) ?? Infinity) > h.lastSeq) continue;
      tail.push({ key: k, value: v });
      roots.push(...snapshotChunkRoots(v));
      counts.snapshots++;
    }
  }
  for await (const batch of src.scan(prefixRange(keys.revisionPrefix(sid)))) {
    if (E.isLeft(batch)) return batch;
    for (const [k, v] of batch.right) if ((seqOfKey(k) ?? Infinity) <= h.lastSeq) tail.push({ key: k, value: v });
  }
  if (h.forkedFrom !== undefined) {
    const link = await src.get(keys.fork(h.forkedFrom.sessionId, sid));
    if (E.isLeft(link)) return link;
    if (link.right !== undefined) tail.push({ key: keys.fork(h.forkedFrom.sessionId, sid), value: link.right });
  }
  // Chunk chains, walked from each root through `prev`, and index trees through their inner nodes'
  // ids (content-addressed: a chunk or node the destination has is the same, with everything below it).
  const pending = [...roots];
  while (pending.length > 0) {
    let id: string | undefined = pending.pop();
    while (id !== undefined && !seenChunks.has(id)) {
      seenChunks.add(id);
      const there = await dst.get(keys.chunk(id));
      if (E.isLeft(there)) return there;
      if (there.right !== undefined) break;
      const v = await src.get(keys.chunk(id));
      if (E.isLeft(v)) return v;
      if (v.right === undefined) break; // a missing chunk: the copy's verify reports it
      ops.push({ key: keys.chunk(id), value: v.right });
      counts.chunks++;
      pending.push(...indexNodeChildren(v.right));
      id = stringMember(v.right, 'prev');
    }
  }
  // Blobs named anywhere in the records, and in those blobs (a pi import manifest names its chunk blobs).
  const queue = [...blobCandidates];
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (seenBlobs.has(id)) continue;
    seenBlobs.add(id);
    const bytes = await src.getBytes(keys.blob(id));
    if (E.isLeft(bytes)) return bytes;
    if (bytes.right === undefined) continue; // a digest that names no blob (a revision, a hash)
    const there = await dst.getBytes(keys.blob(id));
    if (E.isLeft(there)) return there;
    if (there.right !== undefined) continue;
    ops.push({ key: keys.blob(id), bytes: bytes.right });
    counts.blobs++;
    for (const m of Buffer.from(bytes.right).toString('latin1').matchAll(DIGEST_IN_TEXT)) queue.push(m[0]);
  }
  ops.push(...tail);
  // The header last: a reader never sees a header whose rows are not there (one batch anyway).
  ops.push({ key: keys.header(sid), value: JSON.stringify(h) });
  return E.right({ header: h, ops, counts });
};

/** The command of a stored record as JSON text (the whole value when it does not parse: its digests are then all tried). */
const commandText = (raw: string): string => {
  try {
    return JSON.stringify((JSON.parse(raw) as { command?: unknown }).command ?? null);
  } catch {
    return raw;
  }
};


/** Opens both stores: every head in `report` must be the same on both sides, and every copied session must verify at the destination. */
const checkHeads = async (from: StoreTarget, to: StoreTarget, report: CopyReport): Promise<E.Either<CopyError, CopyReport>> => {
  for (const [target, side] of [
    [from, 'source'],
    [to, 'destination'],
  ] as const) {
    const store = await SessionStore.open(target);
    if (E.isLeft(store)) return store;
    try {
      const list = await store.right.list();
      if (E.isLeft(list)) return list;
      const byId = new Map(list.right.map((s) => [s.sessionId, s]));
      for (const c of report.sessions) {
        const s = byId.get(c.sessionId);
        if (s === undefined) return E.left(copyMismatch(c.sessionId, `missing at the ${side} after the copy`));
        const log = await store.right.log(c.sessionId, { fromSeq: c.seq, toSeq: c.seq });
        if (E.isLeft(log)) return log;
        const hash = log.right[0]?.hash;
        if (hash !== c.hash) return E.left(copyMismatch(c.sessionId, `the ${side} holds ${hash ?? 'nothing'} at seq ${c.seq}, the copied head is ${c.hash}`));
        if (side === 'destination' && c.status === 'copied') {
          const v = await store.right.verify(c.sessionId);
          if (E.isLeft(v)) return v;
          const problems = v.right.flatMap((r) => r.problems);
          if (problems.length > 0) return E.left(copyMismatch(c.sessionId, `the copy does not verify: ${canonicalJsonUnsafe(problems.slice(0, 3) as never)}`));
        }
      }
    } finally {
      await store.right.close();
    }
  }
  return E.right(report);
};
