/**
 * What a pi import records about itself, as user metadata of the sessions it
 * writes (so it is part of the hash-chained log like every other command):
 *
 * - `pi.import` (in the genesis of the import's root session, inherited by its
 *   forks): `{ source, digest, file, sessions }`: the manifest blob id of the
 *   stored source file (`source.ts`), the `sha256:` digest of the file's bytes,
 *   the file's name as given, and the store ids of every session the import
 *   writes (plan order);
 * - `pi.imported` (the last record the import writes to each of its sessions):
 *   `{ sessionId, leafLine, messages, revision, times }`: the session it
 *   completes, the 1-based line of its branch's leaf entry in the source (0: no
 *   entries), the message count and transcript revision at that point, and the
 *   blob id of its original times (`application/json`): `times[seq - 1]` is
 *   when the event of record `seq` happened according to pi (its entry's
 *   timestamp; the header's for the genesis) — the record's own `at` stays the
 *   time the import accepted it. Up to `PI_TIMES_PART` records the blob holds
 *   them all, `{ v: 1, sessionId, times: [ms, …] }`; beyond that it is a
 *   manifest `{ v: 2, sessionId, count, parts: [blob id, …] }` of parts
 *   `{ v: 2, sessionId, from, times: [ms, …] }` (`times[from + i]`, at most
 *   `PI_TIMES_PART` each, in order), so no single stored value grows with the
 *   session (a value of many MB costs LevelDB several copies of it at once).
 *
 * A session is an *incomplete* import while it is one of `pi.import.sessions`
 * and its `pi.imported` does not name it: a crash, a kill or a full disk
 * stopped the import after it began writing. A session forked in palimpsest
 * after the import inherits `pi.import` without being listed: a *descendant*.
 * Pure.
 */
import type { Json } from '../../model/json.ts';
import type { BlobId, Digest } from '../../model/scalars.ts';
import { blobId } from '../../model/digest.ts';
import { blobValueHead } from '../../store/blobs.ts';

/** The media type of an original-times blob. */
const TIMES_MEDIA_TYPE = 'application/json';

/** The metadata key of the import's identity (see the module comment). */
export const PI_IMPORT_KEY = 'pi.import';
/** The metadata key of a session's completion (see the module comment). */
export const PI_IMPORTED_KEY = 'pi.imported';

/** `pi.import`: which file an import wrote and which sessions it writes. */
export interface PiImportMark {
  readonly source: BlobId;
  readonly digest: Digest;
  readonly file: string;
  readonly sessions: readonly string[];
}

/** `pi.imported`: a session the import finished. */
export interface PiImportedMark {
  readonly sessionId: string;
  readonly leafLine: number;
  readonly messages: number;
  readonly revision: Digest;
  readonly times?: BlobId;
}

/**
 * A session's relation to a pi import:
 * - `none`: not written by a pi import (or by one older than this record);
 * - `complete` / `incomplete`: one of the import's sessions, finished or not;
 * - `descendant`: forked in palimpsest from an imported session.
 */
export type PiImportStatus =
  | { readonly kind: 'none' }
  | { readonly kind: 'complete'; readonly mark: PiImportMark; readonly imported: PiImportedMark }
  | { readonly kind: 'incomplete'; readonly mark: PiImportMark }
  | { readonly kind: 'descendant'; readonly mark: PiImportMark };

const isObj = (v: Json | undefined): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: Json | undefined): v is string => typeof v === 'string';
const isNat = (v: Json | undefined): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** `pi.import` of `metadata`, when it has that shape. */
export const importMarkOf = (metadata: Readonly<Record<string, Json>>): PiImportMark | undefined => {
  const m = metadata[PI_IMPORT_KEY];
  if (!isObj(m) || !isStr(m['source']) || !isStr(m['digest']) || !isStr(m['file']) || !Array.isArray(m['sessions'])) return undefined;
  const sessions = m['sessions'];
  if (!sessions.every(isStr)) return undefined;
  return { source: m['source'] as BlobId, digest: m['digest'] as Digest, file: m['file'], sessions: sessions as string[] };
};

/** `pi.imported` of `metadata`, when it has that shape. */
export const importedMarkOf = (metadata: Readonly<Record<string, Json>>): PiImportedMark | undefined => {
  const m = metadata[PI_IMPORTED_KEY];
  if (!isObj(m) || !isStr(m['sessionId']) || !isNat(m['leafLine']) || !isNat(m['messages']) || !isStr(m['revision'])) return undefined;
  const times = m['times'];
  return { sessionId: m['sessionId'], leafLine: m['leafLine'], messages: m['messages'], revision: m['revision'] as Digest, ...(isStr(times) ? { times: times as BlobId } : {}) };
};

/** The import status of session `sessionId` with `metadata` (see `PiImportStatus`). */
export const piImportStatus = (sessionId: string, metadata: Readonly<Record<string, Json>>): PiImportStatus => {
  const mark = importMarkOf(metadata);
  if (mark === undefined) return { kind: 'none' };
  if (!mark.sessions.includes(sessionId)) return { kind: 'descendant', mark };
  const imported = importedMarkOf(metadata);
  return imported !== undefined && imported.sessionId === sessionId ? { kind: 'complete', mark, imported } : { kind: 'incomplete', mark };
};

/** The `pi.import` value (JSON). */
export const importMarkJson = (m: PiImportMark): Json => ({ source: m.source, digest: m.digest, file: m.file, sessions: [...m.sessions] });
/** The `pi.imported` value (JSON). */
export const importedMarkJson = (m: PiImportedMark): Json => ({
  sessionId: m.sessionId,
  leafLine: m.leafLine,
  messages: m.messages,
  revision: m.revision,
  ...(m.times !== undefined ? { times: m.times } : {}),
});

/** A blob the import stores: media type, bytes, and the id the store gives them. */
export interface PiTimesBlob {
  readonly mediaType: string;
  readonly bytes: Uint8Array;
  readonly id: BlobId;
}

/**
 * Times per part of a session's original times (see the module comment):
 * 8,192, so a part is at most ~200 KiB (a time is at most 24 JSON characters
 * and a comma; ~115 KiB for pi's integer ms times) and a session of up to that
 * many records keeps the single v1 blob. Parts of 32,768 times, stored one
 * after the other at the end of a 500k-message import, still lifted its peak
 * RSS by ~13 MiB of LevelDB and malloc memory.
 */
export const PI_TIMES_PART = 8_192;

/** The original-times blob of session `sessionId` in the single (v1) form, all of `times` (see the module comment); pure. */
export const piTimesBlob = (sessionId: string, times: readonly number[]): PiTimesBlob => piTimesBlobOf(sessionId, times.length, (i) => times[i]!);

/**
 * The JSON text `head` + the times `at(from)` … `at(to - 1)` joined by `,` +
 * `]}` as a blob of `TIMES_MEDIA_TYPE`, its bytes written straight into one
 * buffer that starts with the blob's stored head (`blobValueHead`), so
 * `store.putBlob` stores that region without copying it. Pure.
 */
const timesListBlob = (head: string, from: number, to: number, at: (i: number) => number): PiTimesBlob => {
  const stored = blobValueHead(TIMES_MEDIA_TYPE);
  const tail = ']}';
  let size = Buffer.byteLength(head, 'utf8') + tail.length + Math.max(0, to - from - 1);
  for (let i = from; i < to; i++) size += JSON.stringify(at(i)).length;
  const buffer = Buffer.allocUnsafe(stored.length + size);
  buffer.set(stored, 0);
  let o = stored.length + buffer.write(head, stored.length, 'utf8');
  for (let i = from; i < to; i++) {
    if (i > from) o = buffer.writeUInt8(0x2c, o);
    o += buffer.write(JSON.stringify(at(i)), o, 'latin1');
  }
  o += buffer.write(tail, o, 'latin1');
  if (o !== stored.length + size) throw new Error(`pi times blob: wrote ${o - stored.length} bytes of ${size}`);
  const view = new Uint8Array(buffer.buffer, buffer.byteOffset + stored.length, size);
  return { mediaType: TIMES_MEDIA_TYPE, bytes: view, id: blobId(TIMES_MEDIA_TYPE, view) };
};

/**
 * The single (v1) blob from `count` times read by `at(i)` (finite numbers,
 * ms): the JSON text of `{ v: 1, sessionId, times }` as `JSON.stringify`
 * writes it, without the array or the string (`timesListBlob`). Pure.
 */
export const piTimesBlobOf = (sessionId: string, count: number, at: (i: number) => number): PiTimesBlob =>
  timesListBlob(`{"v":1,"sessionId":${JSON.stringify(sessionId)},"times":[`, 0, count, at);

/**
 * The blobs of a session's original times, in the order to store them: the
 * single v1 blob when `count` ≤ `part`, else each v2 part of `part` times then
 * the manifest naming them (module comment). The last blob is the one
 * `pi.imported` names. One part's buffer at a time: a caller that stores each
 * before asking for the next holds one. `part` (default `PI_TIMES_PART`) is a
 * positive integer. Pure.
 */
export function* piTimesBlobs(sessionId: string, count: number, at: (i: number) => number, part = PI_TIMES_PART): Generator<PiTimesBlob> {
  if (!Number.isSafeInteger(part) || part < 1) throw new RangeError(`pi times: part must be a positive integer, got ${part}`);
  if (count <= part) {
    yield piTimesBlobOf(sessionId, count, at);
    return;
  }
  const sid = JSON.stringify(sessionId);
  const parts: BlobId[] = [];
  for (let from = 0; from < count; from += part) {
    const b = timesListBlob(`{"v":2,"sessionId":${sid},"from":${from},"times":[`, from, Math.min(count, from + part), at);
    parts.push(b.id);
    yield b;
  }
  const bytes = new TextEncoder().encode(JSON.stringify({ v: 2, sessionId, count, parts }));
  yield { mediaType: TIMES_MEDIA_TYPE, bytes, id: blobId(TIMES_MEDIA_TYPE, bytes) };
}

/**
 * A parsed original-times blob of one session: all its times (v1), or the
 * manifest of its parts (v2: `count` times in `parts`, in order).
 */
export type PiTimesIndex = { readonly kind: 'times'; readonly times: readonly number[] } | { readonly kind: 'parts'; readonly count: number; readonly parts: readonly BlobId[] };

const isTimeList = (v: unknown): v is number[] => Array.isArray(v) && v.every((t) => typeof t === 'number' && Number.isFinite(t));

const parseJson = (bytes: Uint8Array): Record<string, unknown> | undefined => {
  try {
    const v: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

/** Parses the blob `pi.imported.times` names; undefined when it is neither form (v1, v2 manifest) for `sessionId`. */
export const parseTimesIndex = (sessionId: string, bytes: Uint8Array): PiTimesIndex | undefined => {
  const v = parseJson(bytes);
  if (v === undefined || v['sessionId'] !== sessionId) return undefined;
  if (v['v'] === 1) return isTimeList(v['times']) ? { kind: 'times', times: v['times'] } : undefined;
  const count = v['count'];
  const parts = v['parts'];
  if (v['v'] !== 2 || !isNat(count as Json) || !Array.isArray(parts) || !parts.every((p) => typeof p === 'string')) return undefined;
  return { kind: 'parts', count: count as number, parts: parts as BlobId[] };
};

/** Parses a v2 part; undefined when it is not a part of `sessionId`'s times starting at `from`. */
export const parseTimesPart = (sessionId: string, from: number, bytes: Uint8Array): readonly number[] | undefined => {
  const v = parseJson(bytes);
  return v !== undefined && v['v'] === 2 && v['sessionId'] === sessionId && v['from'] === from && isTimeList(v['times']) ? v['times'] : undefined;
};

/** Parses a single (v1) original-times blob; undefined when it is not one for `sessionId` (a v2 manifest included: see `parseTimesIndex`). */
export const parseTimesBlob = (sessionId: string, bytes: Uint8Array): readonly number[] | undefined => {
  const t = parseTimesIndex(sessionId, bytes);
  return t?.kind === 'times' ? t.times : undefined;
};
