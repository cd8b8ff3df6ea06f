/**
 * Read-only queries over headers and indexes: the session list, the revision
 * graph (`V/` index), lineage and children (fork links, each checked against
 * the child's genesis), a revision's messages, `verify`, and head anchors.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Message } from '../model/message.ts';
import { isDigest, type Digest } from '../model/scalars.ts';
import type { SessionState } from '../session/state.ts';
import { vecToArray } from '../transcript/index.ts';
import { corruptRecord, invalidArgument, sessionNotFound, type StoreError } from './errors.ts';
import { decodeForkLink, decodeHeader, decodeStoredRecord, seqOfKey, type Io, type SessionHeader } from './io.ts';
import { keys, prefixRange, sessionIdProblem } from './layout.ts';
import { materializeState } from './snapshot.ts';
import { verifyStore, type SessionVerifyReport } from './verify.ts';
import { anchorOf, checkAnchors, type Anchor, type AnchorHead, type AnchorProblem } from './anchors.ts';
import { checkForkAgainstGenesis, checkHeaderAgainstLog } from './readChecks.ts';
import { checkSid, guard, requireHeader, type StoreContext } from './context.ts';
import { checkRevisionIndex, firstSeqOf, loadSession } from './load.ts';
import type { ChildLink, LineageEntry, RevisionEntry, RevisionGraph, SessionSummary, StoreVerifyOptions } from './store.ts';

/** `store.list`: every session's header, in id order. */
export const listSessions = (ctx: StoreContext): Promise<E.Either<StoreError, SessionSummary[]>> =>
  guard(ctx, async () => {
    const headers = await readHeaders(ctx.io);
    if (E.isLeft(headers)) return headers;
    const out: SessionSummary[] = [];
    for (const x of headers.right) {
      out.push({
        sessionId: x.sessionId,
        createdAt: x.createdAt,
        updatedAt: x.updatedAt,
        lastSeq: x.lastSeq,
        revision: x.revision,
        messages: x.messages,
        status: x.status,
        ...(x.forkedFrom !== undefined ? { parent: x.forkedFrom } : {}),
      });
    }
    return E.right(out);
  });

/** `store.revisions`: the revision graph of one session. */
export const revisionGraph = (ctx: StoreContext, sessionId: string): Promise<E.Either<StoreError, RevisionGraph>> =>
  guard(ctx, async () => {
    const sid = checkSid(sessionId);
    if (E.isLeft(sid)) return sid;
    const h = await requireHeader(ctx, sid.right);
    if (E.isLeft(h)) return h;
    const cached = ctx.cache.peek(sid.right);
    let state: SessionState;
    if (cached !== undefined && cached.session.seq === h.right.lastSeq) state = cached.session.state;
    else {
      const l = await loadSession(ctx, sid.right, h.right.lastSeq, { header: h.right });
      if (E.isLeft(l)) return l;
      state = l.right.session.state;
    }
    const heads: RevisionEntry[] = [];
    const prefix = keys.revisionPrefix(sid.right);
    for await (const batch of ctx.io.scan(prefixRange(prefix))) {
      if (E.isLeft(batch)) return batch;
      for (const [k, v] of batch.right) {
        const rest = k.slice(prefix.length);
        const slash = rest.lastIndexOf('/');
        const seq = seqOfKey(k);
        const revision = rest.slice(0, slash);
        if (seq === undefined || !isDigest(revision)) return E.left(corruptRecord(sid.right, 0, `bad revision-index key ${k}`));
        if (seq <= h.right.lastSeq) heads.push({ revision, seq, commandType: v });
      }
    }
    heads.sort((a, b) => a.seq - b.seq);
    const seen = new Set<string>();
    const revisions: Array<{ revision: Digest; seq: number }> = [];
    for (const x of heads) {
      if (seen.has(x.revision)) continue;
      seen.add(x.revision);
      revisions.push({ revision: x.revision, seq: x.seq });
    }
    const rewrites = heads.filter((x) => x.commandType === 'transcript_rewritten');
    const commits = vecToArray(state.commits);
    if (rewrites.length !== commits.length) {
      return E.left(corruptRecord(sid.right, 0, `the revision index has ${rewrites.length} rewrites, the session ${commits.length} commits`));
    }
    return E.right({
      sessionId: sid.right,
      head: h.right.revision,
      revisions,
      heads,
      commits: commits.map((commit, i) => ({ seq: rewrites[i]!.seq, commit })),
      ...(h.right.forkedFrom !== undefined ? { forkedFrom: h.right.forkedFrom } : {}),
    });
  });

/** `store.lineage`: the session, then its parent, … up to the root. */
export const lineageOf = (ctx: StoreContext, sessionId: string): Promise<E.Either<StoreError, LineageEntry[]>> =>
  guard(ctx, async () => {
    const sid = checkSid(sessionId);
    if (E.isLeft(sid)) return sid;
    const out: LineageEntry[] = [];
    const seen = new Set<string>();
    let cur: string | undefined = sid.right;
    while (cur !== undefined) {
      if (seen.has(cur)) return E.left(corruptRecord(cur, 0, 'fork lineage loops'));
      seen.add(cur);
      const h = await ctx.io.header(cur);
      if (E.isLeft(h)) return h;
      if (h.right === undefined) {
        if (out.length === 0) return E.left(sessionNotFound(cur));
        const child = out[out.length - 1]!;
        return E.left(corruptRecord(child.sessionId, 1, `fork parent ${cur} does not exist`));
      }
      const f = h.right.forkedFrom;
      const checked = await checkForkAgainstGenesis(ctx.io, cur, f, 'the header');
      if (E.isLeft(checked)) return checked;
      out.push(f === undefined ? { sessionId: cur, mode: 'root' } : { sessionId: cur, mode: f.mode, forkedAt: { sessionId: f.sessionId, seq: f.seq, hash: f.hash } });
      cur = f?.sessionId;
    }
    return E.right(out);
  });

/** `store.children`: the direct fork children, in id order. */
export const childrenOf = (ctx: StoreContext, sessionId: string): Promise<E.Either<StoreError, ChildLink[]>> =>
  guard(ctx, async () => {
    const sid = checkSid(sessionId);
    if (E.isLeft(sid)) return sid;
    const h = await requireHeader(ctx, sid.right);
    if (E.isLeft(h)) return h;
    const prefix = keys.forkPrefix(sid.right);
    const out: ChildLink[] = [];
    for await (const batch of ctx.io.scan(prefixRange(prefix))) {
      if (E.isLeft(batch)) return batch;
      for (const [k, v] of batch.right) {
        const l = decodeForkLink(sid.right, v);
        if (E.isLeft(l)) return l;
        const child = k.slice(prefix.length);
        const checked = await checkForkAgainstGenesis(ctx.io, child, { sessionId: sid.right, ...l.right }, `the fork link ${k}`);
        if (E.isLeft(checked)) return checked;
        out.push({ sessionId: child, ...l.right });
      }
    }
    return E.right(out);
  });

/** `store.revisionMessages`: the messages of a revision the session had as head. */
export const revisionMessagesOf = (ctx: StoreContext, sessionId: string, revision: Digest): Promise<E.Either<StoreError, Message[]>> =>
  guard(ctx, async () => {
    const sid = checkSid(sessionId);
    if (E.isLeft(sid)) return sid;
    if (!isDigest(revision)) return E.left(invalidArgument('revision', 'expected sha256:<64 lowercase hex>'));
    const h = await requireHeader(ctx, sid.right);
    if (E.isLeft(h)) return h;
    const seq = await firstSeqOf(ctx, sid.right, revision);
    if (E.isLeft(seq)) return seq;
    const cached = ctx.cache.peek(sid.right);
    if (cached !== undefined && cached.session.seq === seq.right) return E.right([...cached.session.messages]);
    const l = await loadSession(ctx, sid.right, seq.right, { header: h.right });
    if (E.isLeft(l)) return l;
    const c = checkRevisionIndex(sid.right, revision, l.right.session);
    if (E.isLeft(c)) return c;
    return E.right([...l.right.session.messages]);
  });

/** `store.verify`: one report per session, parents before children. */
export const verifySessions = (ctx: StoreContext, sessionId?: string, opts: StoreVerifyOptions = {}): Promise<E.Either<StoreError, SessionVerifyReport[]>> =>
  guard(ctx, async () => {
    let ids: string[] | undefined;
    if (sessionId !== undefined) {
      const sid = checkSid(sessionId);
      if (E.isLeft(sid)) return sid;
      const h = await requireHeader(ctx, sid.right);
      if (E.isLeft(h)) {
        if (h.left._tag !== 'CorruptRecord' && h.left._tag !== 'UnsupportedVersion') return h;
      }
      ids = [sid.right];
    }
    return verifyStore(ctx.io, {
      ...(ids !== undefined ? { ids } : {}),
      ...(opts.onProgress !== undefined ? { onProgress: opts.onProgress } : {}),
      exclusive: ctx.writers.run,
      // verify never trusts lazy state: the parent's lists are read (and every chunk checked) before it is used.
      parentState: async (psid, seq) => {
        const l = await loadSession(ctx, psid, seq);
        return E.isLeft(l) ? l : materializeState(l.right.session.state);
      },
    });
  });

/** `store.anchor`: every head, each header checked against its log first. */
export const anchorHeads = (ctx: StoreContext): Promise<E.Either<StoreError, Anchor>> =>
  guard(ctx, async () => {
    const headers = await readHeaders(ctx.io);
    if (E.isLeft(headers)) return headers;
    const heads: AnchorHead[] = [];
    for (const h of headers.right) {
      const checked = await checkHeaderAgainstLog(ctx.io, h.sessionId, h);
      if (E.isLeft(checked)) return checked;
      heads.push({ sessionId: h.sessionId, seq: checked.right.seq, hash: checked.right.hash });
    }
    return E.right(anchorOf(heads));
  });

/** `store.verifyAnchors`: the anchored records the store no longer holds as anchored. */
export const verifyAnchorsOf = (ctx: StoreContext, anchors: readonly Anchor[]): Promise<E.Either<StoreError, AnchorProblem[]>> =>
  guard(ctx, () =>
    checkAnchors<StoreError>(anchors, async (sid, seq) => {
      if (sessionIdProblem(sid) !== undefined) return E.right('no-session');
      const h = await ctx.io.header(sid);
      if (E.isLeft(h)) return h;
      if (h.right === undefined) return E.right('no-session');
      const raw = await ctx.io.get(keys.record(sid, seq));
      if (E.isLeft(raw)) return raw;
      if (raw.right === undefined) return E.right(undefined);
      const r = decodeStoredRecord(sid, seq, raw.right);
      return E.isLeft(r) ? r : E.right(r.right.hash);
    }),
  );

/** Every session header, in id order (a header that does not decode is `CorruptRecord`). */
const readHeaders = async (io: Io): Promise<E.Either<StoreError, SessionHeader[]>> => {
  const out: SessionHeader[] = [];
  for await (const batch of io.scan(prefixRange(keys.headerPrefix))) {
    if (E.isLeft(batch)) return batch;
    for (const [k, v] of batch.right) {
      const h = decodeHeaderOf(k.slice(keys.headerPrefix.length), v);
      if (E.isLeft(h)) return h;
      out.push(h.right);
    }
  }
  return E.right(out);
};

const decodeHeaderOf = (sid: string, raw: string): E.Either<StoreError, SessionHeader> => {
  const p = sessionIdProblem(sid);
  if (p !== undefined) return E.left(corruptRecord(sid, 0, `header key with an invalid session id: ${p}`));
  return decodeHeader(sid, raw);
};

