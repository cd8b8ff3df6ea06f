/**
 * The control machines as values: one entry per machine (name, reserved
 * metadata key, initial state, command codecs, step, restore, error tags).
 *
 * Everything that lists the machines reads this registry: the session command
 * union (`session/commands.ts` spreads `machineCommandCodecs`), the machine
 * fields of the session state and their initial values (`session/state.ts`),
 * the reserved metadata keys (`session/metadata.ts`), snapshots (each state
 * stored and restored under its key, `store/snapshot.ts`), the state digest's
 * parts (`session/stateDigest.ts`) and the law harness every machine spec runs
 * (`spec/machines/laws.ts`). How a machine's output folds into the session
 * (a rendered prompt, committed realtime messages) is the session reducer's
 * job (`session/reduce.ts`).
 *
 * Adding a machine: write its module (state, codecs, step, restore), add its
 * entry here, fold its commands in `reduce.ts`.
 */
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import type { Codec } from '../model/decode.ts';
import type { MachineStateInvalid, StepContext, StepResult } from './common.ts';
import { deferredTurnCommandCodecs, initialDeferredTurn, restoreDeferredTurn, stepDeferredTurn, type DeferredTurnState, type DeferredTurnView } from './deferredTurn.ts';
import { initialSystemContext, restoreSystemContext, stepSystemContext, systemContextCommandCodecs, type SystemContextState, type SystemContextView } from './systemContext.ts';
import { initialToolVisibility, restoreToolVisibility, stepToolVisibility, TOOL_VISIBILITY_ERROR_TAGS, toolVisibilityCommandCodecs, type ToolVisibilityState } from './toolVisibility.ts';
import { applyRealtime, initialRealtimeState, realtimeCommandCodecs, restoreRealtimeState, type RealtimeGate, type RealtimeState } from './realtime.ts';
import { initialLifecycle, lifecycleCommandCodecs, restoreLifecycle, stepLifecycle, type LifecycleState } from './lifecycle.ts';

/** A machine's failure: a tagged error value with a message. */
export interface MachineFailure {
  readonly _tag: string;
  readonly message: string;
}

/**
 * One control machine (machines.md §0): a pure reducer over a small state.
 * `step` is the machine's own step over its state, given the read-only `view`
 * of the session it needs; an inert outcome returns the input state object.
 */
export interface MachineEntry<Name extends string, S, Codecs extends Record<string, Codec<any>>, V> {
  readonly name: Name;
  /** The key its state is stored under in snapshots and flattened documents. */
  readonly reservedKey: `palimpsest.${Name}`;
  /** The state of a new session and of every fork child. */
  readonly initial: S;
  /** Strict codecs of its commands, by `type`. */
  readonly commandCodecs: Codecs;
  readonly step: (state: S, command: t.TypeOf<Codecs[keyof Codecs]>, ctx: StepContext, view: V) => E.Either<MachineFailure, StepResult<S, unknown>>;
  /** Decodes a stored state and checks its invariants (`MachineStateInvalid` otherwise; never throws). */
  readonly restore: (u: unknown) => E.Either<MachineStateInvalid, S>;
  /** Every `_tag` `step` may return. */
  readonly errorTags: readonly string[];
  /** The view a fresh session gives `step`. */
  readonly initialView: V;
}

const entry = <Name extends string, S, Codecs extends Record<string, Codec<any>>, V>(e: MachineEntry<Name, S, Codecs, V>): MachineEntry<Name, S, Codecs, V> => e;

/** The machines, in the order snapshots restore them. */
export const machines = {
  deferredTurn: entry({
    name: 'deferredTurn',
    reservedKey: 'palimpsest.deferredTurn',
    initial: initialDeferredTurn as DeferredTurnState,
    commandCodecs: deferredTurnCommandCodecs,
    step: stepDeferredTurn,
    restore: restoreDeferredTurn,
    errorTags: ['FirstTurnAlreadyStarted', 'FirstTurnNotPending', 'NoRevertibleTurnStart'],
    initialView: { hasConversationMessages: false } as DeferredTurnView,
  }),
  systemContext: entry({
    name: 'systemContext',
    reservedKey: 'palimpsest.systemContext',
    initial: initialSystemContext as SystemContextState,
    commandCodecs: systemContextCommandCodecs,
    step: stepSystemContext,
    restore: restoreSystemContext,
    errorTags: ['SystemContextInvalid', 'SystemContextEmpty', 'SystemContextConflict'],
    initialView: { systemPrompt: undefined } as SystemContextView,
  }),
  toolVisibility: entry({
    name: 'toolVisibility',
    reservedKey: 'palimpsest.toolVisibility',
    initial: initialToolVisibility as ToolVisibilityState,
    commandCodecs: toolVisibilityCommandCodecs,
    step: (state, command, ctx) => stepToolVisibility(state, command, ctx),
    restore: restoreToolVisibility,
    errorTags: TOOL_VISIBILITY_ERROR_TAGS,
    initialView: undefined,
  }),
  realtime: entry({
    name: 'realtime',
    reservedKey: 'palimpsest.realtime',
    initial: initialRealtimeState as RealtimeState,
    commandCodecs: realtimeCommandCodecs,
    step: (state, command, ctx, gate) => E.right(applyRealtime(state, command, ctx, gate)),
    restore: restoreRealtimeState,
    errorTags: [],
    initialView: { awaitingToolResults: false } as RealtimeGate,
  }),
  lifecycle: entry({
    name: 'lifecycle',
    reservedKey: 'palimpsest.lifecycle',
    initial: initialLifecycle as LifecycleState,
    commandCodecs: lifecycleCommandCodecs,
    step: (state, command, ctx) => stepLifecycle(state, command, ctx),
    restore: restoreLifecycle,
    errorTags: ['SessionNotArchived'],
    initialView: undefined,
  }),
} as const;

/** The registry's type. */
export type Machines = typeof machines;
/** A registered machine's name (the session state field holding its state). */
export type RegisteredMachine = keyof Machines;
/** The state type of a registered machine. */
export type MachineStateOf<K extends RegisteredMachine> = Machines[K]['initial'];
/** Every machine's state, by name: the machine fields of the session state. */
export type MachineStates = { readonly [K in RegisteredMachine]: MachineStateOf<K> };
/** Any registry entry. */
export type AnyMachineEntry = Machines[RegisteredMachine];

/** The entries as a list, in registry order. */
export const machineList: readonly AnyMachineEntry[] = Object.values(machines);

/** The initial state of every machine. */
export const initialMachineStates: MachineStates = Object.freeze(
  Object.fromEntries(machineList.map((m) => [m.name, m.initial])) as unknown as MachineStates,
);

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** Every machine's command codecs, by `type` (the machine part of the session command union). */
export type MachineCommandCodecs = UnionToIntersection<Machines[RegisteredMachine]['commandCodecs']>;

/** Every machine's command codecs, by `type`. */
export const machineCommandCodecs: MachineCommandCodecs = Object.freeze(
  Object.assign({}, ...machineList.map((m) => m.commandCodecs)) as MachineCommandCodecs,
);

/** Each machine's reserved key, by machine name. */
export type MachineReservedKeys = { readonly [K in RegisteredMachine]: Machines[K]['reservedKey'] };

/** Each machine's reserved key, by machine name. */
export const machineReservedKeys: MachineReservedKeys = Object.freeze(
  Object.fromEntries(machineList.map((m) => [m.name, m.reservedKey])) as unknown as MachineReservedKeys,
);

/**
 * Every machine's state restored from what `read` returns for its reserved key,
 * in registry order. The first failure is `Left({ key, error })`.
 */
export const restoreMachineStates = (read: (reservedKey: string) => unknown): E.Either<{ readonly key: string; readonly error: MachineStateInvalid }, MachineStates> => {
  const out: Record<string, unknown> = {};
  for (const m of machineList) {
    const r = m.restore(read(m.reservedKey));
    if (E.isLeft(r)) return E.left({ key: m.reservedKey, error: r.left });
    out[m.name] = r.right;
  }
  return E.right(out as unknown as MachineStates);
};
