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
import type { Message } from '../model/message.ts';
import type { Usage } from '../model/usage.ts';
import type { Transcript } from '../transcript/index.ts';

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

/** The name of a machine whose state lives under a reserved `palimpsest.*` key (a registry entry's `name`, or `transcriptHistory`). */
export type MachineName = string;

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

/** The read-only part of the session a machine's view is built from (its own state aside). */
export interface SessionView {
  /** The session id (names the session in errors). */
  readonly id: string;
  readonly transcript: Transcript;
}

/**
 * What a machine step asks of the session besides its own next state, applied
 * by the session reducer in the same record, in this order: the leading system
 * message's text (inserted when there is none; the same text changes nothing),
 * messages appended through the session's one append path (shape rule, record
 * time already set), usage added to the cumulative usage (`InvalidUsage` on
 * overflow). Absent members change nothing.
 */
export interface SessionEffects {
  readonly systemPrompt?: string;
  readonly messages?: readonly Message[];
  readonly usage?: Usage;
}

/** A machine step's result split for the session: what the caller gets and the effects on the session. */
export interface MachineOutput<R> {
  readonly result: R;
  readonly effects?: SessionEffects;
}

/** `fold` of a machine whose step result goes to the caller unchanged and asks nothing of the session. */
export const resultOnly = <R>(result: R): MachineOutput<R> => ({ result });

/**
 * The choices a machine's law samples are drawn with (`MachineEntry.laws`).
 * The law harness (`spec/machines/laws.ts`) implements it with fast-check's
 * `gen`, so samples shrink; the core does not depend on fast-check.
 */
export interface LawPick {
  /** One of `options` (non-empty). */
  one<T>(options: readonly T[]): T;
  bool(): boolean;
  /** An integer in `[min, max]`. */
  int(min: number, max: number): number;
  /** A sub-list of `options`, in their order. */
  some<T>(options: readonly T[]): T[];
  /** A sub-list of `options` in any order. */
  shuffled<T>(options: readonly T[]): T[];
  /** Between `min` (default 0) and `max` values of `make()`. */
  many<T>(make: () => T, opts: { readonly min?: number; readonly max: number }): T[];
}

/**
 * Representative inputs of a machine for the laws every machine obeys: a
 * generator of usually well-formed commands over small alphabets (names, keys
 * and ids collide often, so state builds up, and some commands are refused) and,
 * when the step reads a view, a generator of views (default: `initialView`).
 * The harness mixes in malformed commands itself.
 */
export interface LawSamples<C, V> {
  readonly command: (pick: LawPick) => C;
  readonly view?: (pick: LawPick) => V;
}

/** Texts the law samples draw from: empty, blank, plain, non-ASCII and a markdown rule. */
export const LAW_SAMPLE_TEXTS: readonly string[] = ['', ' ', 'draft the release notes', '«alpha» v1', 'x\n\n---y'];
