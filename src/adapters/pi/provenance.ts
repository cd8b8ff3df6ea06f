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
 *   blob id of its original times: `{ v: 1, sessionId, times: [ms, …] }`
 *   (`application/json`), `times[seq - 1]` being when the event of record `seq`
 *   happened according to pi (its entry's timestamp; the header's for the
 *   genesis) — the record's own `at` stays the time the import accepted it.
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

/** The original-times blob of session `sessionId` (see the module comment); pure. */
export const piTimesBlob = (sessionId: string, times: readonly number[]): { readonly mediaType: string; readonly bytes: Uint8Array; readonly id: BlobId } =>
  piTimesBlobOf(sessionId, times.length, (i) => times[i]!);

/**
 * The same blob from `count` times read by `at(i)` (finite numbers, ms), its
 * bytes written straight into one buffer: the JSON text of `{ v: 1,
 * sessionId, times }` as `JSON.stringify` writes it, without the array or the
 * string. The buffer starts with the blob's stored head (`blobValueHead`), so
 * `store.putBlob` stores that region without copying it (a pi import holds
 * one copy of the blob in JavaScript, not four). Pure.
 */
export const piTimesBlobOf = (sessionId: string, count: number, at: (i: number) => number): { readonly mediaType: string; readonly bytes: Uint8Array; readonly id: BlobId } => {
  const stored = blobValueHead(TIMES_MEDIA_TYPE);
  const head = `{"v":1,"sessionId":${JSON.stringify(sessionId)},"times":[`;
  const tail = ']}';
  let size = Buffer.byteLength(head, 'utf8') + tail.length + Math.max(0, count - 1);
  for (let i = 0; i < count; i++) size += JSON.stringify(at(i)).length;
  const buffer = Buffer.allocUnsafe(stored.length + size);
  buffer.set(stored, 0);
  let o = stored.length + buffer.write(head, stored.length, 'utf8');
  for (let i = 0; i < count; i++) {
    if (i > 0) o = buffer.writeUInt8(0x2c, o);
    o += buffer.write(JSON.stringify(at(i)), o, 'latin1');
  }
  o += buffer.write(tail, o, 'latin1');
  if (o !== stored.length + size) throw new Error(`pi times blob: wrote ${o - stored.length} bytes of ${size}`);
  const view = new Uint8Array(buffer.buffer, buffer.byteOffset + stored.length, size);
  return { mediaType: TIMES_MEDIA_TYPE, bytes: view, id: blobId(TIMES_MEDIA_TYPE, view) };
};

/** Parses an original-times blob; undefined when it is not one for `sessionId`. */
export const parseTimesBlob = (sessionId: string, bytes: Uint8Array): readonly number[] | undefined => {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as { v?: unknown; sessionId?: unknown; times?: unknown };
    if (v.v !== 1 || v.sessionId !== sessionId || !Array.isArray(v.times) || !v.times.every((t) => typeof t === 'number' && Number.isFinite(t))) return undefined;
    return v.times as number[];
  } catch {
    return undefined;
  }
};
