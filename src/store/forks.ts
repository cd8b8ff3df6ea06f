/**
 * Copy-on-write forks (revisions.md §6): the child's genesis record names the
 * parent record it starts from; the child shares the parent's chunks, and the
 * fork writes one genesis record, its header and the `K/` link in one batch,
 * whatever the parent's length.
 */
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { Session, Clock } from '../session/session.ts';
import type { SessionError } from '../session/errors.ts';
import { isLazyReadFailure } from './chunks.ts';
import { sessionExists, type StoreError } from './errors.ts';
import type { PutOp } from './io.ts';
import { keys } from './layout.ts';
import { forkMemos } from './snapshot.ts';
import type { CacheEntry } from './sessionCache.ts';
import { checkSeqArg, checkSid, guard, isTagged, type StoreContext } from './context.ts';
import { latestEntry, loadSession } from './load.ts';
import { commit, exists } from './write.ts';
import type { StoreForkOptions } from './store.ts';

/**
 * Forks `sessionId` (at `opts.atSeq`, default its head) into `opts.id` (default
 * a random UUID), the child built by `build`. `readsBelow`: the child takes only
 * the parent's messages below this index (`forkAt`, `forkReplacing`), so a
 * parent loaded for it need not re-hash a snapshot tail above it (`loadSession`).
 */
export const forkWith = (
  ctx: StoreContext,
  sessionId: string,
  opts: StoreForkOptions,
  build: (parent: Session, o: { id: string; clock: Clock }) => E.Either<SessionError, Session>,
  readsBelow?: number,
): Promise<E.Either<StoreError, Session>> =>
  guard(ctx, async () => {
    const sid = checkSid(sessionId);
    if (E.isLeft(sid)) return sid;
    const childId = opts.id ?? randomUUID();
    const cid = checkSid(childId);
    if (E.isLeft(cid)) return cid;
    let parent: CacheEntry;
    if (opts.atSeq === undefined) {
      const p = await ctx.writers.run(sid.right, () => latestEntry(ctx, sid.right, readsBelow));
      if (E.isLeft(p)) return p;
      parent = p.right;
    } else {
      const at = checkSeqArg('atSeq', opts.atSeq);
      if (E.isLeft(at)) return at;
      const p = await loadSession(ctx, sid.right, at.right, readsBelow !== undefined ? { readsBelow } : {});
      if (E.isLeft(p)) return p;
      parent = p.right;
    }
    return ctx.writers.run(cid.right, async () => {
      const ex = await exists(ctx, cid.right);
      if (E.isLeft(ex)) return ex;
      if (ex.right) return E.left(sessionExists(cid.right));
      let child: E.Either<SessionError, Session>;
      try {
        child = build(parent.session, { id: cid.right, clock: ctx.clock });
      } catch (e) {
        if (isLazyReadFailure(e)) return E.left(e.error); // forkAt into a lazily loaded prefix whose chunk is corrupt
        if (isTagged(e)) return E.left(e);
        throw e;
      }
      if (E.isLeft(child)) return child;
      const c = child.right;
      const genesis = c.log[0];
      if (genesis === undefined || genesis.command.type !== 'session_forked') throw new Error('fork produced no genesis record');
      const from = genesis.command.from;
      const link: PutOp = { key: keys.fork(sid.right, cid.right), value: JSON.stringify({ seq: from.seq, hash: from.hash, mode: genesis.command.mode }) };
      const w = await commit(ctx, cid.right, { seq: 0, revision: undefined, memos: forkMemos(parent.memos), snapshot: undefined }, c, c.log, [link]);
      if (E.isLeft(w)) return w;
      return E.right(c);
    });
  });

