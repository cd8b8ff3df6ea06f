/**
 * Log records (README §2): one accepted command each, hash-chained.
 *
 * `hash` is `sha256:` + hex SHA-256 of the RFC 8785 canonical JSON of the record
 * without `hash`. `prev` is the hash of the previous record; for a root
 * session's seq 1 it is `GENESIS_PREV` (64 zeros), for a fork's seq 1 the hash of
 * the parent record it forked from, so all sessions form one Merkle-linked DAG.
 */
import type * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith, literal, nat, nonEmptyStr, positive, strict, type DecodeError } from '../model/decode.ts';
import { canonicalJsonUnsafe } from '../model/json.ts';
import { BAIL, hasHiddenToJson, writeCanonical } from '../model/canonical.ts';
import { DigestCodec, type Digest } from '../model/index.ts';
import { sha256OfUtf8 } from '../model/hashing.ts';
import { SessionCommandCodec, type SessionCommand } from './commands.ts';

/** The record format version this code writes: v2 adds `state` (the state digest, `stateDigest.ts`). */
export const RECORD_VERSION = 2 as const;
/** Every record format version this code reads (v1: written before the state digest existed). */
export const READABLE_RECORD_VERSIONS: readonly number[] = [1, 2];

/** `prev` of a root session's first record. */
export const GENESIS_PREV: Digest = `sha256:${'0'.repeat(64)}`;

const recordFields = {
  sessionId: nonEmptyStr,
  seq: positive,
  at: nat,
  command: SessionCommandCodec,
  revision: DigestCodec,
  prev: DigestCodec,
  hash: DigestCodec,
};
/** A v1 record: `{ v: 1, sessionId, seq (1, 2, …), at (ms), command, revision, prev, hash }`. */
const LogRecordV1Codec = strict('LogRecord', { v: literal(1), ...recordFields });
/** A v2 record: v1's members, `v: 2` and `state`, the digest of the session state after the command. */
const LogRecordV2Codec = strict('LogRecord', { v: literal(2), ...recordFields, state: DigestCodec });
/** A log record. `state` is present exactly when `v` is 2. */
export type LogRecord = LogRecordV1 | LogRecordV2;
/** A record written before record format v2. */
export interface LogRecordV1 {
  readonly v: 1;
  readonly sessionId: string;
  readonly seq: number;
  readonly at: number;
  readonly command: SessionCommand;
  readonly revision: Digest;
  readonly prev: Digest;
  readonly hash: Digest;
}
/** A record of format v2: also commits to the whole session state (`state`). */
export interface LogRecordV2 extends Omit<LogRecordV1, 'v'> {
  readonly v: 2;
  /** `stateDigest` of the session after this record (`stateDigest.ts`). */
  readonly state: Digest;
}
type _Check1 = t.TypeOf<typeof LogRecordV1Codec> extends LogRecordV1 ? true : never;
type _Check2 = t.TypeOf<typeof LogRecordV2Codec> extends LogRecordV2 ? true : never;
const _check: [_Check1, _Check2] = [true, true];
void _check;

/** A record before hashing. */
export type UnhashedRecord = Omit<LogRecordV1, 'hash'> | Omit<LogRecordV2, 'hash'>;

/** The members a record has besides `hash`, in canonical (sorted) order, per version. */
const BODY_KEYS_V1 = ['at', 'command', 'prev', 'revision', 'seq', 'sessionId', 'v'] as const;
const BODY_KEYS_V2 = ['at', 'command', 'prev', 'revision', 'seq', 'sessionId', 'state', 'v'] as const;

/** The canonical JSON of a record member that should be a safe integer: its decimal digits, as `JSON.stringify` writes it (`writeCanonical` for anything else). */
const integerText = (v: unknown): string => (typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : writeCanonical(v));

/**
 * The canonical JSON of a record's command. A `messages_appended` (a plain
 * object with exactly `type` and `messages`), the command of almost every
 * record, is written around the text of its message list, so only the
 * messages are walked (their text is usually remembered from their digest,
 * `canonical.ts`); at the depth the general walk gives them.
 */
const commandText = (c: unknown): string => {
  if (typeof c !== 'object' || c === null || Object.getPrototypeOf(c) !== Object.prototype) return writeCanonical(c);
  const o = c as { readonly type?: unknown; readonly messages?: unknown };
  if (o.type !== 'messages_appended' || !Array.isArray(o.messages)) return writeCanonical(c);
  let n = 0;
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) return writeCanonical(c);
    n++;
  }
  if (n !== 2 || hasHiddenToJson(o)) return writeCanonical(c);
  return `{"messages":${writeCanonical(o.messages, 1)},"type":"messages_appended"}`;
};

/**
 * The canonical JSON of a record without `hash`, split where `hash` sorts in
 * (after `command`, before `prev`): `head + tail` is the hashed text. `undefined`
 * when the record has other members (the general path then serializes it).
 */
const bodyParts = (r: UnhashedRecord | LogRecord): { readonly head: string; readonly tail: string } | undefined => {
  let n = 0;
  for (const k in r) {
    if (k === 'hash') continue;
    if (!Object.prototype.hasOwnProperty.call(r, k)) return undefined;
    n++;
  }
  const bodyKeys = r.v === 2 ? BODY_KEYS_V2 : BODY_KEYS_V1;
  if (n !== bodyKeys.length) return undefined;
  const o = r as unknown as Record<string, unknown>;
  for (const k of bodyKeys) if (o[k] === undefined) return undefined;
  try {
    const state = r.v === 2 ? `,"state":${writeCanonical(o.state)}` : '';
    return {
      head: `{"at":${integerText(o.at)},"command":${commandText(o.command)}`,
      tail: `,"prev":${writeCanonical(o.prev)},"revision":${writeCanonical(o.revision)},"seq":${integerText(o.seq)},"sessionId":${writeCanonical(o.sessionId)}${state},"v":${integerText(o.v)}}`,
    };
  } catch (e) {
    if (e === BAIL || e instanceof RangeError) return undefined;
    throw e;
  }
};

/** The canonical JSON of a record without `hash` (general path). */
const bodyJson = (r: UnhashedRecord | LogRecord): string => {
  const { hash: _h, ...body } = r as LogRecord;
  return canonicalJsonUnsafe(body);
};

/** The hash of a record (its `hash` field, if present, is ignored). */
export const recordHash = (r: UnhashedRecord | LogRecord): Digest => {
  const p = bodyParts(r);
  return sha256OfUtf8(p !== undefined ? p.head + p.tail : bodyJson(r));
};

/**
 * The canonical text of records sealed here and not yet serialized
 * (`recordJson` takes it out): the body text their hash was computed from
 * with `"hash"` put in, so writing a record does not serialize it again.
 * Bounded (oldest dropped first) like the recent messages of `canonical.ts`,
 * so sealed records nobody stores (an in-memory session) cost no memory.
 */
const sealedTexts = new Map<LogRecord, string>();
const SEALED_TEXTS = 4096;
const SEALED_CHARS = 4 * 1024 * 1024;
let sealedChars = 0;

const rememberSealed = (r: LogRecord, text: string): void => {
  sealedTexts.set(r, text);
  sealedChars += text.length;
  while (sealedTexts.size > SEALED_TEXTS || (sealedChars > SEALED_CHARS && sealedTexts.size > 1)) {
    const [oldest, t] = sealedTexts.entries().next().value as [LogRecord, string];
    sealedTexts.delete(oldest);
    sealedChars -= t.length;
  }
};

/**
 * `r` with `hash`, as a literal: the members `bodyParts` found (exactly the
 * record members, `hash` aside) in the order `{ ...r, hash }` gives a record
 * made by `apply`. Spreading `r` took V8's slow object-clone path (its `at` is
 * a heap number), ~1-2 µs of every append.
 */
const withHash = (r: UnhashedRecord, hash: Digest): LogRecord =>
  r.v === 2
    ? { v: r.v, sessionId: r.sessionId, seq: r.seq, at: r.at, command: r.command, revision: r.revision, state: r.state, prev: r.prev, hash }
    : { v: r.v, sessionId: r.sessionId, seq: r.seq, at: r.at, command: r.command, revision: r.revision, prev: r.prev, hash };

/** Builds a hashed record (frozen). */
export const sealRecord = (r: UnhashedRecord): LogRecord => {
  const p = bodyParts(r);
  if (p === undefined) return Object.freeze({ ...r, hash: sha256OfUtf8(bodyJson(r)) }) as LogRecord;
  const hash = sha256OfUtf8(p.head + p.tail);
  const sealed = Object.freeze(withHash(r, hash));
  // `hash` sorts between `command` and `prev`: the whole record's canonical text.
  rememberSealed(sealed, `${p.head},"hash":"${hash}"${p.tail}`);
  return sealed;
};

/**
 * The canonical JSON (RFC 8785) of a whole record, `hash` included: the text
 * the store writes. It decodes like `JSON.stringify(record)`. For a record
 * sealed in this process it is the text its hash was computed from (taken out
 * of the memo above); otherwise it is serialized, reusing the text of messages
 * serialized for their digest moments before.
 */
export const recordJson = (r: LogRecord): string => {
  const t = sealedTexts.get(r);
  if (t === undefined) return canonicalJsonUnsafe(r);
  sealedTexts.delete(r);
  sealedChars -= t.length;
  return t;
};

/** Decodes a record (strict) by its `v` (1 or 2); another `v` is reported with path `$.v`. */
export const decodeRecord = (u: unknown): E.Either<DecodeError, LogRecord> => {
  const v = typeof u === 'object' && u !== null ? (u as { v?: unknown }).v : undefined;
  return (v === 1 ? decodeWith(LogRecordV1Codec, u) : decodeWith(LogRecordV2Codec, u)) as E.Either<DecodeError, LogRecord>;
};
