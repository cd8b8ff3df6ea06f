/**
 * Errors of the session aggregate (README §2–3, machines.md §0, revisions.md).
 * Plain objects `{ _tag, ...fields, message }`; the machine and transcript
 * modules define their own, and `SessionError` is the union of everything a
 * session method can return.
 */
import type { DecodeError, DecodeReason } from '../model/decode.ts';
import type { MachineStateInvalid } from '../machines/common.ts';
import type { InvalidRealtimeEvent } from '../machines/realtime.ts';
import type { SessionArchived } from '../machines/lifecycle.ts';
import type { MachineError } from '../machines/registry.ts';
import type { LazyReadError, TranscriptRewriteError, HistoryStateMalformed, MessageIndexOutOfBounds, MessageRoleMismatch, BlockIndexOutOfBounds, InvalidTranscriptShape } from '../transcript/index.ts';

/** A command (from a caller or a log) does not decode; `path` and `reason` as in `DecodeError`. */
export interface InvalidCommand {
  readonly _tag: 'InvalidCommand';
  readonly path: string;
  readonly reason: DecodeReason;
  readonly message: string;
}

/** A user metadata write named a reserved key (`palimpsest` or `palimpsest.*`, ASCII case-insensitive). */
export interface ReservedMetadataKey {
  readonly _tag: 'ReservedMetadataKey';
  readonly key: string;
  readonly message: string;
}

/** `usage_recorded` got an invalid usage or the running total would leave the safe-integer range. */
export interface InvalidUsage {
  readonly _tag: 'InvalidUsage';
  readonly path: string;
  readonly reason: string;
  readonly message: string;
}

/** A replayed record's recomputed `revision` differs from the stored one (fail closed). */
export interface ReplayDivergence {
  readonly _tag: 'ReplayDivergence';
  readonly sessionId: string;
  readonly seq: number;
  readonly expected: string;
  readonly actual: string;
  readonly message: string;
}

/** A log does not form a valid chain: wrong session id, seq gap, broken `prev`, bad `hash`, misplaced genesis. */
export interface BrokenLog {
  readonly _tag: 'BrokenLog';
  readonly sessionId: string;
  readonly seq: number;
  readonly reason: string;
  readonly message: string;
}

/** A fork genesis needs the parent state at `from.seq`, and the one given is not it. */
export interface ForkParentMismatch {
  readonly _tag: 'ForkParentMismatch';
  readonly sessionId: string;
  readonly expected: { readonly sessionId: string; readonly seq: number; readonly hash: string };
  readonly message: string;
}

/**
 * Everything a session method, `reduce` or `replay` can return as `Left`: the
 * core errors and every registered machine's (`MachineError`, from each
 * registry entry's step and guard).
 */
export type SessionError = CoreSessionError | MachineError;

/** The errors that are not a machine step's or guard's. */
export type CoreSessionError =
  | InvalidCommand
  | ReservedMetadataKey
  | InvalidUsage
  | ReplayDivergence
  | BrokenLog
  | ForkParentMismatch
  | MachineStateInvalid
  | InvalidRealtimeEvent
  | TranscriptRewriteError
  | HistoryStateMalformed
  | MessageIndexOutOfBounds
  | MessageRoleMismatch
  | BlockIndexOutOfBounds
  | InvalidTranscriptShape
  | LazyReadError;

/**
 * Errors of `commitTranscriptRewrite` and `replaceSyntheticNotices` (revisions.md §3, machines.md §5),
 * plus `LazyReadError` when the edit needs a lazily loaded chunk of a stored session that cannot be read.
 */
export type TranscriptEditError = TranscriptRewriteError | InvalidTranscriptShape | SessionArchived | InvalidCommand | LazyReadError;

/** Builds an `InvalidCommand` from a decode failure. */
export const invalidCommand = (e: DecodeError): InvalidCommand => ({ _tag: 'InvalidCommand', path: e.path, reason: e.reason, message: `invalid command: ${e.message}` });

/** Builds a `ReservedMetadataKey`. */
export const reservedMetadataKey = (key: string): ReservedMetadataKey => ({
  _tag: 'ReservedMetadataKey',
  key,
  message: `metadata key ${JSON.stringify(key)} is reserved for palimpsest machine state`,
});

/** Builds a `BrokenLog`. */
export const brokenLog = (sessionId: string, seq: number, reason: string): BrokenLog => ({
  _tag: 'BrokenLog',
  sessionId,
  seq,
  reason,
  message: `log of session ${sessionId} is broken at seq ${seq}: ${reason}`,
});
