/**
 * Errors of the LevelDB store (README §4). Plain objects `{ _tag, ...fields,
 * message }`. Every async store function returns `Promise<Either<StoreError, A>>`;
 * LevelDB exceptions are caught and wrapped (`StoreIoError`, `StoreLocked`).
 * A command refused by the session layer comes back as its own `SessionError`
 * (and nothing is written).
 */
import type { SessionError } from '../session/errors.ts';

/** Another process (or another open handle) holds the store directory. */
export interface StoreLocked {
  readonly _tag: 'StoreLocked';
  readonly path: string;
  readonly message: string;
}

/** LevelDB or the file system failed (`message` says how); also a path that is not a store directory. */
export interface StoreIoError {
  readonly _tag: 'StoreIoError';
  readonly path: string;
  readonly message: string;
}

/** The store was closed before (or while) the operation ran. */
export interface StoreClosed {
  readonly _tag: 'StoreClosed';
  readonly path: string;
  readonly message: string;
}

/** No session has this id. */
export interface SessionNotFound {
  readonly _tag: 'SessionNotFound';
  readonly sessionId: string;
  readonly message: string;
}

/** `create` or a fork named an id that is taken. */
export interface SessionExists {
  readonly _tag: 'SessionExists';
  readonly sessionId: string;
  readonly message: string;
}

/** `append`'s `expectedSeq` is not the session's last seq (`actual`); nothing was written. */
export interface SeqConflict {
  readonly _tag: 'SeqConflict';
  readonly sessionId: string;
  readonly expected: number;
  readonly actual: number;
  readonly message: string;
}

/**
 * A stored value is unusable: it does not decode, its hash is wrong, the chain is
 * broken, the seq is wrong, replay diverges, or a machine state fails restore.
 * `seq` is the record or snapshot seq (0 for the session header).
 */
export interface CorruptRecord {
  readonly _tag: 'CorruptRecord';
  readonly sessionId: string;
  readonly seq: number;
  readonly reason: string;
  readonly message: string;
}

/** A stored value has a format version this code does not know (fail closed). */
export interface UnsupportedVersion {
  readonly _tag: 'UnsupportedVersion';
  readonly sessionId?: string;
  readonly seq?: number;
  /** The version found (`null` when the value has none). */
  readonly found: unknown;
  readonly expected: number;
  readonly what: 'record' | 'snapshot' | 'store';
  readonly message: string;
}

/** The session never had this revision as its head. */
export interface RevisionNotFound {
  readonly _tag: 'RevisionNotFound';
  readonly sessionId: string;
  readonly revision: string;
  readonly message: string;
}

/** A seq outside `[1, lastSeq]` (or a range whose ends are out of order). */
export interface SeqOutOfRange {
  readonly _tag: 'SeqOutOfRange';
  readonly sessionId: string;
  readonly seq: number;
  readonly lastSeq: number;
  readonly message: string;
}

/** A session id that cannot be used in a key (empty, `/`, control characters, too long). */
export interface InvalidSessionId {
  readonly _tag: 'InvalidSessionId';
  readonly sessionId: string;
  readonly reason: string;
  readonly message: string;
}

/** Any other argument the store refuses (`argument` names it). */
export interface InvalidArgument {
  readonly _tag: 'InvalidArgument';
  readonly argument: string;
  readonly reason: string;
  readonly message: string;
}

/** No blob has this id. */
export interface BlobNotFound {
  readonly _tag: 'BlobNotFound';
  readonly blobId: string;
  readonly message: string;
}

/** A stored blob does not hash to its id, or is malformed. */
export interface CorruptBlob {
  readonly _tag: 'CorruptBlob';
  readonly blobId: string;
  readonly reason: string;
  readonly message: string;
}

/** Everything a store function can return as `Left`. */
export type StoreError =
  | StoreLocked
  | StoreIoError
  | StoreClosed
  | SessionNotFound
  | SessionExists
  | SeqConflict
  | CorruptRecord
  | UnsupportedVersion
  | RevisionNotFound
  | SeqOutOfRange
  | InvalidSessionId
  | InvalidArgument
  | BlobNotFound
  | CorruptBlob
  | SessionError;

/** Builds a `StoreLocked`. */
export const storeLocked = (path: string): StoreLocked => ({
  _tag: 'StoreLocked',
  path,
  message: `the store at ${path} is locked: another process (or another open store) is using it`,
});

/** Builds a `StoreIoError`. */
export const storeIoError = (path: string, message: string): StoreIoError => ({ _tag: 'StoreIoError', path, message: `store ${path}: ${message}` });

/** Builds a `StoreClosed`. */
export const storeClosed = (path: string): StoreClosed => ({ _tag: 'StoreClosed', path, message: `the store at ${path} is closed` });

/** Builds a `SessionNotFound`. */
export const sessionNotFound = (sessionId: string): SessionNotFound => ({ _tag: 'SessionNotFound', sessionId, message: `no session ${JSON.stringify(sessionId)}` });

/** Builds a `SessionExists`. */
export const sessionExists = (sessionId: string): SessionExists => ({ _tag: 'SessionExists', sessionId, message: `session ${JSON.stringify(sessionId)} already exists` });

/** Builds a `SeqConflict`. */
export const seqConflict = (sessionId: string, expected: number, actual: number): SeqConflict => ({
  _tag: 'SeqConflict',
  sessionId,
  expected,
  actual,
  message: `session ${sessionId}: expected last seq ${expected}, the store has ${actual}`,
});

/** Builds a `CorruptRecord`. */
export const corruptRecord = (sessionId: string, seq: number, reason: string): CorruptRecord => ({
  _tag: 'CorruptRecord',
  sessionId,
  seq,
  reason,
  message: `corrupt data in session ${sessionId} at seq ${seq}: ${reason}`,
});

/** Builds an `UnsupportedVersion`. */
export const unsupportedVersion = (what: UnsupportedVersion['what'], found: unknown, expected: number, where: { sessionId?: string; seq?: number } = {}): UnsupportedVersion => ({
  _tag: 'UnsupportedVersion',
  ...(where.sessionId !== undefined ? { sessionId: where.sessionId } : {}),
  ...(where.seq !== undefined ? { seq: where.seq } : {}),
  found: found === undefined ? null : found,
  expected,
  what,
  message: `unsupported ${what} version ${JSON.stringify(found ?? null)} (this code reads version ${expected})${where.sessionId !== undefined ? ` in session ${where.sessionId}` : ''}${where.seq !== undefined ? ` at seq ${where.seq}` : ''}`,
});

/** Builds a `RevisionNotFound`. */
export const revisionNotFound = (sessionId: string, revision: string): RevisionNotFound => ({
  _tag: 'RevisionNotFound',
  sessionId,
  revision,
  message: `session ${sessionId} never had revision ${revision} as its head`,
});

/** Builds a `SeqOutOfRange`. */
export const seqOutOfRange = (sessionId: string, seq: number, lastSeq: number): SeqOutOfRange => ({
  _tag: 'SeqOutOfRange',
  sessionId,
  seq,
  lastSeq,
  message: `seq ${seq} is out of range for session ${sessionId} (records 1..${lastSeq})`,
});

/** Builds an `InvalidSessionId`. */
export const invalidSessionId = (sessionId: unknown, reason: string): InvalidSessionId => ({
  _tag: 'InvalidSessionId',
  sessionId: typeof sessionId === 'string' ? sessionId : String(sessionId),
  reason,
  message: `invalid session id ${typeof sessionId === 'string' ? JSON.stringify(sessionId) : String(sessionId)}: ${reason}`,
});

/** Builds an `InvalidArgument`. */
export const invalidArgument = (argument: string, reason: string): InvalidArgument => ({ _tag: 'InvalidArgument', argument, reason, message: `invalid ${argument}: ${reason}` });

/** Builds a `BlobNotFound`. */
export const blobNotFound = (blobId: string): BlobNotFound => ({ _tag: 'BlobNotFound', blobId, message: `no blob ${blobId}` });

/** Builds a `CorruptBlob`. */
export const corruptBlob = (blobId: string, reason: string): CorruptBlob => ({ _tag: 'CorruptBlob', blobId, reason, message: `corrupt blob ${blobId}: ${reason}` });

const codeOf = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : undefined;

const messageOf = (e: unknown): string => {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error && cause.message !== e.message ? `${e.message}: ${cause.message}` : e.message;
  }
  return String(e);
};

/** Whether a LevelDB error (or its `cause`, as classic-level reports it on open) is `LEVEL_LOCKED`. */
export const isLockedError = (e: unknown): boolean => {
  if (codeOf(e) === 'LEVEL_LOCKED') return true;
  const cause = typeof e === 'object' && e !== null ? (e as { cause?: unknown }).cause : undefined;
  return codeOf(cause) === 'LEVEL_LOCKED';
};

/** Maps an exception from LevelDB to `StoreLocked`, `StoreClosed` or `StoreIoError` (message only, no stack). */
export const fromLevelError = (path: string, e: unknown): StoreLocked | StoreClosed | StoreIoError => {
  if (isLockedError(e)) return storeLocked(path);
  const code = codeOf(e);
  if (code === 'LEVEL_DATABASE_NOT_OPEN' && (e as { cause?: unknown }).cause === undefined) return storeClosed(path);
  return storeIoError(path, messageOf(e));
};
