/**
 * Folding a log into a state, and checking a log (README §2, "verify").
 *
 * `reduce(state, record)` applies one stored record: it checks the record links
 * to `state` (same session, next seq, `prev` = the state's head, `hash` right),
 * applies the command, and compares the recomputed transcript revision with the
 * stored one (`ReplayDivergence` when they differ: fail closed, never repaired),
 * and for a v2 record the state digest too (`BrokenLog`).
 * A stored command that turns out inert is also a broken log: the shell never
 * records one.
 */
import * as E from 'fp-ts/lib/Either.js';
import { transcriptRevision } from '../transcript/index.ts';
import { brokenLog, type ReplayDivergence, type SessionError } from './errors.ts';
import { GENESIS_PREV, recordHash, type LogRecord } from './record.ts';
import { changesMetadata, metadataDraft, metadataSealed } from './metadata.ts';
import { applyAt } from './reduce.ts';
import { blankState, type SessionState } from './state.ts';
import { stateDigest } from './stateDigest.ts';

/** Applies one stored record to `state`; `parent` is the parent's state at the fork point (fork genesis only). */
export const reduce = (state: SessionState, record: LogRecord, parent?: SessionState): E.Either<SessionError, SessionState> => {
  if (record.sessionId !== state.id) return E.left(brokenLog(state.id, record.seq, `record belongs to session ${record.sessionId}`));
  if (record.seq !== state.seq + 1) return E.left(brokenLog(state.id, record.seq, `expected seq ${state.seq + 1}`));
  const expectedPrev = record.seq === 1 ? (record.command.type === 'session_forked' ? record.command.from.hash : GENESIS_PREV) : state.head;
  if (record.prev !== expectedPrev) return E.left(brokenLog(state.id, record.seq, `prev ${record.prev} does not link to ${expectedPrev}`));
  // The command is applied before the hash is computed, so that the messages it adds are
  // frozen and serialized once: the record's canonical JSON then reuses their text. A bad
  // hash is still reported first, whatever the reducer says.
  const r = applyAt(state, record.command, { sessionId: record.sessionId, seq: record.seq, at: record.at }, parent);
  const hash = recordHash(record);
  if (hash !== record.hash) return E.left(brokenLog(state.id, record.seq, `hash ${record.hash} does not match the record's content (${hash})`));
  if (E.isLeft(r)) return r;
  if (r.right.state === state) return E.left(brokenLog(state.id, record.seq, `${record.command.type} is inert here and should never have been recorded`));
  const revision = transcriptRevision(r.right.state.transcript);
  if (revision !== record.revision) {
    const divergence: ReplayDivergence = {
      _tag: 'ReplayDivergence',
      sessionId: state.id,
      seq: record.seq,
      expected: record.revision,
      actual: revision,
      message: `replaying ${state.id}@${record.seq} gives revision ${revision}, the log says ${record.revision}`,
    };
    return E.left(divergence);
  }
  if (record.v === 2) {
    const digest = stateDigest(r.right.state);
    if (digest !== record.state) return E.left(brokenLog(state.id, record.seq, `replaying gives state digest ${digest}, the record says ${record.state}`));
  }
  return E.right({ ...r.right.state, head: record.hash });
};

/**
 * Folds `records` onto `base` (default: a blank state for the first record's
 * session). `parent` is needed when the first record is a fork genesis.
 * Only the final state leaves, so from the first record that changes the
 * metadata on, the fold works on one draft copy of it (`metadataDraft`,
 * changed in place, sealed before it returns) instead of a copy per record:
 * a tail of 1,000 pi label records on 5,000 keys copied 5 M members per
 * load. `base` is never changed; the state returned is the one a fold with a
 * copy per record gives (tested).
 */
export const replayRecords = (
  records: Iterable<LogRecord>,
  opts: { readonly base?: SessionState; readonly parent?: SessionState } = {},
): E.Either<SessionError, SessionState | undefined> => {
  let state = opts.base;
  let drafted = false;
  for (const record of records) {
    state ??= blankState(record.sessionId);
    if (!drafted && changesMetadata(record.command.type)) {
      state = { ...state, metadata: metadataDraft(state.metadata) };
      drafted = true;
    }
    const r = reduce(state, record, record.seq === 1 ? opts.parent : undefined);
    if (E.isLeft(r)) return r;
    state = r.right;
  }
  if (state !== undefined && drafted) metadataSealed(state.metadata);
  return E.right(state);
};
