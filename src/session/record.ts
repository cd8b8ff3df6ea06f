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
import { canonicalBytes } from '../model/json.ts';
import { DigestCodec, sha256Digest, type Digest } from '../model/index.ts';
import { SessionCommandCodec, type SessionCommand } from './commands.ts';

/** The record format version this code writes and reads; anything else fails closed. */
export const RECORD_VERSION = 1 as const;

/** `prev` of a root session's first record. */
export const GENESIS_PREV: Digest = `sha256:${'0'.repeat(64)}`;

/** A log record: `{ v: 1, sessionId, seq (1, 2, …), at (ms), command, revision, prev, hash }`. */
export const LogRecordCodec = strict('LogRecord', {
  v: literal(RECORD_VERSION),
  sessionId: nonEmptyStr,
  seq: positive,
  at: nat,
  command: SessionCommandCodec,
  revision: DigestCodec,
  prev: DigestCodec,
  hash: DigestCodec,
});
/** A log record. */
export interface LogRecord {
  readonly v: typeof RECORD_VERSION;
  readonly sessionId: string;
  readonly seq: number;
  readonly at: number;
  readonly command: SessionCommand;
  readonly revision: Digest;
  readonly prev: Digest;
  readonly hash: Digest;
}
type _Check = t.TypeOf<typeof LogRecordCodec> extends LogRecord ? true : never;
const _check: _Check = true;
void _check;

/** A record before hashing. */
export type UnhashedRecord = Omit<LogRecord, 'hash'>;

/** The hash of a record (its `hash` field, if present, is ignored). */
export const recordHash = (r: UnhashedRecord | LogRecord): Digest => {
  const { hash: _h, ...body } = r as LogRecord;
  return sha256Digest(canonicalBytes(body));
};

/** Builds a hashed record. */
export const sealRecord = (r: UnhashedRecord): LogRecord => Object.freeze({ ...r, hash: recordHash(r) });

/** Decodes a record (strict); a wrong `v` is reported with path `$.v`. */
export const decodeRecord = (u: unknown): E.Either<DecodeError, LogRecord> => decodeWith(LogRecordCodec, u) as E.Either<DecodeError, LogRecord>;
