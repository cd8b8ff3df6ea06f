/**
 * Low-level reads and the stored shapes of the store (see `layout.ts`): the
 * session header and fork-link codecs, record decoding from disk, and `Io`, the
 * storage port both backends implement (`levelIo.ts`, `postgresIo.ts`).
 */
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { decodeWith, literal, nat, nonEmptyStr, oneOf, positive, strict } from '../model/decode.ts';
import { DigestCodec } from '../model/scalars.ts';
import { ForkModeCodec } from '../session/commands.ts';
import { READABLE_RECORD_VERSIONS, RECORD_VERSION, decodeRecord, type LogRecord } from '../session/record.ts';
import type { SessionState } from '../session/state.ts';
import { transcriptLength, transcriptRevision } from '../transcript/index.ts';
import type { ChunkId, SyncChunkReader } from './chunks.ts';
import { corruptRecord, unsupportedVersion, type StoreError } from './errors.ts';
import { HEADER_VERSION, decodeSeq, keys } from './layout.ts';

/** Where a fork child came from, as its header and `lineage` report it. */
export const HeaderForkCodec = strict('HeaderFork', { sessionId: nonEmptyStr, seq: positive, hash: DigestCodec, mode: ForkModeCodec });
/** `{ sessionId, seq, hash, mode }` of a fork's genesis. */
export type HeaderFork = t.TypeOf<typeof HeaderForkCodec>;

/**
 * The session header (key `S/<sid>`), rewritten by every batch that touches the
 * session: times in ms since epoch, `lastSeq`/`lastHash` of the newest record,
 * `revision` = its transcript head, `messages` = transcript length, `status` =
 * lifecycle, `forkedFrom` for a fork, `snapshot` = the seq of the newest
 * snapshot (older ones are found by a reverse key scan, so the header's size
 * does not grow with the log).
 */
export const SessionHeaderCodec = strict(
  'SessionHeader',
  {
    v: literal(HEADER_VERSION),
    sessionId: nonEmptyStr,
    createdAt: nat,
    updatedAt: nat,
    lastSeq: positive,
    lastHash: DigestCodec,
    revision: DigestCodec,
    messages: nat,
    status: oneOf('SessionStatus', ['active', 'archived'] as const),
  },
  { forkedFrom: HeaderForkCodec, snapshot: positive },
);
/** A session header. */
export type SessionHeader = t.TypeOf<typeof SessionHeaderCodec>;

/** The fork link value (key `K/<parent>/<child>`): the child's `from.seq`, `from.hash` and mode. */
export const ForkLinkCodec = strict('ForkLink', { seq: positive, hash: DigestCodec, mode: ForkModeCodec });
/** A fork link value. */
export type ForkLink = t.TypeOf<typeof ForkLinkCodec>;

/** The header of a session whose newest state is `state`. */
export const headerOf = (state: SessionState, snapshot: number | undefined): SessionHeader => ({
  v: HEADER_VERSION,
  sessionId: state.id,
  createdAt: state.createdAt,
  updatedAt: state.updatedAt,
  lastSeq: state.seq,
  lastHash: state.head,
  revision: transcriptRevision(state.transcript),
  messages: transcriptLength(state.transcript),
  status: state.lifecycle.status,
  ...(state.forkedFrom !== undefined ? { forkedFrom: { ...state.forkedFrom.from, mode: state.forkedFrom.mode } } : {}),
  ...(snapshot !== undefined ? { snapshot } : {}),
});

/**
 * The stored text of the header of `state`: exactly `JSON.stringify(headerOf(state,
 * snapshot))` (members in that order, each value as `JSON.stringify` writes it),
 * written member by member instead of through an intermediate object: the
 * header is rewritten by every append, and the object with its conditional
 * spreads cost about as much as the rest of the batch's keys together.
 */
export const headerJson = (state: SessionState, snapshot: number | undefined): string => {
  const f = state.forkedFrom;
  return (
    `{"v":${HEADER_VERSION},"sessionId":${JSON.stringify(state.id)},"createdAt":${JSON.stringify(state.createdAt)},"updatedAt":${JSON.stringify(state.updatedAt)}` +
    `,"lastSeq":${JSON.stringify(state.seq)},"lastHash":${JSON.stringify(state.head)},"revision":${JSON.stringify(transcriptRevision(state.transcript))}` +
    `,"messages":${JSON.stringify(transcriptLength(state.transcript))},"status":${JSON.stringify(state.lifecycle.status)}` +
    (f !== undefined ? `,"forkedFrom":${JSON.stringify({ ...f.from, mode: f.mode })}` : '') +
    (snapshot !== undefined ? `,"snapshot":${JSON.stringify(snapshot)}` : '') +
    '}'
  );
};

const parseJson = (raw: string): E.Either<string, unknown> => {
  try {
    return E.right(JSON.parse(raw) as unknown);
  } catch (e) {
    return E.left(`not JSON (${(e as Error).message})`);
  }
};

/** Decodes a stored header of `sid`: `UnsupportedVersion { what: 'store' }` for another `v`, `CorruptRecord { seq: 0 }` otherwise. */
export const decodeHeader = (sid: string, raw: string): E.Either<StoreError, SessionHeader> => {
  const p = parseJson(raw);
  if (E.isLeft(p)) return E.left(corruptRecord(sid, 0, `header: ${p.left}`));
  const v = typeof p.right === 'object' && p.right !== null ? (p.right as { v?: unknown }).v : undefined;
  if (v !== HEADER_VERSION) return E.left(unsupportedVersion('store', v, HEADER_VERSION, { sessionId: sid }));
  const d = decodeWith(SessionHeaderCodec, p.right);
  if (E.isLeft(d)) return E.left(corruptRecord(sid, 0, `header: ${d.left.message}`));
  if (d.right.sessionId !== sid) return E.left(corruptRecord(sid, 0, `header names session ${d.right.sessionId}`));
  return E.right(d.right);
};

/**
 * Decodes the record stored under `R/<sid>/<seq>`: JSON, `v` (another version is
 * `UnsupportedVersion { what: 'record' }`), the strict record codec, and the key
 * must match the record's session and seq (`CorruptRecord` otherwise). The hash
 * and the chain are checked by replay.
 */
export const decodeStoredRecord = (sid: string, seq: number, raw: string): E.Either<StoreError, LogRecord> => {
  const p = parseJson(raw);
  if (E.isLeft(p)) return E.left(corruptRecord(sid, seq, `record: ${p.left}`));
  if (typeof p.right !== 'object' || p.right === null || Array.isArray(p.right)) return E.left(corruptRecord(sid, seq, 'record: not an object'));
  const v = (p.right as { v?: unknown }).v;
  if (typeof v !== 'number' || !READABLE_RECORD_VERSIONS.includes(v)) return E.left(unsupportedVersion('record', v, RECORD_VERSION, { sessionId: sid, seq }));
  const d = decodeRecord(p.right);
  if (E.isLeft(d)) return E.left(corruptRecord(sid, seq, `record: ${d.left.message}`));
  if (d.right.sessionId !== sid) return E.left(corruptRecord(sid, seq, `record belongs to session ${d.right.sessionId}`));
  if (d.right.seq !== seq) return E.left(corruptRecord(sid, seq, `record stored under seq ${seq} says seq ${d.right.seq}`));
  return E.right(d.right);
};

/** Decodes a fork link value. */
export const decodeForkLink = (parent: string, raw: string): E.Either<StoreError, ForkLink> => {
  const p = parseJson(raw);
  if (E.isLeft(p)) return E.left(corruptRecord(parent, 0, `fork link: ${p.left}`));
  const d = decodeWith(ForkLinkCodec, p.right);
  return E.isLeft(d) ? E.left(corruptRecord(parent, 0, `fork link: ${d.left.message}`)) : E.right(d.right);
};

/** A key range: `gte` plus `lt` or `lte`. */
export type Range = { readonly gte: string; readonly lt: string } | { readonly gte: string; readonly lte: string };

/** One `put` of a batch (`bytes` values are written as binary). */
export type PutOp = { readonly key: string; readonly value: string } | { readonly key: string; readonly bytes: Uint8Array };

/**
 * The storage port: what `SessionStore` needs from a backend, every call
 * returning `Either`. Keys and ranges are those of `layout.ts`; a backend maps
 * them onto its own storage (LevelDB: one key space, `levelIo.ts`; PostgreSQL:
 * one table per namespace, `postgresIo.ts`). Everything above the port —
 * reducers, record format, snapshots, forks, verify, anchors — is shared.
 */
export interface Io {
  /** Where the store lives, for messages: the absolute directory (LevelDB), the URL without password plus schema (PostgreSQL). */
  readonly path: string;
  /**
   * Whether other processes may write the store while this one has it open
   * (PostgreSQL). The store then checks the header against its cached head
   * before serving a cached session to an append or a load. `false` for LevelDB,
   * whose LOCK keeps every other process out (`StoreLocked`).
   */
  readonly shared: boolean;
  /** The UTF-8 value of `key`, `undefined` when absent. */
  get(key: string): Promise<E.Either<StoreError, string | undefined>>;
  /** The binary value of `key`, `undefined` when absent. */
  getBytes(key: string): Promise<E.Either<StoreError, Uint8Array | undefined>>;
  /**
   * Writes every op in one atomic unit (all or nothing). A record key that
   * already exists is never overwritten by a shared backend: the batch then
   * writes nothing and returns `SeqConflict` (`SessionExists` for a genesis).
   */
  batch(ops: readonly PutOp[]): Promise<E.Either<StoreError, void>>;
  /** Entries of `range` in key order, in batches of up to `size` (default 500). Stops after a `Left`. */
  scan(range: Range, size?: number): AsyncGenerator<E.Either<StoreError, ReadonlyArray<readonly [string, string]>>>;
  /** Keys of `range` in key order (all of them). */
  keys(range: Range): Promise<E.Either<StoreError, string[]>>;
  /** The greatest key of `range`, `undefined` when the range is empty. */
  lastKey(range: Range): Promise<E.Either<StoreError, string | undefined>>;
  /** The header of `sid`, `undefined` when the session does not exist. */
  header(sid: string): Promise<E.Either<StoreError, SessionHeader | undefined>>;
  /**
   * A synchronous reader for the chunk chains that start at `roots` (the `last`
   * chunk ids a snapshot names), used by lazily loaded lists. LevelDB reads on
   * demand (`getSync`); PostgreSQL has no synchronous read, so it reads every
   * chunk of those chains now (one recursive query) and serves them from memory.
   */
  chunkReader(roots: readonly ChunkId[]): Promise<E.Either<StoreError, SyncChunkReader>>;
  /** Releases the backend (LevelDB handle, connection pool). Later calls give `StoreClosed`. */
  close(): Promise<E.Either<StoreError, void>>;
}

/** `io.header` through `get`: reads and decodes `S/<sid>`. */
export const readHeader = async (get: Io['get'], sid: string): Promise<E.Either<StoreError, SessionHeader | undefined>> => {
  const raw = await get(keys.header(sid));
  if (E.isLeft(raw)) return raw;
  if (raw.right === undefined) return E.right(undefined);
  return decodeHeader(sid, raw.right);
};

/** The seq at the end of a key `X/<sid>/<seq12>` (or `X/<sid>/<rev>/<seq12>`), or `undefined`. */
export const seqOfKey = (key: string): number | undefined => decodeSeq(key.slice(key.lastIndexOf('/') + 1));
