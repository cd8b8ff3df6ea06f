/**
 * Lifecycle (machines.md §3), state key `palimpsest.lifecycle`.
 *
 * Archiving freezes a session for audit or retention: an archived session is
 * read-only until an explicit, recorded `session_revived`. The session runs
 * `lifecycleGuard` before every command other than these two (after the command
 * codec, before the machine step).
 *
 * | command                        | `active`                                | `archived`                              |
 * | ------------------------------ | --------------------------------------- | --------------------------------------- |
 * | `session_archived { reason? }` | -> `archived`, `archivedAt = ctx.at`; `'archived'` | inert; `'already_archived'` (the stored reason is kept) |
 * | `session_revived`              | `SessionNotArchived`                    | -> `active`; `'revived'`                |
 * | any other command              | normal rules (`lifecycleGuard` passes)  | `SessionArchived` (`lifecycleGuard`)    |
 *
 * A fork starts `active` (`initialLifecycle`).
 */
import type * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith, dispatch, literal, nat, str, strict } from '../model/decode.ts';
import { stateDecodeFailed, stepOk, type LawSamples, type MachineStateInvalid, type StepContext, type StepResult } from './common.ts';

/** `{ status: 'active' }` or `{ status: 'archived', archivedAt, reason? }`. */
export const LifecycleStateCodec = dispatch('LifecycleState', 'status', {
  active: strict('ActiveLifecycle', { status: literal('active') }),
  archived: strict('ArchivedLifecycle', { status: literal('archived'), archivedAt: nat }, { reason: str }),
});
/** The lifecycle state. */
export type LifecycleState = t.TypeOf<typeof LifecycleStateCodec>;

/** `{ status: 'active' }`: every new session and every fork. */
export const initialLifecycle: LifecycleState = Object.freeze({ status: 'active' });

/** Strict codecs of the lifecycle commands, by `type`. */
export const lifecycleCommandCodecs = {
  session_archived: strict('SessionArchivedCommand', { type: literal('session_archived') }, { reason: str }),
  session_revived: strict('SessionRevivedCommand', { type: literal('session_revived') }),
} as const;

/** Any lifecycle command, decoded by dispatch on `type`. */
export const LifecycleCommandCodec = dispatch('LifecycleCommand', 'type', lifecycleCommandCodecs);
/** Any lifecycle command. */
export type LifecycleCommand = t.TypeOf<(typeof lifecycleCommandCodecs)[keyof typeof lifecycleCommandCodecs]>;

/** The result of each command. */
export interface LifecycleResults {
  readonly session_archived: 'archived' | 'already_archived';
  readonly session_revived: 'revived';
}
/** The result of command `C`. */
export type LifecycleResult<C extends LifecycleCommand = LifecycleCommand> = LifecycleResults[C['type']];

/** A write to an archived session. */
export interface SessionArchived {
  readonly _tag: 'SessionArchived';
  readonly sessionId: string;
  readonly message: string;
}
/** `session_revived` on a session that is not archived. */
export interface SessionNotArchived {
  readonly _tag: 'SessionNotArchived';
  readonly sessionId: string;
  readonly message: string;
}
/** Every error a lifecycle step returns. */
export type LifecycleError = SessionNotArchived;

/** Builds a `SessionArchived`. */
export const sessionArchived = (sessionId: string): SessionArchived => ({
  _tag: 'SessionArchived',
  sessionId,
  message: `session ${sessionId} is archived and read-only; revive it to write`,
});
/** Builds a `SessionNotArchived`. */
export const sessionNotArchived = (sessionId: string): SessionNotArchived => ({
  _tag: 'SessionNotArchived',
  sessionId,
  message: `session ${sessionId} is not archived; there is nothing to revive`,
});

/** Whether a command type is one of the lifecycle commands (which the guard does not apply to). */
export const isLifecycleCommandType = (type: string): type is LifecycleCommand['type'] =>
  Object.prototype.hasOwnProperty.call(lifecycleCommandCodecs, type);

/** `Left(SessionArchived)` when archived; the session runs it before every non-lifecycle command. */
export const lifecycleGuard = (state: LifecycleState, sessionId: string): E.Either<SessionArchived, void> =>
  state.status === 'archived' ? E.left(sessionArchived(sessionId)) : E.right(undefined);

type Out<C extends LifecycleCommand> = E.Either<LifecycleError, StepResult<LifecycleState, LifecycleResult<C>>>;

/**
 * Applies one decoded lifecycle command (table above). `sessionId` (default
 * `ctx.sessionId`) names the session in errors. Inert: the input state object.
 */
export const stepLifecycle = <C extends LifecycleCommand>(state: LifecycleState, command: C, ctx: StepContext, sessionId: string = ctx.sessionId): Out<C> => {
  const out = (): E.Either<LifecycleError, StepResult<LifecycleState, LifecycleResult>> => {
    switch (command.type) {
      case 'session_archived': {
        if (state.status === 'archived') return stepOk(state, 'already_archived');
        const next: LifecycleState = command.reason === undefined ? { status: 'archived', archivedAt: ctx.at } : { status: 'archived', archivedAt: ctx.at, reason: command.reason };
        return stepOk(Object.freeze(next), 'archived');
      }
      case 'session_revived':
        if (state.status !== 'archived') return E.left(sessionNotArchived(sessionId));
        return stepOk(initialLifecycle, 'revived');
    }
  };
  return out() as Out<C>;
};

/**
 * Decodes a stored lifecycle state (status `active`, or `archived` with a
 * non-negative safe-integer `archivedAt` and an optional string `reason`; no other
 * fields).
 */
export const restoreLifecycle = (u: unknown): E.Either<MachineStateInvalid, LifecycleState> => {
  const decoded = decodeWith(LifecycleStateCodec, u);
  return E.isLeft(decoded) ? E.left(stateDecodeFailed('lifecycle', decoded.left)) : decoded;
};

/** Law samples (`LawSamples`): archive with and without a reason, revive; the view is the session id errors name. */
export const lifecycleLawSamples: LawSamples<LifecycleCommand, string> = {
  command: (pick) => {
    if (pick.bool()) return { type: 'session_revived' };
    return pick.bool() ? { type: 'session_archived' } : { type: 'session_archived', reason: pick.one(['done', '']) };
  },
};
