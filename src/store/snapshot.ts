/**
 * State ⇄ snapshot conversion (see `layout.ts`, "Snapshots and chunks").
 *
 * Stored snapshot (canonical JSON, key `N/<sid>/<seq12>`):
 *
 *     {
 *       v: 1, id, version: 1, createdAt, updatedAt, seq, head, usage, forkedFrom?: { from, mode },
 *       metadata: {                          // user metadata and machine state, flattened (machines.md §4)
 *         ...userKeys,
 *         "palimpsest.deferredTurn": DeferredTurnState, "palimpsest.systemContext": …,
 *         "palimpsest.toolVisibility": …, "palimpsest.realtime": …, "palimpsest.lifecycle": …,
 *         "palimpsest.transcriptHistory": { head: Revision, revisions: ListRef<Revision>, commits: ListRef<Commit> }
 *       },
 *       transcript: { messages: ListRef<Message>, head: ExportedAccumulator, checkpoints: ListRef<ExportedAccumulator> }
 *     }
 *
 * Every reserved key is written, initial states included. On read (fail closed):
 * a missing reserved key, an unknown `palimpsest.` key, a value that does not
 * decode, a machine state that fails its restore validation, a list whose chunks
 * are missing or do not hash to their ids, or parts that disagree (counts,
 * checkpoint positions, head revision vs accumulator) are `CorruptRecord` naming
 * the session and the snapshot's seq; another `v` is `UnsupportedVersion`.
 * Nothing is defaulted.
 *
 * Chunk reuse keys (`chunks.ts`): messages chunk `i` is keyed by the transcript's
 * checkpoint accumulator `i + 1` (the transcript keeps a checkpoint object only
 * while every message below it is unchanged: appends, `takeTranscript` and
 * `replaceSpan` share checkpoints exactly up to the first changed message);
 * checkpoint and commit chunks by their last item (both lists only change by
 * appending, or by rebuilding every item after a change); revision chunks by
 * their last revision (a session's revision list only grows).
 */
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith, literal, nat, nonEmptyStr, positive, recordOf, strict, type Codec } from '../model/decode.ts';
import { JsonCodec, canonicalJsonUnsafe, type Json } from '../model/json.ts';
import { MessageCodec, type Message } from '../model/message.ts';
import { DigestCodec, type Digest } from '../model/scalars.ts';
import { UsageCodec } from '../model/usage.ts';
import { ExportedAccumulatorCodec, accumulatorDigest, exportAccumulator, importAccumulator, type DigestAccumulator, type ExportedAccumulator } from '../model/accumulator.ts';
import {
  TranscriptRewriteCommitCodec,
  checkHistoryState,
  deepFreeze,
  vecFrom,
  vecGet,
  vecSize,
  vecSlice,
  type PVec,
  type Transcript,
  type TranscriptRewriteCommit,
} from '../transcript/index.ts';
import { restoreDeferredTurn } from '../machines/deferredTurn.ts';
import { restoreSystemContext } from '../machines/systemContext.ts';
import { restoreToolVisibility } from '../machines/toolVisibility.ts';
import { restoreRealtimeState } from '../machines/realtime.ts';
import { restoreLifecycle } from '../machines/lifecycle.ts';
import type { MachineStateInvalid } from '../machines/common.ts';
import { ForkModeCodec, ForkPointCodec } from '../session/commands.ts';
import { RESERVED_KEYS, isReservedKey, metadataFrom } from '../session/metadata.ts';
import { SESSION_VERSION, type SessionState } from '../session/state.ts';
import { CHUNK_SIZE, emptyListMemo, encodeList, listRefCodec, readList, type ChunkId, type ListMemo, type ListRef, type StoredChunk } from './chunks.ts';
import { corruptRecord, unsupportedVersion, type StoreError } from './errors.ts';

/** The snapshot format this code writes and reads. */
export const SNAPSHOT_VERSION = 1 as const;

/** Chunk memos of the four persisted lists of one session (see `chunks.ts`). */
export interface SnapshotMemos {
  readonly messages: ListMemo;
  readonly checkpoints: ListMemo;
  readonly revisions: ListMemo;
  readonly commits: ListMemo;
}

/** Memos with no known chunks. */
export const emptyMemos: SnapshotMemos = Object.freeze({ messages: emptyListMemo, checkpoints: emptyListMemo, revisions: emptyListMemo, commits: emptyListMemo });

/**
 * The memos a fork child starts with: the parent's message and checkpoint memos
 * (the child's transcript shares the parent's objects, so matching chunks are
 * reused by key identity), and empty revision and commit memos (fresh history).
 */
export const forkMemos = (parent: SnapshotMemos): SnapshotMemos => ({ ...emptyMemos, messages: parent.messages, checkpoints: parent.checkpoints });

const ListRefOfMessages = listRefCodec('Messages', MessageCodec);
const ListRefOfAccumulators = listRefCodec('Checkpoints', ExportedAccumulatorCodec);
const ListRefOfRevisions = listRefCodec('Revisions', DigestCodec);
const ListRefOfCommits = listRefCodec('Commits', TranscriptRewriteCommitCodec);

/** The value under `palimpsest.transcriptHistory` in a snapshot. */
export const SnapshotHistoryCodec = strict('SnapshotTranscriptHistory', { head: DigestCodec, revisions: ListRefOfRevisions, commits: ListRefOfCommits });

/** The `transcript` part of a snapshot. */
export const SnapshotTranscriptCodec = strict('SnapshotTranscript', { messages: ListRefOfMessages, head: ExportedAccumulatorCodec, checkpoints: ListRefOfAccumulators });

/** The stored snapshot (strict; machine states are decoded by their own restore functions). */
export const SnapshotCodec = strict(
  'Snapshot',
  {
    v: literal(SNAPSHOT_VERSION),
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
  { forkedFrom: strict('ForkOrigin', { from: ForkPointCodec, mode: ForkModeCodec }) },
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

/**
 * Encodes `state` as a snapshot. Lists are chunked against `memos`: only chunks
 * whose key changed are built (and hashed). O(new chunks + tails + machine
 * states); the whole transcript is never serialized again.
 */
export const encodeSnapshot = (state: SessionState, memos: SnapshotMemos): EncodedSnapshot => {
  const t = state.transcript;
  const n = vecSize(t.messages);
  const messages = encodeList<Message>(n, pvecSlice(t.messages), (i) => vecGet(t.checkpoints, i + 1), memos.messages);
  const cpCount = vecSize(t.checkpoints);
  const checkpoints = encodeList<ExportedAccumulator>(
    cpCount,
    (start, end) => vecSlice(t.checkpoints, start, end).map(exportAccumulator),
    (i) => vecGet(t.checkpoints, (i + 1) * CHUNK_SIZE - 1),
    memos.checkpoints,
  );
  const revisions = encodeList<Digest>(vecSize(state.revisions), pvecSlice(state.revisions), (i) => vecGet(state.revisions, (i + 1) * CHUNK_SIZE - 1), memos.revisions);
  const commits = encodeList<TranscriptRewriteCommit>(vecSize(state.commits), pvecSlice(state.commits), (i) => vecGet(state.commits, (i + 1) * CHUNK_SIZE - 1), memos.commits);

  const metadata = Object.create(null) as Record<string, unknown>;
  for (const k of Object.keys(state.metadata)) metadata[k] = state.metadata[k];
  metadata[RESERVED_KEYS.deferredTurn] = state.deferredTurn;
  metadata[RESERVED_KEYS.systemContext] = state.systemContext;
  metadata[RESERVED_KEYS.toolVisibility] = state.toolVisibility;
  metadata[RESERVED_KEYS.realtime] = state.realtime;
  metadata[RESERVED_KEYS.lifecycle] = state.lifecycle;
  metadata[RESERVED_KEYS.transcriptHistory] = { head: accumulatorDigest(t.head), revisions: revisions.ref, commits: commits.ref };

  const snapshot = {
    v: SNAPSHOT_VERSION,
    id: state.id,
    version: state.version,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    seq: state.seq,
    head: state.head,
    usage: state.usage,
    ...(state.forkedFrom !== undefined ? { forkedFrom: { from: state.forkedFrom.from, mode: state.forkedFrom.mode } } : {}),
    metadata,
    transcript: { messages: messages.ref, head: exportAccumulator(t.head), checkpoints: checkpoints.ref },
  };
  return {
    value: canonicalJsonUnsafe(snapshot),
    chunks: [...messages.chunks, ...checkpoints.chunks, ...revisions.chunks, ...commits.chunks],
    memos: { messages: messages.memo, checkpoints: checkpoints.memo, revisions: revisions.memo, commits: commits.memo },
  };
};

/** A decoded snapshot: the state and the memos of its lists (for the next snapshot). */
export interface DecodedSnapshot {
  readonly state: SessionState;
  readonly memos: SnapshotMemos;
}

const machineKeys = [
  RESERVED_KEYS.deferredTurn,
  RESERVED_KEYS.systemContext,
  RESERVED_KEYS.toolVisibility,
  RESERVED_KEYS.realtime,
  RESERVED_KEYS.lifecycle,
  RESERVED_KEYS.transcriptHistory,
] as const;
const knownReserved = new Set<string>(machineKeys);

/**
 * Decodes a stored snapshot of `sessionId` at `seq` (`raw` is the stored JSON),
 * reading its chunks through `getChunk`. See the module docstring for every check.
 * Errors: `UnsupportedVersion { what: 'snapshot' }`, `CorruptRecord { sessionId, seq }`,
 * or the storage error `getChunk` returned.
 */
export const decodeSnapshot = async (
  raw: string,
  sessionId: string,
  seq: number,
  getChunk: (id: ChunkId) => Promise<E.Either<StoreError, string | undefined>>,
): Promise<E.Either<StoreError, DecodedSnapshot>> => {
  const corrupt = (reason: string) => E.left(corruptRecord(sessionId, seq, `snapshot: ${reason}`));
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    return corrupt(`not JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return corrupt('not an object');
  const v = (parsed as { v?: unknown }).v;
  if (v !== SNAPSHOT_VERSION) return E.left(unsupportedVersion('snapshot', v, SNAPSHOT_VERSION, { sessionId, seq }));
  const d = decodeWith(SnapshotCodec, parsed);
  if (E.isLeft(d)) return corrupt(d.left.message);
  const s = d.right;
  if (s.id !== sessionId) return corrupt(`belongs to session ${s.id}`);
  if (s.seq !== seq) return corrupt(`is stored under seq ${seq} but says seq ${s.seq}`);

  // Split the flattened map: user metadata, and every machine under its reserved key (fail closed).
  const user = Object.create(null) as Record<string, Json>;
  const reserved = new Map<string, unknown>();
  for (const k of Object.keys(s.metadata)) {
    if (!isReservedKey(k)) {
      user[k] = s.metadata[k] as Json;
      continue;
    }
    if (!knownReserved.has(k)) return corrupt(`unknown reserved metadata key ${JSON.stringify(k)}`);
    reserved.set(k, s.metadata[k]);
  }
  for (const k of machineKeys) if (!reserved.has(k)) return corrupt(`missing reserved metadata key ${JSON.stringify(k)}`);
  const restored = <A>(key: string, restore: (u: unknown) => E.Either<MachineStateInvalid, A>): E.Either<string, A> =>
    E.mapLeft((e: MachineStateInvalid) => `${key}: ${e._tag} (${e.machine}): ${e.reason}`)(restore(reserved.get(key)));
  const deferredTurn = restored(RESERVED_KEYS.deferredTurn, restoreDeferredTurn);
  if (E.isLeft(deferredTurn)) return corrupt(deferredTurn.left);
  const systemContext = restored(RESERVED_KEYS.systemContext, restoreSystemContext);
  if (E.isLeft(systemContext)) return corrupt(systemContext.left);
  const toolVisibility = restored(RESERVED_KEYS.toolVisibility, restoreToolVisibility);
  if (E.isLeft(toolVisibility)) return corrupt(toolVisibility.left);
  const realtime = restored(RESERVED_KEYS.realtime, restoreRealtimeState);
  if (E.isLeft(realtime)) return corrupt(realtime.left);
  const lifecycle = restored(RESERVED_KEYS.lifecycle, restoreLifecycle);
  if (E.isLeft(lifecycle)) return corrupt(lifecycle.left);
  const history = decodeWith(SnapshotHistoryCodec, reserved.get(RESERVED_KEYS.transcriptHistory));
  if (E.isLeft(history)) return corrupt(`${RESERVED_KEYS.transcriptHistory}: ${history.left.message}`);

  // Lists.
  const list = async <T>(name: string, ref: ListRef<T>, item: Codec<T>): Promise<E.Either<StoreError, { items: T[]; ids: ChunkId[] }>> => {
    const r = await readList(name, ref, item, getChunk);
    if (E.isRight(r)) return r;
    return E.left(r.left.type === 'io' ? r.left.error : corruptRecord(sessionId, seq, `snapshot: ${r.left.reason}`));
  };
  const messages = await list('messages', s.transcript.messages, MessageCodec);
  if (E.isLeft(messages)) return messages;
  const cps = await list('checkpoints', s.transcript.checkpoints, ExportedAccumulatorCodec);
  if (E.isLeft(cps)) return cps;
  const revisions = await list('revisions', history.right.revisions, DigestCodec);
  if (E.isLeft(revisions)) return revisions;
  const commits = await list('commits', history.right.commits, TranscriptRewriteCommitCodec);
  if (E.isLeft(commits)) return commits;

  // Accumulators: imported, never re-hashed; their positions must fit the list.
  const n = messages.right.items.length;
  const head = importAccumulator(s.transcript.head);
  if (E.isLeft(head)) return corrupt(`transcript head accumulator: ${head.left.message}`);
  if (head.right.count !== n) return corrupt(`the head accumulator absorbed ${head.right.count} messages, the transcript has ${n}`);
  const expectedCps = Math.floor(n / CHUNK_SIZE) + 1;
  if (cps.right.items.length !== expectedCps) return corrupt(`${cps.right.items.length} digest checkpoints for ${n} messages, ${expectedCps} expected`);
  const checkpoints: DigestAccumulator[] = [];
  for (let i = 0; i < cps.right.items.length; i++) {
    const a = importAccumulator(cps.right.items[i]);
    if (E.isLeft(a)) return corrupt(`checkpoint ${i}: ${a.left.message}`);
    if (a.right.count !== i * CHUNK_SIZE) return corrupt(`checkpoint ${i} absorbed ${a.right.count} messages, ${i * CHUNK_SIZE} expected`);
    checkpoints.push(a.right);
  }
  const lastCp = cps.right.items[cps.right.items.length - 1]!;
  const h = s.transcript.head;
  if (n % CHUNK_SIZE === 0 && (lastCp.byteLength !== h.byteLength || lastCp.chain !== h.chain || lastCp.tail !== h.tail)) {
    return corrupt('the last checkpoint and the head accumulator disagree');
  }
  const revision = accumulatorDigest(head.right);
  if (revision !== history.right.head) return corrupt(`the transcript accumulator gives revision ${revision}, the history head is ${history.right.head}`);
  const checked = checkHistoryState({ head: history.right.head, revisions: revisions.right.items, commits: commits.right.items });
  if (E.isLeft(checked)) return corrupt(`${RESERVED_KEYS.transcriptHistory}: ${checked.left.reason}`);

  for (const m of messages.right.items) deepFreeze(m);
  const transcript: Transcript = Object.freeze({ messages: vecFrom(messages.right.items), head: head.right, checkpoints: vecFrom(checkpoints) });
  const state: SessionState = {
    id: s.id,
    version: SESSION_VERSION,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    seq: s.seq,
    head: s.head,
    transcript,
    commits: vecFrom(commits.right.items),
    revisions: vecFrom(revisions.right.items),
    metadata: metadataFrom(user),
    usage: s.usage,
    ...(s.forkedFrom !== undefined ? { forkedFrom: s.forkedFrom } : {}),
    deferredTurn: deferredTurn.right,
    systemContext: systemContext.right,
    toolVisibility: toolVisibility.right,
    realtime: realtime.right,
    lifecycle: lifecycle.right,
  };
  const keyed = (ids: readonly ChunkId[], keyOf: (i: number) => unknown): ListMemo => ({ ids, keys: ids.map((_, i) => keyOf(i)) });
  const memos: SnapshotMemos = {
    messages: keyed(messages.right.ids, (i) => checkpoints[i + 1]),
    checkpoints: keyed(cps.right.ids, (i) => checkpoints[(i + 1) * CHUNK_SIZE - 1]),
    revisions: keyed(revisions.right.ids, (i) => revisions.right.items[(i + 1) * CHUNK_SIZE - 1]),
    commits: keyed(commits.right.ids, (i) => commits.right.items[(i + 1) * CHUNK_SIZE - 1]),
  };
  return E.right({ state, memos });
};
