/**
 * # The store's key layout (README §4)
 *
 * The keys below are the storage port's (`io.ts`) addresses. LevelDB stores
 * them as is (`levelIo.ts`); PostgreSQL maps each namespace onto a table
 * (`postgresSchema.ts`, `postgresIo.ts`) and rebuilds the same keys on reads.
 *
 * One LevelDB database per store directory, opened with the `level` package
 * (classic-level underneath). Keys are UTF-8 strings: a one-character namespace,
 * then `/`-separated parts. No part contains `/` or `\x00` (session ids are
 * validated, see `sessionIdProblem`; digests are `sha256:<hex>`), so the prefix
 * `X/<sid>/` selects exactly one session and a range scan `[X/<sid>/, X/<sid>0)`
 * (`0` is the byte after `/`) reads it in key order. Sequence numbers are written
 * as 12 zero-padded decimal digits, so lexicographic order is numeric order.
 *
 * | key | value |
 * | --- | --- |
 * | `F` | store format `{ "v": 1 }`; checked on open (another `v` is `UnsupportedVersion { what: 'store' }`) |
 * | `S/<sid>` | session header `{ v, sessionId, createdAt, updatedAt, lastSeq, lastHash, revision, messages, status, forkedFrom?, snapshot? }` (JSON; `snapshot` = newest snapshot seq) |
 * | `R/<sid>/<seq12>` | the `LogRecord` of that seq (JSON) |
 * | `N/<sid>/<seq12>` | snapshot of the reduced state after record `seq` (canonical JSON; lists by chunk reference) |
 * | `V/<sid>/<revision>/<seq12>` | revision index: the head became `revision` at record `seq`; value = that record's command type |
 * | `K/<parentSid>/<childSid>` | fork index: `{ seq, hash, mode }` of the child's genesis |
 * | `C/<chunkId>` | a chunk of a persisted list (canonical JSON `{ v: 1, prev?, items }`) or a node of a list's chunk-id index (`{ v: 1, level, ids }`), `chunkId` = `sha256:` of those bytes |
 * | `B/<blobId>` | blob: `UTF-8(mediaType) 0x00 bytes` (binary), so `blobId` = SHA-256 of the value (model.md §7.2) |
 *
 * The revision index has one key per head change instead of one per revision,
 * so an append never reads before it writes; the first key under
 * `V/<sid>/<revision>/` is the first seq that produced `revision`, and the keys
 * valued `transcript_rewritten` give each rewrite commit its seq. The header
 * names only the newest snapshot (older ones are found by a reverse key scan),
 * so its size does not grow with the log (B2).
 *
 * ## Writes
 *
 * Every mutation is ONE `db.batch()`: `create` writes the genesis record, its
 * revision-index key and the header; `append` writes every record of the call,
 * their revision-index keys, the header, and when the call crosses a multiple of
 * `snapshotEvery` a snapshot plus its new chunks; a fork writes one genesis
 * record, its index key, the child's header and the `K/` link — whatever the
 * parent's length (B3). A crash never leaves half an append. Writers of one
 * session are serialized in-process by the store's keyed mutex (one writer
 * lock per session id, `keyedMutex.ts`, which the engine's writes take too
 * through `update`); `expectedSeq` is compared with the cached head inside that lock, so a
 * mismatch (`SeqConflict`) writes nothing and no update is lost. The latest
 * `Session` of recently used sessions stays in an LRU, so an append does not
 * reload. LevelDB's LOCK file keeps a second process out (`StoreLocked`).
 * Batches are written without fsync by default (`sync: false`): a killed
 * process loses nothing it acknowledged, a power loss may lose the last
 * writes; `sync: true` trades throughput for that.
 *
 * One append, step by step: validate the id and `expectedSeq`; enter the
 * session's writer lock; take the cached latest `Session` (or load it once:
 * snapshot + tail); `expectedSeq` ≠ its seq → `SeqConflict`; apply each command
 * once to the in-memory `Session` (`apply`; a refusal returns the `SessionError`, nothing
 * written; inert commands add no record); build the batch (records as JSON,
 * `V/` keys where the head moved, a snapshot and its new chunks when due, the
 * header); write it; cache the new `Session` (its log emptied, so memory does
 * not grow with the log).
 *
 * ## Snapshots and chunks
 *
 * A snapshot never holds the whole transcript inline (that would make disk
 * quadratic). Four lists — messages, transcript digest checkpoints (exported
 * accumulators), revisions, rewrite commits — are persisted as chained chunks of
 * 256 items (aligned with the transcript's digest checkpoints); a snapshot names
 * the last full chunk of each list (`last`), the root of its chunk-id index
 * (`index`, format v2: a tree of fan-out 32 over the chunk ids, `chunkIndex.ts`)
 * and carries the tail (< 256 items) inline. Chunks and index nodes are
 * content-addressed (both under `C/`), so consecutive snapshots and forks share
 * them; a rewrite re-chunks only from the chunk it touched, and a snapshot
 * writes only the index nodes on the right spine. The snapshot core is
 * `{ v, id, version, createdAt, updatedAt, seq, head, usage, forkedFrom?,
 * metadata, user, transcript }` where `metadata` holds every machine state
 * under its reserved key (machines.md §4, all six keys written, initial states
 * included; `palimpsest.transcriptHistory` holds `{ head, revisions, commits }`
 * by chunk reference), `user` is the user metadata as a fifth chunked list
 * (format v3: `[key, value]` members sorted by key, so labels never make a
 * snapshot large; v1 and v2 flattened them into `metadata`) and `transcript`
 * holds the messages by reference plus the exported `head` accumulator and
 * checkpoints, so a cold load appends without re-hashing.
 *
 * ## Reads
 *
 * `load` = the newest snapshot at or below the target seq, then the records
 * after it replayed onto it (`Session.fromState`). A session without a usable
 * snapshot replays from its genesis; a fork's genesis needs the parent's state
 * at `from.seq`, loaded the same way (recursively). Everything read is decoded by
 * its codec; a value that does not decode, a bad hash, a broken chain, a wrong
 * seq or a machine state that fails restore is `CorruptRecord { sessionId, seq }`
 * (fail closed, never defaulted); an unknown record, snapshot or store version is
 * `UnsupportedVersion`.
 *
 * One load, step by step: read and decode the header (`SessionNotFound`);
 * check the target seq (`SeqOutOfRange`; `atRevision` goes through the `V/`
 * index, `RevisionNotFound`); pick the newest snapshot ≤ target; decode it
 * (restoring every machine state, checking the list references' shapes,
 * importing the accumulators); read the records from the
 * snapshot's seq to the target, check that the first one is the snapshot's head,
 * and replay the rest with `Session.fromState`. With no snapshot: read records
 * 1..target, load the fork parent at `from.seq` when the genesis is a fork, and
 * `Session.replay`. The messages, checkpoints and revisions in full chunks are
 * not read by the load: they stay lazy chunk sources read (and hash-checked)
 * when first needed (`snapshot.ts`, "Lazy lists"; `store.ts`, "Lazy loads"), so
 * a cold load costs the snapshot's inline part plus the replay of at most
 * `snapshotEvery - 1` records, whatever the transcript length.
 *
 * ## Verify
 *
 * One sequential pass per session (parents before children, so a child's fork
 * point is the parent's replayed state): decode, seq, prev chain, record hash,
 * replayed revision, every rewrite commit re-validated, every snapshot compared
 * with the state replay produced at its seq (canonical JSON, chunk bytes
 * re-hashed), header, revision index and fork links compared with the replay.
 * Each session is verified inside its writer lock, so concurrent appends never
 * make it see a half-updated session. A problem found is data in the report;
 * only I/O failures are `Left`.
 */

import { isWellFormed } from '../model/decode.ts';

/** The store format this code reads and writes (key `F`). */
export const STORE_FORMAT_VERSION = 1 as const;
/** The session-header format version. */
export const HEADER_VERSION = 1 as const;

const SEQ_DIGITS = 12;
/** The largest seq the key encoding can hold. */
export const MAX_SEQ = 10 ** SEQ_DIGITS - 1;

/** `seq` as 12 zero-padded decimal digits (lexicographic = numeric order). */
export const encodeSeq = (seq: number): string => String(seq).padStart(SEQ_DIGITS, '0');

/** The seq encoded in a key suffix, or `undefined` when it is not 12 digits. */
export const decodeSeq = (s: string): number | undefined => (/^\d{12}$/.test(s) ? Number(s) : undefined);

/** Key builders (see the table above). */
export const keys = {
  format: 'F',
  header: (sid: string): string => `S/${sid}`,
  headerPrefix: 'S/',
  record: (sid: string, seq: number): string => `R/${sid}/${encodeSeq(seq)}`,
  recordPrefix: (sid: string): string => `R/${sid}/`,
  snapshot: (sid: string, seq: number): string => `N/${sid}/${encodeSeq(seq)}`,
  snapshotPrefix: (sid: string): string => `N/${sid}/`,
  revision: (sid: string, revision: string, seq: number): string => `V/${sid}/${revision}/${encodeSeq(seq)}`,
  revisionPrefix: (sid: string, revision?: string): string => (revision === undefined ? `V/${sid}/` : `V/${sid}/${revision}/`),
  fork: (parent: string, child: string): string => `K/${parent}/${child}`,
  forkPrefix: (parent: string): string => `K/${parent}/`,
  chunk: (id: string): string => `C/${id}`,
  blob: (id: string): string => `B/${id}`,
} as const;

/** `{ gte, lt }` selecting every key that starts with `prefix` (which ends in `/`). */
export const prefixRange = (prefix: string): { readonly gte: string; readonly lt: string } => ({
  gte: prefix,
  lt: prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1),
});

/** Longest session id accepted (UTF-16 code units). */
export const MAX_SESSION_ID_LENGTH = 200;

/**
 * Why `sid` cannot be a session id, or `undefined` when it can: a non-empty,
 * well-formed string of at most 200 characters, without `/`, and printable
 * (no C0/C1 control characters, no U+2028/U+2029).
 */
export const sessionIdProblem = (sid: unknown): string | undefined => {
  if (typeof sid !== 'string') return 'a session id must be a string';
  if (sid.length === 0) return 'a session id must not be empty';
  if (sid.length > MAX_SESSION_ID_LENGTH) return `a session id must have at most ${MAX_SESSION_ID_LENGTH} characters`;
  if (sid.includes('/')) return 'a session id must not contain "/"';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(sid)) return 'a session id must be printable (no control characters)';
  if (!isWellFormed(sid)) return 'a session id must be well-formed Unicode (no lone surrogates)';
  return undefined;
};
