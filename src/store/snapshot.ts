/**
 * State ⇄ snapshot conversion (see `layout.ts`, "Snapshots and chunks").
 *
 * Stored snapshot (canonical JSON, key `N/<sid>/<seq12>`):
 *
 *     {
 *       v: 3, id, version: 1, createdAt, updatedAt, seq, head, usage, forkedFrom?: { from, mode },
 *       metadata: {                          // the machine states, each under its reserved key (machines.md §4)
 *         "palimpsest.deferredTurn": DeferredTurnState, "palimpsest.systemContext": …,
 *         "palimpsest.toolVisibility": …, "palimpsest.realtime": …, "palimpsest.lifecycle": …,
 *         "palimpsest.transcriptHistory": { head: Revision, revisions: ListRef<Revision>, commits: ListRef<Commit> }
 *       },
 *       user: ListRef<[key, value]>,         // the user metadata, members sorted by key
 *       transcript: { messages: ListRef<Message>, head: ExportedAccumulator, checkpoints: ListRef<ExportedAccumulator> }
 *     }
 *
 * Format v3 keeps the user metadata (labels among it) as a chunked list of
 * `[key, value]` members sorted by key (UTF-16 code units, as RFC 8785 sorts
 * members), like the other lists: a snapshot holds at most 255 members inline
 * and names the chunks of the rest, so its size no longer grows with the
 * metadata (a 20,000-label import wrote twenty snapshots of ~3 MB each, whose
 * copies through LevelDB were most of its peak memory: bench/RESULTS.md, "I3").
 * v1 and v2 (read, and re-encoded by `verify` for a stored snapshot of that
 * format) flatten the user members into `metadata`, next to the reserved
 * ones. v2 and v3 give every `ListRef` with a full chunk an `index` root
 * (`chunkIndex.ts`); v1 has none, and its lazy reads walk the chain.
 * Every reserved key is written, initial states included. On read (fail closed):
 * a missing reserved key, an unknown `palimpsest.` key, a value that does not
 * decode, a machine state that fails its restore validation, a list reference
 * whose tail does not fit its count, or parts that disagree (counts, checkpoint
 * positions, head revision vs accumulator vs the last revision) are
 * `CorruptRecord` naming the session and the snapshot's seq; another `v` is
 * `UnsupportedVersion`. Nothing is defaulted.
 *
 * ## Lazy lists (cold load cost independent of the transcript length)
 *
 * `decodeSnapshot` reads no chunk of the messages, checkpoints, revisions and
 * rewrite commits lists: each becomes a persistent vector whose full chunks are lazy segments
 * (`vecFromLazy`) read through `lazyChunks` (synchronous LevelDB reads) the first
 * time a leaf is needed, then hashed against the chunk id, parsed, decoded,
 * prepared (messages deep-frozen, checkpoints imported and checked against their
 * position, revisions checked for consecutive repeats, commits decoded and
 * checked to change the revision) and kept. The inline
 * tails of messages and checkpoints are lazy too, 32 items at a time (decoded by
 * `MessageCodec`, imported as accumulators), except the last 1..32 (the vector's
 * tail), decoded at once; the snapshot's codec checks only that each is a JSON
 * object. The revision is the exported head accumulator's (no
 * re-hashing); the inline messages after the last checkpoint are checked against
 * the head accumulator by `checkSnapshotTail`, which the load calls (unless the
 * caller reads only messages below them, a fork). When a list's inline tail is empty its last chunk is read at load
 * (the last item is always materialized: appends need it). The rewrite commits
 * were read eagerly before (one per rewrite: a long imported session reloaded
 * thousands of them at every load). What a load therefore checks at once is the
 * snapshot itself, the tails, and the history invariants that need no chunk
 * (`checkHistoryState` in full when every revision is inline, and then every
 * commit is inline too; otherwise fewer commits than revisions); a missing or
 * corrupt chunk is thrown as `LazyReadFailure(CorruptRecord { sessionId, seq })`
 * when first read, which the store's functions return as `Left` (see
 * `store.ts`, "Lazy loads"). `verify` never uses this path: it replays the log and
 * compares every snapshot and chunk byte for byte.
 *
 * Chunk reuse keys (`chunks.ts`): chunk `i` of every list is keyed by
 * `vecLeafKey(list, 256 * (i + 1) - 1)`, the identity of the vector leaf holding
 * its last item: a vector keeps a leaf object only while every item at or below
 * it is unchanged (appends, `vecTake`, `takeTranscript` and `replaceSpan` share
 * leaves exactly below the first changed item), and the key reads nothing, so a
 * lazily loaded list is never materialized to decide what to reuse.
 */
import * as E from 'fp-ts/lib/Either.js';
import { arrayOf, codec, decodeWith, fail as failAt, identityCodec, isPlainObject, literal, nat, nonEmptyStr, positive, recordOf, refine, str, strict, type Codec } from '../model/decode.ts';
import { JsonCodec, canonicalJsonUnsafe, type Json } from '../model/json.ts';
import { MessageCodec, type Message } from '../model/message.ts';
import { DigestCodec, type Digest } from '../model/scalars.ts';
import { UsageCodec } from '../model/usage.ts';
import { ExportedAccumulatorCodec, accumulatorDigest, appendMessages, exportAccumulator, importAccumulator, type DigestAccumulator, type ExportedAccumulator } from '../model/accumulator.ts';
import {
  TranscriptRewriteCommitCodec,
  checkHistoryState,
  transcriptFromParts,
  vecIter,
  vecFromLazy,
  vecLast,
  vecLeafKey,
  vecSize,
  vecSlice,
  vecToArray,
  type LazyRun,
  type PVec,
  type TranscriptRewriteCommit,
} from '../transcript/index.ts';
import { machineList, restoreMachineStates } from '../machines/registry.ts';
import { ForkModeCodec, ForkPointCodec } from '../session/commands.ts';
import { RESERVED_KEYS, hasKey, isReservedKey, metadataFrom } from '../session/metadata.ts';
import { metadataMemberText } from '../session/metadataDigest.ts';
import { SESSION_VERSION, type SessionState } from '../session/state.ts';
import {
  CHUNK_SIZE,
  LEAF_SIZE,
  LazyReadFailure,
  emptyListMemo,
  encodeList,
  isLazyReadFailure,
  lazyChunks,
  listRefCodec,
  refShapeProblem,
  type ChunkId,
  type EncodedList,
  type LazyChunks,
  type ListMemo,
  type ListRef,
  type StoredChunk,
  type SyncChunkReader,
} from './chunks.ts';
import { corruptRecord, unsupportedVersion, type StoreError } from './errors.ts';

/**
 * The snapshot format this code writes: v3 = v2 with the user metadata as a
 * chunked list (`user`) instead of members of `metadata`; v2 = v1 plus each
 * list reference's chunk-id index root (`index`).
 */
export const SNAPSHOT_VERSION = 3 as const;
/** Snapshot formats this code reads: v1 (no index: lazy reads walk the chunk chain), v2 and v3. */
export const READABLE_SNAPSHOT_VERSIONS: readonly number[] = [1, 2, 3];
/** A snapshot format version this code reads. */
export type SnapshotVersion = 1 | 2 | 3;

const SnapshotVersionCodec = refine(nat, 'SnapshotVersion', (v) => (READABLE_SNAPSHOT_VERSIONS.includes(v) ? undefined : `expected one of ${READABLE_SNAPSHOT_VERSIONS.join(', ')}, found ${v}`));

/**
 * What one session's snapshots wrote before, so the next one rebuilds only what
 * changed: the chunk memos of the four persisted lists (see `chunks.ts`), the
 * members of its user metadata list (`UserMetadataMemo`, format v3), and the
 * text of its user metadata members (`MetadataMemo`, formats v1 and v2, which
 * hold them inline); the last two are absent until known.
 */
export interface SnapshotMemos {
  readonly messages: ListMemo;
  readonly checkpoints: ListMemo;
  readonly revisions: ListMemo;
  readonly commits: ListMemo;
  readonly user?: UserMetadataMemo;
  readonly metadata?: MetadataMemo;
}

/**
 * The user metadata list a session's last snapshot wrote or read (format v3):
 * its keys and values in list order, and the chunk memo whose reuse key of
 * chunk `i` is a token kept while the 256 members of that chunk are the same
 * keys with the same values (`===`: metadata values are deep-frozen when
 * set, `metadata.ts`). Immutable.
 */
export interface UserMetadataMemo {
  readonly keys: readonly string[];
  readonly values: readonly Json[];
  readonly list: ListMemo;
}

/**
 * For formats v1 and v2 (which `verify` re-encodes for stored snapshots of
 * those formats), which hold the user metadata inline: the canonical text of
 * each user metadata member a session's snapshot wrote
 * (`"key":value`, RFC 8785), by key, with the value it was written from. A
 * member whose value is still the same frozen object (metadata values are
 * deep-frozen when set: `metadata.ts`), or an equal primitive, reuses its text,
 * so a snapshot serializes only the members set since the one before.
 * Without it, each snapshot of a session holding many members serialized
 * them all again: with 25,000 labels, ~11 MB of short-lived text per
 * snapshot, promoted to V8's old generation (bench/RESULTS.md, "I2").
 * Changed in place by `encodeSnapshot` (it only adds or replaces texts of the
 * state's current members and drops those of members gone), which keeps it
 * right for every holder: a text is looked up by key and value identity.
 */
export interface MetadataMemo {
  readonly members: Map<string, MemberText>;
}

/** A metadata member's canonical text (`"key":value`) and the value it was written from. */
interface MemberText {
  readonly value: Json;
  readonly text: string;
}

/** Memos with no known chunks. */
export const emptyMemos: SnapshotMemos = Object.freeze({ messages: emptyListMemo, checkpoints: emptyListMemo, revisions: emptyListMemo, commits: emptyListMemo });

/**
 * The memos a fork child starts with: the parent's message and checkpoint memos
 * (the child's transcript shares the parent's objects, so matching chunks are
 * reused by key identity), and empty revision and commit memos (fresh history).
 */
export const forkMemos = (parent: SnapshotMemos): SnapshotMemos => ({ ...emptyMemos, messages: parent.messages, checkpoints: parent.checkpoints });

/**
 * An inline item decoded later, by its own codec, when the 32 it belongs to are
 * first read (the inline messages and checkpoints: see "Lazy lists"): here only
 * "a JSON object".
 */
const LaterItem: Codec<Record<string, unknown>> = identityCodec('JsonObject', (u, c) => failAt(u, c, 'wrong_type', 'object'), isPlainObject);
const ListRefOfMessages = listRefCodec('Messages', LaterItem);
const ListRefOfAccumulators = listRefCodec('Checkpoints', LaterItem);
const MessageItems = arrayOf(MessageCodec, { name: 'messages' });
const ListRefOfRevisions = listRefCodec('Revisions', DigestCodec);
const ListRefOfCommits = listRefCodec('Commits', TranscriptRewriteCommitCodec);

/** A member of a v3 snapshot's user metadata list: `[key, value]`, the key a well-formed string, the value JSON. */
const MemberCodec: Codec<Member> = codec('UserMetadataMember', (u, c) => {
  if (!Array.isArray(u) || u.length !== 2) return failAt(u, c, 'wrong_type', '[key, value]');
  const k = str.validate(u[0], c);
  if (E.isLeft(k)) return k;
  const v = JsonCodec.validate(u[1], c);
  return E.isLeft(v) ? v : E.right(u as unknown as Member);
});
const ListRefOfMembers = listRefCodec('UserMetadata', MemberCodec);

/** The value under `palimpsest.transcriptHistory` in a snapshot. */
export const SnapshotHistoryCodec = strict('SnapshotTranscriptHistory', { head: DigestCodec, revisions: ListRefOfRevisions, commits: ListRefOfCommits });

/** The `transcript` part of a snapshot. */
export const SnapshotTranscriptCodec = strict('SnapshotTranscript', { messages: ListRefOfMessages, head: ExportedAccumulatorCodec, checkpoints: ListRefOfAccumulators });

/** The stored snapshot (strict; machine states are decoded by their own restore functions). */
export const SnapshotCodec = strict(
  'Snapshot',
  {
    v: SnapshotVersionCodec,
    id: nonEmptyStr,
    version: literal(SESSION_VERSION),
    createdAt: nat,
    updatedAt: nat,
    seq: positive,
    head: DigestCodec,
    usage: UsageCodec,
    metadata: recordOf(JsonCodec, 'SnapshotMetadata'),
    transcript: SnapshotTranscriptCodec,
  },
  { forkedFrom: strict('ForkOrigin', { from: ForkPointCodec, mode: ForkModeCodec }), user: ListRefOfMembers },
);

/** A snapshot ready to write: its value, the chunks it needs that the memos did not know, and the memos afterwards. */
export interface EncodedSnapshot {
  readonly value: string;
  readonly chunks: readonly StoredChunk[];
  readonly memos: SnapshotMemos;
}

const pvecSlice =
  <T>(v: PVec<T>) =>
  (start: number, end: number): readonly T[] =>
    vecSlice(v, start, end);

/** The reuse key of chunk `i` of a list held in `v` (module docstring). Reads no item. */
const chunkKey =
  <T>(v: PVec<T>) =>
  (i: number): unknown =>
    vecLeafKey(v, (i + 1) * CHUNK_SIZE - 1);

/**
 * Encodes `state` as a snapshot of format `version` (default `SNAPSHOT_VERSION`;
 * `verify` re-encodes a stored v1 snapshot as v1). Lists are chunked against
 * `memos`: only chunks whose key changed are built (and hashed), and in v2 only
 * the index nodes over them (the right spine after appends). O(new chunks +
 * tails + machine states + index depth); the whole transcript is never
 * serialized again, and a lazily loaded list is read only where a chunk is
 * rebuilt (a rewrite below it) or the tail falls inside it (plus, the first time
 * a v2 snapshot follows a v1 load, every chunk id, to build the index once).
 */
export const encodeSnapshot = (state: SessionState, memos: SnapshotMemos, version: SnapshotVersion = SNAPSHOT_VERSION): EncodedSnapshot => {
  const t = state.transcript;
  const indexed = version >= 2;
  const messages = encodeList<Message>(vecSize(t.messages), pvecSlice(t.messages), chunkKey(t.messages), memos.messages, indexed);
  const checkpoints = encodeList<ExportedAccumulator>(
    vecSize(t.checkpoints),
    (start, end) => vecSlice(t.checkpoints, start, end).map(exportAccumulator),
    chunkKey(t.checkpoints),
    memos.checkpoints,
    indexed,
  );
  const revisions = encodeList<Digest>(vecSize(state.revisions), pvecSlice(state.revisions), chunkKey(state.revisions), memos.revisions, indexed);
  const commits = encodeList<TranscriptRewriteCommit>(vecSize(state.commits), pvecSlice(state.commits), chunkKey(state.commits), memos.commits, indexed);

  const reserved = new Map<string, string>();
  for (const m of machineList) reserved.set(m.reservedKey, metadataMemberText(m.reservedKey, state[m.name]));
  const history = { head: accumulatorDigest(t.head), revisions: revisions.ref, commits: commits.ref };
  reserved.set(RESERVED_KEYS.transcriptHistory, metadataMemberText(RESERVED_KEYS.transcriptHistory, history));
  const user = version >= 3 ? encodeUserMetadata(state.metadata, memos.user) : undefined;
  const metadataMemo = memos.metadata ?? { members: new Map<string, MemberText>() };
  const metadata = user === undefined ? metadataText(state.metadata, reserved, metadataMemo) : metadataText(NO_MEMBERS, reserved, undefined);

  // The snapshot's canonical JSON: its members sorted by key, `metadata` (already text) between those below and above it.
  const below = {
    createdAt: state.createdAt,
    ...(state.forkedFrom !== undefined ? { forkedFrom: { from: state.forkedFrom.from, mode: state.forkedFrom.mode } } : {}),
    head: state.head,
    id: state.id,
  };
  const above = {
    seq: state.seq,
    transcript: { messages: messages.ref, head: exportAccumulator(t.head), checkpoints: checkpoints.ref },
    updatedAt: state.updatedAt,
    usage: state.usage,
    ...(user !== undefined ? { user: user.encoded.ref } : {}),
    v: version,
    version: state.version,
  };
  const userMemos = user !== undefined ? { user: user.memo } : { metadata: metadataMemo };
  return {
    value: `${canonicalJsonUnsafe(below).slice(0, -1)},"metadata":${metadata},${canonicalJsonUnsafe(above).slice(1)}`,
    chunks: [...messages.chunks, ...checkpoints.chunks, ...revisions.chunks, ...commits.chunks, ...(user?.encoded.chunks ?? [])],
    memos: { messages: messages.memo, checkpoints: checkpoints.memo, revisions: revisions.memo, commits: commits.memo, ...userMemos },
  };
};

const NO_MEMBERS: Readonly<Record<string, Json>> = Object.freeze({});

/** A user metadata member as a v3 snapshot's `user` list holds it. */
type Member = readonly [key: string, value: Json];

/** Whether a metadata value cannot change under a memo that holds it: a primitive or a frozen object (metadata values are frozen when set). */
const isStable = (v: Json): boolean => typeof v !== 'object' || v === null || Object.isFrozen(v);

/**
 * Chunks the user metadata (format v3): its members sorted by key, in chunks
 * of 256 with the chunk-id index (`encodeList`). Chunk `i` is reused while
 * its members are those of `memo` (same keys, `===` values, every value
 * stable), so a snapshot after n labels set in name order builds only the
 * chunks from the first new member on. O(members) comparisons + the rebuilt
 * chunks.
 */
const encodeUserMetadata = (metadata: Readonly<Record<string, Json>>, memo: UserMetadataMemo | undefined): { readonly encoded: EncodedList<Member>; readonly memo: UserMetadataMemo } => {
  const keys = Object.keys(metadata).sort();
  const values = keys.map((k) => metadata[k] as Json);
  const before = memo ?? { keys: [], values: [], list: emptyListMemo };
  const sameChunk = (i: number): boolean => {
    const end = (i + 1) * CHUNK_SIZE;
    if (end > before.keys.length) return false;
    for (let j = i * CHUNK_SIZE; j < end; j++) if (keys[j] !== before.keys[j] || values[j] !== before.values[j] || !isStable(values[j]!)) return false;
    return true;
  };
  // A token per chunk: the memo's while the chunk is unchanged, else a new one (never `===` another).
  const tokenOf = (i: number): unknown => {
    const token = before.list.keys[i];
    return token !== undefined && sameChunk(i) ? token : {};
  };
  const members = (start: number, end: number): readonly Member[] => keys.slice(start, end).map((k, j) => [k, values[start + j]!] as const);
  const encoded = encodeList<Member>(keys.length, members, tokenOf, before.list, true);
  return { encoded, memo: { keys, values, list: encoded.memo } };
};

/**
 * The canonical JSON of a snapshot's flattened `metadata` (module docstring):
 * the user members of `user` and the reserved members (`reserved`: key →
 * the member's text, `metadataMemberText`), sorted by key (UTF-16 code units, RFC 8785).
 * A user member's text comes from `memo` when its value is the one it was
 * written from, and is put there otherwise (`MetadataMemo`); texts of members
 * no longer in `user` are dropped. One flat string (joined, not concatenated
 * member by member). Throws, as `canonicalJsonUnsafe` does, on a value that is
 * not JSON.
 */
const metadataText = (user: Readonly<Record<string, Json>>, reserved: ReadonlyMap<string, string>, memo: MetadataMemo | undefined): string => {
  const userKeys = Object.keys(user);
  const keys = userKeys.concat([...reserved.keys()]).sort();
  const members = memo?.members ?? new Map<string, MemberText>();
  const parts = new Array<string>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const r = reserved.get(k); // user metadata never holds a reserved key
    if (r !== undefined) {
      parts[i] = r;
      continue;
    }
    const v = user[k] as Json;
    const known = members.get(k);
    if (known !== undefined && known.value === v) {
      parts[i] = known.text;
      continue;
    }
    const text = metadataMemberText(k, v);
    // Only a value that cannot change under the memo is remembered (metadata values are frozen when set).
    if (isStable(v)) members.set(k, { value: v, text });
    else members.delete(k);
    parts[i] = text;
  }
  if (members.size > userKeys.length) for (const k of members.keys()) if (!hasKey(user, k)) members.delete(k);
  return `{${parts.join(',')}}`;
};

/** A decoded snapshot: the state and the memos of its lists (for the next snapshot). */
export interface DecodedSnapshot {
  readonly state: SessionState;
  readonly memos: SnapshotMemos;
}

/** Every reserved key a snapshot holds: each registered machine's, then the transcript history. */
const machineKeys: readonly string[] = Object.values(RESERVED_KEYS);
const knownReserved = new Set<string>(machineKeys);

/**
 * The `last` chunk ids and `index` roots a stored snapshot names (messages,
 * checkpoints, revisions, commits, and in v3 the user metadata): where the chains and index trees a lazy load
 * may read start (an index root is a chunk with no `prev`). Lenient:
 * a value that is not a snapshot gives what it can (`decodeSnapshot` reports it).
 */
export const snapshotChunkRoots = (raw: string): ChunkId[] => {
  const p = parseSnapshot(raw);
  return E.isLeft(p) ? [] : chunkRootsOf(p.right);
};

/** `snapshotChunkRoots` of a stored snapshot already parsed (`parseSnapshot`). */
export const chunkRootsOf = (s: unknown): ChunkId[] => {
  const at = (v: unknown, ...path: string[]): unknown => path.reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined), v);
  const history = at(s, 'metadata', RESERVED_KEYS.transcriptHistory);
  const refs = [at(s, 'transcript', 'messages'), at(s, 'transcript', 'checkpoints'), at(history, 'revisions'), at(history, 'commits'), at(s, 'user')];
  return refs.flatMap((r) => [at(r, 'last'), at(r, 'index')]).filter((r): r is ChunkId => typeof r === 'string');
};

/** The stored JSON of a snapshot parsed (once: the chunk roots and the decoder both read the result), or why it is not JSON. */
export const parseSnapshot = (raw: string): E.Either<string, unknown> => {
  try {
    return E.right(JSON.parse(raw) as unknown);
  } catch (e) {
    return E.left(`not JSON (${(e as Error).message})`);
  }
};

/**
 * Decodes a stored snapshot of `sessionId` at `seq` (`raw` is the stored JSON, or
 * `{ parsed }`: what `parseSnapshot` made of it).
 * The messages, checkpoints, revisions and rewrite commits lists are read
 * lazily through `readChunk` (module docstring). See the module docstring for
 * every check. Errors: `UnsupportedVersion { what: 'snapshot' }`,
 * `CorruptRecord { sessionId, seq }`, or the storage error a read returned
 * (a list whose inline tail is empty reads its last chunk here).
 */
export const decodeSnapshot = async (
  raw: string | { readonly parsed: unknown },
  sessionId: string,
  seq: number,
  readChunk: SyncChunkReader,
): Promise<E.Either<StoreError, DecodedSnapshot>> => {
  const corrupt = (reason: string) => E.left(corruptRecord(sessionId, seq, `snapshot: ${reason}`));
  const p = typeof raw === 'string' ? parseSnapshot(raw) : E.right(raw.parsed);
  if (E.isLeft(p)) return corrupt(p.left);
  const parsed = p.right;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return corrupt('not an object');
  const v = (parsed as { v?: unknown }).v;
  if (typeof v !== 'number' || !READABLE_SNAPSHOT_VERSIONS.includes(v)) return E.left(unsupportedVersion('snapshot', v, SNAPSHOT_VERSION, { sessionId, seq }));
  const d = decodeWith(SnapshotCodec, parsed);
  if (E.isLeft(d)) return corrupt(d.left.message);
  const s = d.right;
  if (s.id !== sessionId) return corrupt(`belongs to session ${s.id}`);
  if (s.seq !== seq) return corrupt(`is stored under seq ${seq} but says seq ${s.seq}`);

  // Split the flattened map: user metadata (v1, v2; v3 keeps it in its `user` list), and every machine under its reserved key (fail closed).
  if ((s.user !== undefined) !== s.v >= 3) return corrupt(s.v >= 3 ? 'a v3 snapshot has no user metadata list' : `a v${s.v} snapshot has a user metadata list`);
  const user = Object.create(null) as Record<string, Json>;
  const reserved = new Map<string, unknown>();
  for (const k of Object.keys(s.metadata)) {
    if (!isReservedKey(k)) {
      if (s.v >= 3) return corrupt(`metadata holds the user key ${JSON.stringify(k)}, which a v3 snapshot keeps in its user list`);
      user[k] = s.metadata[k] as Json;
      continue;
    }
    if (!knownReserved.has(k)) return corrupt(`unknown reserved metadata key ${JSON.stringify(k)}`);
    reserved.set(k, s.metadata[k]);
  }
  for (const k of machineKeys) if (!reserved.has(k)) return corrupt(`missing reserved metadata key ${JSON.stringify(k)}`);
  const machineStates = restoreMachineStates((key) => reserved.get(key));
  if (E.isLeft(machineStates)) {
    const { key, error: e } = machineStates.left;
    return corrupt(`${key}: ${e._tag} (${e.machine}): ${e.reason}`);
  }
  const history = decodeWith(SnapshotHistoryCodec, reserved.get(RESERVED_KEYS.transcriptHistory));
  if (E.isLeft(history)) return corrupt(`${RESERVED_KEYS.transcriptHistory}: ${history.left.message}`);

  const refs = { messages: s.transcript.messages, checkpoints: s.transcript.checkpoints, revisions: history.right.revisions, commits: history.right.commits };
  for (const [name, ref] of Object.entries(refs)) {
    const problem = refShapeProblem(ref) ?? indexProblem(s.v, ref);
    if (problem !== undefined) return corrupt(`${name}: ${problem}`);
  }

  // Fewer commits than revisions (each commit adds its revision): checked on the counts, no chunk read.
  if (refs.commits.count >= refs.revisions.count) return corrupt(`${RESERVED_KEYS.transcriptHistory}: ${refs.commits.count} commits need more than ${refs.revisions.count} revisions`);

  // Accumulators: imported, never re-hashed; their positions must fit the list.
  const n = refs.messages.count;
  const head = importAccumulator(s.transcript.head);
  if (E.isLeft(head)) return corrupt(`transcript head accumulator: ${head.left.message}`);
  if (head.right.count !== n) return corrupt(`the head accumulator absorbed ${head.right.count} messages, the transcript has ${n}`);
  const expectedCps = Math.floor(n / CHUNK_SIZE) + 1;
  if (refs.checkpoints.count !== expectedCps) return corrupt(`${refs.checkpoints.count} digest checkpoints for ${n} messages, ${expectedCps} expected`);
  const importCheckpoint = (x: unknown, i: number): E.Either<string, DigestAccumulator> => {
    const a = importAccumulator(x);
    if (E.isLeft(a)) return E.left(`checkpoint ${i}: ${a.left.message}`);
    if (a.right.count !== i * CHUNK_SIZE) return E.left(`checkpoint ${i} absorbed ${a.right.count} messages, ${i * CHUNK_SIZE} expected`);
    return a;
  };
  // The inline checkpoints are imported lazily too, 32 at a time, except the last 1..32 (the vector's tail).
  const cpInline = refs.checkpoints.tail;
  const cpBase = refs.checkpoints.count - cpInline.length;
  const cpLazyInline = lazyInlineCount(cpInline.length);
  const importInline = (from: number, to: number): E.Either<string, DigestAccumulator[]> => {
    const out: DigestAccumulator[] = [];
    for (let j = from; j < to; j++) {
      const a = importCheckpoint(cpInline[j]!, cpBase + j);
      if (E.isLeft(a)) return a;
      out.push(a.right);
    }
    return E.right(out);
  };
  const cpTail = importInline(cpLazyInline, cpInline.length);
  if (E.isLeft(cpTail)) return corrupt(cpTail.left);
  const revision = accumulatorDigest(head.right);
  if (revision !== history.right.head) return corrupt(`the transcript accumulator gives revision ${revision}, the history head is ${history.right.head}`);

  // The lazily read lists.
  const fail = (reason: string): LazyReadFailure => new LazyReadFailure(corruptRecord(sessionId, seq, `snapshot: ${reason}`));
  // The user metadata list (v3): read whole now, the state holds the metadata as one object.
  let userMemo: UserMetadataMemo | undefined;
  if (s.user !== undefined) {
    const members = readUserMetadata(s.v, s.user, readChunk, fail);
    if (E.isLeft(members)) return typeof members.left === 'string' ? corrupt(members.left) : E.left(members.left);
    for (const [k, v] of members.right.members) user[k] = v;
    userMemo = members.right.memo;
  }
  const selfCommit = (c: TranscriptRewriteCommit): boolean => c.parentRevision === c.revision;
  // Rewrite commits: the inline tail decoded (by the snapshot's codec) now, the full chunks when first read, each commit checked.
  const commitChunks = lazyChunks({
    name: 'commits',
    ref: refs.commits,
    items: { codec: TranscriptRewriteCommitCodec },
    read: readChunk,
    fail,
    prepare: (items: TranscriptRewriteCommit[], first: number) => {
      for (let j = 0; j < items.length; j++) if (selfCommit(items[j]!)) return E.left(`commit ${first + j} has parentRevision equal to revision`);
      return E.right(items);
    },
  });
  const messageChunks = lazyChunks({
    name: 'messages',
    ref: refs.messages,
    items: 'id',
    read: readChunk,
    fail,
    prepare: (items: Message[]) => {
      for (const m of items) freezeParsed(m);
      return E.right(items);
    },
  });
  const checkpointChunks = lazyChunks({
    name: 'checkpoints',
    ref: refs.checkpoints,
    items: 'id', // each is decoded by `importCheckpoint` (`importAccumulator` runs the codec)
    read: readChunk,
    fail,
    prepare: (items: unknown[], first: number) => {
      const out: DigestAccumulator[] = [];
      for (let j = 0; j < items.length; j++) {
        const a = importCheckpoint(items[j]!, first + j);
        if (E.isLeft(a)) return a;
        out.push(a.right);
      }
      return E.right(out);
    },
  });
  const revisionChunks = lazyChunks({
    name: 'revisions',
    ref: refs.revisions,
    items: { codec: DigestCodec },
    read: readChunk,
    fail,
    prepare: (items: Digest[], first: number, before: unknown) => {
      for (let j = 0; j < items.length; j++) {
        if (items[j] === (j === 0 ? before : items[j - 1])) return E.left(`revisions ${first + j - 1} and ${first + j} are the same consecutive head`);
      }
      return E.right(items);
    },
  });
  // The inline messages: decoded (and frozen) 32 at a time when first read, the last 1..32 now.
  const msgInline = refs.messages.tail;
  const msgLazyInline = lazyInlineCount(msgInline.length);
  const decodeInline = (from: number, to: number): E.Either<string, Message[]> => {
    const d = decodeWith(MessageItems, msgInline.slice(from, to));
    if (E.isLeft(d)) return E.left(`messages: inline ${from}..${to - 1}: ${d.left.message}`);
    for (const m of d.right) freezeParsed(m);
    return E.right(d.right);
  };
  const msgTail = decodeInline(msgLazyInline, msgInline.length);
  if (E.isLeft(msgTail)) return corrupt(msgTail.left);
  let messages: PVec<Message>;
  let checkpoints: PVec<DigestAccumulator>;
  let revisions: PVec<Digest>;
  let commits: PVec<TranscriptRewriteCommit>;
  try {
    // A list whose inline tail is empty reads its last chunk here (the last item is always materialized).
    messages = vecFromLazy([chunkRun(messageChunks), inlineRun(msgLazyInline, decodeInline, fail)], msgTail.right);
    checkpoints = vecFromLazy([chunkRun(checkpointChunks), inlineRun(cpLazyInline, (from, to) => E.mapLeft((r: string) => `checkpoints: ${r}`)(importInline(from, to)), fail)], cpTail.right);
    revisions = vecFromLazy([chunkRun(revisionChunks)], refs.revisions.tail);
    commits = vecFromLazy([chunkRun(commitChunks)], refs.commits.tail);
  } catch (e) {
    if (isLazyReadFailure(e)) return E.left(e.error);
    throw e;
  }
  const lastCp = vecLast(checkpoints)!;
  if (n % CHUNK_SIZE === 0 && (lastCp.byteLength !== head.right.byteLength || accumulatorDigest(lastCp) !== revision)) {
    return corrupt('the last checkpoint and the head accumulator disagree');
  }
  // The inline messages after the last checkpoint are checked by `checkSnapshotTail` (the load calls it).

  // History invariants: in full when every revision is inline, else what needs no chunk (chunks check theirs when read).
  // With every revision inline, every commit is too (fewer commits than revisions, checked above).
  const inlineHistory = { head: history.right.head, revisions: refs.revisions.tail, commits: refs.commits.tail };
  if (revisionChunks.full === 0) {
    const checked = checkHistoryState(inlineHistory);
    if (E.isLeft(checked)) return corrupt(`${RESERVED_KEYS.transcriptHistory}: ${checked.left.reason}`);
  } else {
    const h = RESERVED_KEYS.transcriptHistory;
    if (vecLast(revisions) !== history.right.head) return corrupt(`${h}: the last revision is not the head ${history.right.head}`);
    const revTail = refs.revisions.tail;
    for (let j = 1; j < revTail.length; j++) if (revTail[j] === revTail[j - 1]) return corrupt(`${h}: two consecutive revisions of the tail are the same head`);
    const tail = refs.commits.tail;
    const base = refs.commits.count - tail.length;
    for (let c = 0; c < tail.length; c++) if (selfCommit(tail[c]!)) return corrupt(`${h}: commit ${base + c} has parentRevision equal to revision`);
  }

  const transcript = transcriptFromParts(messages, head.right, checkpoints);
  if (E.isLeft(transcript)) return corrupt(transcript.left);
  const state: SessionState = {
    id: s.id,
    version: SESSION_VERSION,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    seq: s.seq,
    head: s.head,
    transcript: transcript.right,
    commits,
    revisions,
    // The memo's values are the state's: `metadataFrom` copies the members and freezes each value in place. (No
    // closure here may read the metadata: the lazy lists' closures share this context and would keep it alive.)
    metadata: metadataFrom(user),
    usage: s.usage,
    ...(s.forkedFrom !== undefined ? { forkedFrom: s.forkedFrom } : {}),
    ...machineStates.right,
  };
  const memos: SnapshotMemos = {
    messages: lazyMemo(messageChunks, messages),
    checkpoints: lazyMemo(checkpointChunks, checkpoints),
    revisions: lazyMemo(revisionChunks, revisions),
    commits: lazyMemo(commitChunks, commits),
    ...(userMemo !== undefined ? { user: userMemo } : {}),
  };
  return E.right({ state, memos });
};

/** Why a list reference does not fit snapshot format `v`'s index rule (v1: none; v2, v3: exactly when it has a full chunk), or `undefined`. */
const indexProblem = (v: number, ref: { readonly last?: ChunkId; readonly index?: ChunkId }): string | undefined => {
  if (v === 1) return ref.index !== undefined ? 'a v1 snapshot names an index' : undefined;
  if ((ref.index !== undefined) === (ref.last !== undefined)) return undefined;
  return ref.last !== undefined ? 'a full chunk without an index' : 'an index without a full chunk';
};

/**
 * Reads a v3 snapshot's whole user metadata list `ref` (format `v`): its full
 * chunks through `readChunk` (each hashed against its id, its members decoded
 * by `MemberCodec`), then the inline tail. The keys must be strictly
 * ascending (UTF-16 code units: sorted, no duplicate) and none reserved
 * (`palimpsest.*`). `Left(reason)` for a list that breaks a rule, `Left(error)`
 * for what a chunk read threw (`LazyReadFailure`: a missing or corrupt chunk,
 * a closed store, an I/O failure). Also gives the memo of the list (every
 * chunk id known; a fresh reuse token per chunk; the decoded values, which
 * the state then holds as they are).
 */
const readUserMetadata = (
  v: number,
  ref: ListRef<Member>,
  readChunk: SyncChunkReader,
  fail: (reason: string) => LazyReadFailure,
): E.Either<string | StoreError, { readonly members: readonly Member[]; readonly memo: UserMetadataMemo }> => {
  const problem = refShapeProblem(ref) ?? indexProblem(v, ref);
  if (problem !== undefined) return E.left(`user: ${problem}`);
  const chunks = lazyChunks({ name: 'user', ref, items: { codec: MemberCodec }, read: readChunk, fail, prepare: (items: Member[]) => E.right(items) });
  const members: Member[] = [];
  let ids: ChunkId[];
  try {
    for (let k = 0; k < (chunks.full * CHUNK_SIZE) / LEAF_SIZE; k++) members.push(...chunks.leaf(k));
    ids = Array.from({ length: chunks.full }, (_, i) => chunks.id(i));
  } catch (e) {
    if (isLazyReadFailure(e)) return E.left(e.error);
    throw e;
  }
  members.push(...ref.tail);
  for (let j = 0; j < members.length; j++) {
    const k = members[j]![0];
    if (isReservedKey(k)) return E.left(`user: member ${j} has the reserved key ${JSON.stringify(k)}`);
    if (j > 0 && !(members[j - 1]![0] < k)) return E.left(`user: member ${j} (${JSON.stringify(k)}) is not after member ${j - 1} (${JSON.stringify(members[j - 1]![0])}) in key order`);
  }
  const list: ListMemo = { ids, keys: ids.map(() => ({})), ...(chunks.index !== undefined ? { index: chunks.index } : {}) };
  return E.right({ members, memo: { keys: members.map((m) => m[0]), values: members.map((m) => m[1]), list } });
};

/**
 * The inline messages of a state just decoded from the snapshot of `sessionId`
 * at `seq` (those after its last digest checkpoint, fewer than 256) against its
 * head accumulator, whose digest the record at the snapshot's seq pins: an
 * edited tail message is `CorruptRecord`, as is one that does not decode (the
 * inline messages are decoded here, on first read). Re-hashes those messages;
 * reads no chunk.
 */
export const checkSnapshotTail = (sessionId: string, seq: number, state: SessionState): E.Either<StoreError, void> => {
  const t = state.transcript;
  const n = vecSize(t.messages);
  const lastCp = snapshotTailStart(state);
  if (lastCp.count >= n) return E.right(undefined);
  let rebuilt: DigestAccumulator;
  try {
    rebuilt = appendMessages(lastCp, vecIter(t.messages, lastCp.count, n));
  } catch (e) {
    if (isLazyReadFailure(e)) return E.left(e.error);
    throw e;
  }
  const revision = accumulatorDigest(t.head);
  if (rebuilt.byteLength !== t.head.byteLength || accumulatorDigest(rebuilt) !== revision) {
    return E.left(corruptRecord(sessionId, seq, `snapshot: the messages after ${lastCp.count} do not hash to the head accumulator's revision ${revision}`));
  }
  return E.right(undefined);
};

/** The last digest checkpoint of a state decoded from a snapshot: its inline tail starts at its `count`. Reads no chunk. */
export const snapshotTailStart = (state: SessionState): DigestAccumulator => vecLast(state.transcript.checkpoints)!;

/**
 * Deep-freezes a value this load just parsed and decoded (objects and arrays;
 * primitives left alone) and returns it. Unlike `deepFreeze` it keeps no
 * record of what it froze (no `WeakSet`): the value is fresh, nothing else
 * holds it, and remembering 100,000 messages' objects cost more than freezing
 * them (the P5 benchmark). Members are walked with `for…in` (own ones only),
 * which allocates nothing, where `Object.keys` made an array per object:
 * 300,000 of them for P5's messages, a fifth of its load + `messages` time.
 */
const freezeParsed = <A>(value: A): A => {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) freezeParsed(value[i] as unknown);
  } else {
    const o = value as Record<string, unknown>;
    for (const k in o) if (Object.hasOwn(o, k)) freezeParsed(o[k]);
  }
  return Object.freeze(value);
};

/** How many of `n` inline items are read lazily: all but the last 1..32 (the vector's tail). */
const lazyInlineCount = (n: number): number => (n === 0 ? 0 : n - (((n - 1) % LEAF_SIZE) + 1));

/** The lazy run of the first `count` inline items (a multiple of 32), `read(from, to)` giving items `[from, to)` or why not (thrown through `fail`). */
const inlineRun = <U>(count: number, read: (from: number, to: number) => E.Either<string, readonly U[]>, fail: (reason: string) => LazyReadFailure): LazyRun<U> => ({
  segments: count / LEAF_SIZE,
  size: LEAF_SIZE,
  load: (k) => {
    const r = read(k * LEAF_SIZE, (k + 1) * LEAF_SIZE);
    if (E.isLeft(r)) throw fail(r.left);
    return r.right;
  },
  loadRange: (k, from, to) => {
    const r = read(k * LEAF_SIZE + from, k * LEAF_SIZE + to);
    if (E.isLeft(r)) throw fail(r.left);
    return r.right;
  },
});

/** The lazy run of a list's full chunks: a segment per vector leaf (32 items), so a read decodes only the leaves it touches. */
const chunkRun = <U>(chunks: LazyChunks<U>): LazyRun<U> => ({ segments: (chunks.full * CHUNK_SIZE) / LEAF_SIZE, size: LEAF_SIZE, load: chunks.leaf, loadRange: chunks.leafRange });

/** The memo of a lazily loaded list: ids and keys are resolved on demand (the chain walk, the vector's leaves). */
const lazyMemo = <U>(chunks: LazyChunks<U>, v: PVec<U>): ListMemo => {
  if (chunks.full === 0) return emptyListMemo;
  const ids = new Array<ChunkId | undefined>(chunks.full);
  ids[chunks.full - 1] = chunks.id(chunks.full - 1);
  return { ids, keys: new Array<unknown>(chunks.full), resolve: { id: chunks.id, key: chunkKey(v) }, ...(chunks.index !== undefined ? { index: chunks.index } : {}) };
};

/**
 * Reads every lazily loaded part of `state` (messages, checkpoints, revisions, commits),
 * so nothing is read later: `Left` with the first failure a read threw. For the
 * paths that must not trust lazy state (a fork parent handed to `verify`).
 */
export const materializeState = (state: SessionState): E.Either<StoreError, SessionState> => {
  try {
    vecToArray(state.transcript.messages);
    vecToArray(state.transcript.checkpoints);
    vecToArray(state.revisions);
    vecToArray(state.commits);
    return E.right(state);
  } catch (e) {
    if (isLazyReadFailure(e)) return E.left(e.error);
    throw e;
  }
};
