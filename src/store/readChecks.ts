/**
 * The checks every read path makes before it shows anything (record format
 * v2, "fail closed"): the header against the log's last record, a snapshot
 * against the record at its seq, a range of records against their own hashes
 * and links. Each costs O(1) reads or O(records read), never O(session length).
 * A disagreement is `CorruptRecord { sessionId, seq, reason }` naming what
 * disagreed.
 */
import * as E from 'fp-ts/lib/Either.js';
import { canonicalJsonUnsafe } from '../model/json.ts';
import { recordHash, type LogRecord } from '../session/record.ts';
import { stateDigest } from '../session/stateDigest.ts';
import type { SessionState } from '../session/state.ts';
import { transcriptRevision } from '../transcript/index.ts';
import { corruptRecord, type StoreError } from './errors.ts';
import { decodeStoredRecord, headerOf, type Io, type SessionHeader } from './io.ts';
import { keys } from './layout.ts';

/** The record at `seq` of `sid` (one point read), decoded; `CorruptRecord` with reason `missing` when there is none. */
export const readRecordAt = async (io: Io, sid: string, seq: number, missing: string): Promise<E.Either<StoreError, LogRecord>> => {
  const raw = await io.get(keys.record(sid, seq));
  if (E.isLeft(raw)) return raw;
  if (raw.right === undefined) return E.left(corruptRecord(sid, seq, missing));
  return decodeStoredRecord(sid, seq, raw.right);
};

/**
 * The header of `sid` against its log: the record at `lastSeq` exists, its hash
 * is `lastHash` and its revision `revision`, and the record after it does not
 * exist (unless a write committed meanwhile: the header is then read again).
 * Returns that record. Two point reads (synchronous on LevelDB: no trip through
 * its thread pool, which a range scan for "any key after it" took).
 *
 * Records and the header are written in one batch, so a record after
 * `lastSeq` means the header was moved back. What the probe does not see is a
 * header moved back *and* the record after it deleted: the log then has a gap,
 * which `verify` reports, and from the header's record on nothing chains to
 * what follows the gap; a consistent truncation (every later record deleted)
 * is invisible to any read and is what head anchors catch.
 */
export const checkHeaderAgainstLog = async (io: Io, sid: string, header: SessionHeader): Promise<E.Either<StoreError, LogRecord>> => {
  const last = await readRecordAt(io, sid, header.lastSeq, `the header's last record ${header.lastSeq} is missing`);
  if (E.isLeft(last)) return last;
  if (last.right.hash !== header.lastHash) return E.left(corruptRecord(sid, header.lastSeq, `the header's lastHash ${header.lastHash} is not record ${header.lastSeq}'s hash ${last.right.hash}`));
  if (last.right.revision !== header.revision) {
    return E.left(corruptRecord(sid, header.lastSeq, `the header's revision ${header.revision} is not record ${header.lastSeq}'s revision ${last.right.revision}`));
  }
  const next = await io.get(keys.record(sid, header.lastSeq + 1));
  if (E.isLeft(next)) return next;
  if (next.right !== undefined) {
    // A write may have committed (records and header in one batch) since the header was read.
    const now = await io.header(sid);
    if (E.isLeft(now)) return now;
    if (now.right === undefined || now.right.lastSeq <= header.lastSeq) {
      return E.left(corruptRecord(sid, header.lastSeq, `the header says the last record is ${header.lastSeq}, the log holds record ${header.lastSeq + 1}`));
    }
  }
  return E.right(last.right);
};

/** Whether the header of a session whose newest state is `state` says what `state` says (times, counts, status, lineage, head). */
export const checkHeaderAgainstState = (sid: string, header: SessionHeader, state: SessionState): E.Either<StoreError, void> => {
  const expected = canonicalJsonUnsafe(headerOf(state, header.snapshot));
  const actual = canonicalJsonUnsafe(header);
  return expected === actual ? E.right(undefined) : E.left(corruptRecord(sid, header.lastSeq, `the header ${actual} disagrees with the session state after record ${header.lastSeq} (${expected})`));
};

/**
 * A state read from the snapshot at `seq` against the record at that seq: the
 * record's content hashes to its `hash` (so its revision and state digest are
 * the ones the chain commits to), that hash is the snapshot's head, its revision
 * the snapshot transcript's, and (v2) its state digest the snapshot state's.
 */
export const checkSnapshotAgainstRecord = (sid: string, seq: number, state: SessionState, record: LogRecord | undefined): E.Either<StoreError, void> => {
  if (record === undefined) return E.left(corruptRecord(sid, seq, `the record of the snapshot at ${seq} is missing`));
  const own = checkRecordLink(sid, record, undefined);
  if (E.isLeft(own)) return own;
  if (record.hash !== state.head) return E.left(corruptRecord(sid, seq, `snapshot head ${state.head} is not the hash of record ${seq}`));
  if (record.revision !== transcriptRevision(state.transcript)) return E.left(corruptRecord(sid, seq, `snapshot revision differs from record ${seq}'s revision ${record.revision}`));
  if (record.v === 2) {
    const digest = stateDigest(state);
    if (digest !== record.state) return E.left(corruptRecord(sid, seq, `snapshot state digest ${digest} differs from record ${seq}'s state ${record.state} (metadata, usage, lifecycle, machine states or lineage were changed)`));
  }
  return E.right(undefined);
};

/**
 * Records read in order (`prev` = the hash of the record before, when it was
 * read too): each must hash to its `hash`, link to the previous one, and a v1
 * record may not follow a v2 record. `previous` is the record before the first.
 */
export const checkRecordLink = (sid: string, r: LogRecord, previous: LogRecord | undefined): E.Either<StoreError, void> => {
  const hash = recordHash(r);
  if (hash !== r.hash) return E.left(corruptRecord(sid, r.seq, `record ${r.seq}'s content hashes to ${hash}, not its hash ${r.hash}`));
  if (previous !== undefined) {
    if (r.prev !== previous.hash) return E.left(corruptRecord(sid, r.seq, `record ${r.seq}'s prev ${r.prev} is not record ${previous.seq}'s hash ${previous.hash}`));
    if (r.v < previous.v) return E.left(corruptRecord(sid, r.seq, `record ${r.seq} has format v${r.v} after a v${previous.v} record`));
  }
  return E.right(undefined);
};

/**
 * What a fork link or a header claims about where `sid` came from, against its
 * genesis record (which must hash to its `hash`): `claimed` undefined claims a
 * root session. One read.
 */
export const checkForkAgainstGenesis = async (
  io: Io,
  sid: string,
  claimed: { readonly sessionId: string; readonly seq: number; readonly hash: string; readonly mode: string } | undefined,
  what: string,
): Promise<E.Either<StoreError, void>> => {
  const raw = await io.get(keys.record(sid, 1));
  if (E.isLeft(raw)) return raw;
  if (raw.right === undefined) return E.left(corruptRecord(sid, 1, 'the genesis record is missing'));
  const genesis = decodeStoredRecord(sid, 1, raw.right);
  if (E.isLeft(genesis)) return genesis;
  const own = checkRecordLink(sid, genesis.right, undefined);
  if (E.isLeft(own)) return own;
  const c = genesis.right.command;
  const actual = c.type === 'session_forked' ? { sessionId: c.from.sessionId, seq: c.from.seq, hash: c.from.hash, mode: c.mode } : undefined;
  const same =
    actual === undefined || claimed === undefined
      ? actual === claimed
      : actual.sessionId === claimed.sessionId && actual.seq === claimed.seq && actual.hash === claimed.hash && actual.mode === claimed.mode;
  if (same) return E.right(undefined);
  const show = (x: typeof claimed): string => (x === undefined ? 'a root session' : `a fork of ${x.sessionId}@${x.seq} (${x.hash}, ${x.mode})`);
  return E.left(corruptRecord(sid, 1, `${what} says ${sid} is ${show(claimed)}, its genesis record says ${show(actual)}`));
};
