/**
 * The one write primitive (README §2):
 *
 *     apply(state, command, ctx) : Either<SessionError, { state, record?, result }>
 *
 * Stamps messages without `createdAt` with `ctx.at`, decodes the command by
 * its strict codec (`InvalidCommand`), reduces it (`applyAt`: lifecycle guard,
 * the command's rule or machine step) and, unless the outcome is inert, seals
 * the record `{ v: 2, sessionId, seq, at, command, revision, state, prev }`.
 * Pure: time and the fork parent come in `ctx`. Every write path — `Session`'s
 * methods, `store.append`, the engine — goes through here once per command;
 * replay (`replay.ts`) checks stored records with the same reducer.
 */
import * as E from 'fp-ts/lib/Either.js';
import { transcriptRevision } from '../transcript/index.ts';
import { decodeCommand, stampCommandMessages, type SessionCommand } from './commands.ts';
import type { SessionError } from './errors.ts';
import { GENESIS_PREV, RECORD_VERSION, sealRecord, type LogRecord } from './record.ts';
import { applyAt } from './reduce.ts';
import type { ResultOfInput } from './results.ts';
import type { SessionState } from './state.ts';
import { stateDigest } from './stateDigest.ts';

/** Where a command is applied: the record time and, for a fork genesis, the parent's state at the fork point. */
export interface ApplyContext {
  /** Record time, ms since epoch (the shell passes `max(clock(), previous record's at)`). */
  readonly at: number;
  /** The parent's state at the fork point; needed by a `session_forked` genesis only. */
  readonly parent?: SessionState;
}

/**
 * What one command did: the next state (the input object when inert, else with
 * `head` = the new record's hash), the sealed record (absent when inert) and
 * the caller's result.
 */
export interface CommandOutcome<R> {
  readonly state: SessionState;
  readonly record?: LogRecord;
  readonly result: R;
}

/**
 * Applies one command to `state` at `ctx.at`: stamp, decode, reduce, seal.
 * Errors: `InvalidCommand` (the codec, naming the path), `SessionArchived`, and
 * the command's own errors (see `SessionError`). An inert outcome returns
 * `state` itself and no record. A typed command (`builders.ts`) has a typed
 * result (`ResultOf`); a value of unknown shape (JSON, a JS caller) is decoded
 * all the same and its result is `unknown`.
 */
export const apply = <C>(state: SessionState, command: C, ctx: ApplyContext): E.Either<SessionError, CommandOutcome<ResultOfInput<C>>> => {
  const decoded = decodeCommand(stampCommandMessages(command, ctx.at));
  if (E.isLeft(decoded)) return decoded;
  // The reducer's result for a command of type T is `CommandResults[T]` (`results.ts` mirrors `reduce.ts`).
  return applyDecoded(state, decoded.right, ctx) as E.Either<SessionError, CommandOutcome<ResultOfInput<C>>>;
};

/** `apply` for a command already decoded by `SessionCommandCodec`. */
export const applyDecoded = (state: SessionState, command: SessionCommand, ctx: ApplyContext): E.Either<SessionError, CommandOutcome<unknown>> => {
  const seq = state.seq + 1;
  const r = applyAt(state, command, { sessionId: state.id, seq, at: ctx.at }, ctx.parent);
  if (E.isLeft(r)) return r;
  if (r.right.state === state) return E.right({ state, result: r.right.result });
  const after = r.right.state;
  const prev = seq === 1 ? (command.type === 'session_forked' ? command.from.hash : GENESIS_PREV) : state.head;
  const record = sealRecord({ v: RECORD_VERSION, sessionId: state.id, seq, at: ctx.at, command, revision: transcriptRevision(after.transcript), state: stateDigest(after), prev });
  return E.right({ state: { ...after, head: record.hash }, record, result: r.right.result });
};
