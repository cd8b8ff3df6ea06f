/**
 * Low-level reads and the stored shapes of the store (see `layout.ts`): the
 * session header and fork-link codecs, record decoding from disk, and `Io`, a
 * thin wrapper over the LevelDB handle whose every call returns `Either` (a
 * LevelDB exception becomes `StoreIoError` / `StoreLocked` / `StoreClosed`).
 */
import type { Level } from 'level';
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { decodeWith, literal, nat, nonEmptyStr, oneOf, positive, strict } from '../model/decode.ts';
import { DigestCodec } from '../model/scalars.ts';
import { ForkModeCodec } from '../session/commands.ts';
import { READABLE_RECORD_VERSIONS, RECORD_VERSION, decodeRecord, type LogRecord } from '../session/record.ts';
import type { SessionState } from '../session/state.ts';
import { transcriptLength, transcriptRevision } from '../transcript/index.ts';
import { corruptRecord, fromLevelError, unsupportedVersion, type StoreError } from './errors.ts';
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

/** The store's LevelDB handle behind `Either`-returning calls. */
export interface Io {
  /** The store directory (absolute). */
  readonly path: string;
  /** The UTF-8 value of `key`, `undefined` when absent. */
  get(key: string): Promise<E.Either<StoreError, string | undefined>>;
  /** The binary value of `key`, `undefined` when absent. */
  getBytes(key: string): Promise<E.Either<StoreError, Uint8Array | undefined>>;
  /** Writes every op in one atomic batch. */
  batch(ops: readonly PutOp[]): Promise<E.Either<StoreError, void>>;
  /** Entries of `range` in key order, in batches of up to `size` (default 500). Stops after a `Left`. */
  scan(range: Range, size?: number): AsyncGenerator<E.Either<StoreError, ReadonlyArray<readonly [string, string]>>>;
  /** Keys of `range` in key order (all of them). */
  keys(range: Range): Promise<E.Either<StoreError, string[]>>;
  /** The greatest key of `range`, `undefined` when the range is empty. */
  lastKey(range: Range): Promise<E.Either<StoreError, string | undefined>>;
  /** The header of `sid`, `undefined` when the session does not exist. */
  header(sid: string): Promise<E.Either<StoreError, SessionHeader | undefined>>;
}

/** How many bytes one `nextv` of a scan may read (classic-level's `highWaterMarkBytes`; its default is 16 KiB). */
const SCAN_HIGH_WATER_BYTES = 4 * 1024 * 1024;

/** Wraps an open `level` database. `sync` is passed to every batch. */
export const makeIo = (db: Level<string, string>, path: string, sync: boolean): Io => {
  const io: Io = {
    path,
    async get(key) {
      try {
        return E.right(await db.get(key));
      } catch (e) {
        return E.left(fromLevelError(path, e));
      }
    },
    async getBytes(key) {
      try {
        return E.right(await db.get<string, Uint8Array>(key, { valueEncoding: 'view' }));
      } catch (e) {
        return E.left(fromLevelError(path, e));
      }
    },
    async batch(ops) {
      try {
        // The array form: classic-level's chained batch is several times slower per write.
        const arr = ops.map((op) =>
          'bytes' in op
            ? ({ type: 'put', key: op.key, value: op.bytes, valueEncoding: 'view' } as unknown as { type: 'put'; key: string; value: string })
            : ({ type: 'put', key: op.key, value: op.value } as const),
        );
        await db.batch(arr, { sync });
        return E.right(undefined);
      } catch (e) {
        return E.left(fromLevelError(path, e));
      }
    },
    async *scan(range, size = 500) {
      let it: ReturnType<typeof db.iterator<string, string>> | undefined;
      // The next batch is read while the caller works on the current one (LevelDB reads
      // on its own thread), so a long scan does not wait for the disk between batches.
      let ahead: Promise<Array<[string, string]>> | undefined;
      const readAhead = (): Promise<Array<[string, string]>> => {
        const p = it!.nextv(size);
        p.catch(() => undefined); // awaited below; never an unhandled rejection
        return p;
      };
      try {
        // classic-level stops a nextv() after 16 KiB by default, which would cut a batch
        // of records into dozens of round trips to LevelDB's thread.
        it = db.iterator<string, string>({ ...range, highWaterMarkBytes: SCAN_HIGH_WATER_BYTES });
        ahead = readAhead();
        for (;;) {
          const entries: Array<[string, string]> = await ahead;
          ahead = undefined;
          if (entries.length === 0) break;
          ahead = readAhead();
          yield E.right(entries);
        }
      } catch (e) {
        yield E.left(fromLevelError(path, e));
      } finally {
        if (ahead !== undefined) await ahead.catch(() => undefined);
        if (it !== undefined) await it.close().catch(() => undefined);
      }
    },
    async keys(range) {
      try {
        return E.right(await db.keys({ ...range }).all());
      } catch (e) {
        return E.left(fromLevelError(path, e));
      }
    },
    async lastKey(range) {
      try {
        const ks = await db.keys({ ...range, reverse: true, limit: 1 }).all();
        return E.right(ks[0]);
      } catch (e) {
        return E.left(fromLevelError(path, e));
      }
    },
    async header(sid) {
      const raw = await io.get(keys.header(sid));
      if (E.isLeft(raw)) return raw;
      if (raw.right === undefined) return E.right(undefined);
      return decodeHeader(sid, raw.right);
    },
  };
  return io;
};

/** The seq at the end of a key `X/<sid>/<seq12>` (or `X/<sid>/<rev>/<seq12>`), or `undefined`. */
export const seqOfKey = (key: string): number | undefined => decodeSeq(key.slice(key.lastIndexOf('/') + 1));
