/**
 * What every control machine shares (machines.md §0).
 *
 * A machine is a pure reducer
 *
 *     step(state, command, ctx) : Either<E, { state, result }>
 *
 * over a small plain state updated with immer's `produce`. `ctx` comes from the
 * log record being accepted or replayed; no reducer reads a clock. An *inert*
 * outcome is a `Right` whose `state` is the very input object (immer returns the
 * input when a recipe changes nothing): the session then records nothing, keeps
 * `updatedAt`, and still hands the caller the result.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { DecodeError } from '../model/decode.ts';

/** Where a command is being applied: the record's session id, seq and time (ms). */
export interface StepContext {
  readonly sessionId: string;
  readonly seq: number;
  readonly at: number;
}

/** A machine step's output: the next state (the same object when inert) and the caller's result. */
export interface StepResult<S, R> {
  readonly state: S;
  readonly result: R;
}

/** The machines whose state lives under a reserved `palimpsest.*` key. */
export type MachineName = 'deferredTurn' | 'systemContext' | 'toolVisibility' | 'realtime' | 'lifecycle' | 'transcriptHistory';

/** A stored or supplied machine state breaks its codec or an invariant; `reason` names the rule. */
export interface MachineStateInvalid {
  readonly _tag: 'MachineStateInvalid';
  readonly machine: MachineName;
  readonly reason: string;
  readonly message: string;
}

/** Builds a `MachineStateInvalid`. */
export const machineStateInvalid = (machine: MachineName, reason: string): MachineStateInvalid => ({
  _tag: 'MachineStateInvalid',
  machine,
  reason,
  message: `invalid ${machine} state: ${reason}`,
});

/** Maps a codec failure on a machine state to `MachineStateInvalid` (path and reason kept in `reason`). */
export const stateDecodeFailed = (machine: MachineName, e: DecodeError): MachineStateInvalid => machineStateInvalid(machine, `decode: ${e.message}`);

/** `Right({ state, result })`. */
export const stepOk = <S, R>(state: S, result: R): E.Either<never, StepResult<S, R>> => E.right({ state, result });

/** Whether a step was inert (returned its input state object). */
export const isInert = <S>(before: S, r: StepResult<S, unknown>): boolean => r.state === before;
