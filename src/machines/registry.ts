/**
 * The control machines as values: one entry per machine says everything the
 * rest of the code needs to know about it.
 *
 * An entry (`MachineEntry`) holds the machine's name, the reserved metadata key
 * its state is stored under, its initial state, its command codecs, its step,
 * its restore, its error tags, how the session shows itself to the step
 * (`view`), how the step's result folds back into the session (`fold`, as
 * `SessionEffects`), an optional `guard` run before every other command and an
 * optional reaction to messages the session appends (`onMessagesAppended`), and
 * its law samples (`laws`).
 *
 * Everything that lists the machines reads a registry value (`machines` below,
 * or any other `MachineRegistry` given to the functions that take one): the
 * session command union (`session/commands.ts` spreads `machineCommandCodecs`),
 * the machine fields of the session state and their initial values
 * (`session/state.ts`), the reserved metadata keys (`session/metadata.ts`), the
 * session reducer, which routes every machine command through
 * `commandOwners` and folds its output generically (`session/machineStep.ts`),
 * snapshots (each state stored and restored under its key,
 * `store/snapshot.ts`), the state digest's parts (`session/stateDigest.ts`),
 * the command results and errors (`ResultOf`, `SessionError`) and the law
 * harness, which runs over every entry (`spec/machines/laws.spec.ts`).
 *
 * Adding a machine: write its module (state and its codec-backed `restore`,
 * command codecs, step, view, fold, law samples) and add its entry here. Nothing
 * else changes: the command union, the state, snapshots, the state digest,
 * reserved keys, routing, results, errors and the laws follow from the entry.
 * (Existing stores are another matter: a new machine's state is one more part
 * of every record's state digest and one more reserved key in every snapshot,
 * so records and snapshots written before it no longer match; giving a store
 * with data a new machine is a record-format change and needs a migration.)
 */
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import type { Codec } from '../model/decode.ts';
import type { Message } from '../model/message.ts';
import { resultOnly, type LawSamples, type MachineOutput, type MachineStateInvalid, type SessionView, type StepContext, type StepResult } from './common.ts';
import {
  deferredTurnCommandCodecs,
  deferredTurnLawSamples,
  deferredTurnOnMessagesAppended,
  deferredTurnView,
  initialDeferredTurn,
  restoreDeferredTurn,
  stepDeferredTurn,
  type DeferredTurnCommand,
  type DeferredTurnResults,
  type DeferredTurnState,
  type DeferredTurnView,
} from './deferredTurn.ts';
import {
  initialSystemContext,
  restoreSystemContext,
  stepSystemContext,
  systemContextCommandCodecs,
  systemContextLawSamples,
  systemContextSessionOutput,
  systemContextView,
  type SystemContextCommand,
  type SystemContextResults,
  type SystemContextState,
  type SystemContextView,
} from './systemContext.ts';
import {
  initialToolVisibility,
  restoreToolVisibility,
  stepToolVisibility,
  TOOL_VISIBILITY_ERROR_TAGS,
  toolVisibilityCommandCodecs,
  toolVisibilityLawSamples,
  type ToolVisibilityResults,
  type ToolVisibilityState,
} from './toolVisibility.ts';
import {
  applyRealtime,
  initialRealtimeState,
  realtimeCommandCodecs,
  realtimeGate,
  realtimeLawSamples,
  realtimeSessionOutput,
  restoreRealtimeState,
  type RealtimeGate,
  type RealtimeResults,
  type RealtimeState,
} from './realtime.ts';
import {
  initialLifecycle,
  lifecycleCommandCodecs,
  lifecycleGuard,
  lifecycleLawSamples,
  restoreLifecycle,
  stepLifecycle,
  type LifecycleResults,
  type LifecycleState,
  type SessionArchived,
  type SessionNotArchived,
} from './lifecycle.ts';

/** A machine's failure: a tagged error value with a message. */
export interface MachineFailure {
  readonly _tag: string;
  readonly message: string;
}

/** The command a set of codecs decodes. */
export type CommandOfCodecs<Codecs extends Record<string, Codec<any>>> = t.TypeOf<Codecs[keyof Codecs]>;

/**
 * One control machine (machines.md §0): a pure reducer over a small state, and
 * how it sits in a session.
 *
 * - `S`: its state; `Codecs`: its command codecs by `type`; `V`: the read-only
 *   view of the session its step reads; `R`: its step's result; `Results`: the
 *   caller's result of each command type (type level only: what `fold` hands
 *   back, by command); `Err`: every error its step and guard return.
 */
export interface MachineEntry<
  Name extends string,
  S,
  Codecs extends Record<string, Codec<any>>,
  V,
  R,
  Results extends object,
  Err extends MachineFailure,
> {
  readonly name: Name;
  /** The key its state is stored under in snapshots and flattened documents (`defineMachine` derives it from `name`). */
  readonly reservedKey: `palimpsest.${Name}`;
  /** The state of a new session and of every fork child. */
  readonly initial: S;
  /** Strict codecs of its commands, by `type`. */
  readonly commandCodecs: Codecs;
  /** The machine's own step over its state, given the view; an inert outcome returns the input state object. */
  readonly step: (state: S, command: CommandOfCodecs<Codecs>, ctx: StepContext, view: V) => E.Either<Err, StepResult<S, R>>;
  /** Decodes a stored state and checks its invariants (`MachineStateInvalid` otherwise; never throws). */
  readonly restore: (u: unknown) => E.Either<MachineStateInvalid, S>;
  /** Every `_tag` `step` may return. */
  readonly errorTags: readonly string[];
  /** The view a fresh session gives `step` (and the law harness's default view). */
  readonly initialView: V;
  /** The view of `session` `step` reads for `command` (pure; may skip work the command does not need). */
  readonly view: (session: SessionView, command: CommandOfCodecs<Codecs>) => V;
  /** Splits a step's result into the caller's result and the effects on the session (`SessionEffects`). */
  readonly fold: (result: R) => MachineOutput<Results[keyof Results]>;
  /** Run before every command this machine does not own, after the command codec: a `Left` refuses the command. */
  readonly guard?: (state: S, sessionId: string) => E.Either<Err, void>;
  /** The session appended `messages` (from any command); returns the input object when nothing changes. */
  readonly onMessagesAppended?: (state: S, messages: readonly Message[]) => S;
  /** Representative inputs for the laws every machine obeys (`spec/machines/laws.ts`). */
  readonly laws: LawSamples<CommandOfCodecs<Codecs>, V>;
}

/** Any entry, its types erased: what listing a registry's entries yields (`entriesOf`). */
export type AnyMachineEntry = MachineEntry<string, any, Record<string, Codec<any>>, any, any, any, MachineFailure>;

/** The type parameters of one machine, named (see `MachineEntry`). */
export interface MachineParams {
  readonly S: unknown;
  readonly Codecs: Record<string, Codec<any>>;
  readonly V: unknown;
  readonly R: unknown;
  readonly Results: object;
  readonly E: MachineFailure;
}

/** A registry value: entries by name, each entry's `name` its key. */
export type MachineRegistry<M extends Record<string, MachineParams> = Record<string, MachineParams>> = {
  readonly [K in keyof M & string]: MachineEntry<K, M[K]['S'], M[K]['Codecs'], M[K]['V'], M[K]['R'], M[K]['Results'], M[K]['E']>;
};

/** The type parameters of every entry of a registry literal, by name (so functions over a registry see each entry's own types). */
export type ParamsOf<Rg> = {
  [K in keyof Rg]: Rg[K] extends MachineEntry<any, infer S, infer Codecs, infer V, infer R, infer Results, infer Er>
    ? { S: S; Codecs: Codecs; V: V; R: R; Results: Results; E: Er }
    : never;
};

/** Every machine's state, by name. */
export type MachineStatesOf<M extends Record<string, MachineParams>> = { readonly [K in keyof M & string]: M[K]['S'] };
/** The commands of machine `K`. */
export type MachineCommandOf<M extends Record<string, MachineParams>, K extends keyof M> = CommandOfCodecs<M[K]['Codecs']>;
/** Any machine's command. */
export type AnyMachineCommandOf<M extends Record<string, MachineParams>> = { [K in keyof M]: CommandOfCodecs<M[K]['Codecs']> }[keyof M];
/** Any machine's error. */
export type MachineErrorOf<M extends Record<string, MachineParams>> = M[keyof M]['E'];

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** Every machine's command codecs, by `type`. */
export type MachineCommandCodecsOf<M extends Record<string, MachineParams>> = UnionToIntersection<M[keyof M]['Codecs']>;
/** Every machine command's result, by `type`. */
export type MachineResultsOf<M extends Record<string, MachineParams>> = UnionToIntersection<M[keyof M]['Results']>;

/**
 * Builds an entry, checking it against `MachineEntry`; its `reservedKey` is
 * derived from its name (`palimpsest.<name>`). `Results` is the one type
 * argument inference cannot see (it only shapes `fold`'s output type): write
 * `defineMachine<Results>()({ … })`.
 */
export const defineMachine =
  <Results extends object>() =>
  <Name extends string, S, Codecs extends Record<string, Codec<any>>, V, R, Err extends MachineFailure>(
    e: Omit<MachineEntry<Name, S, Codecs, V, R, Results, Err>, 'reservedKey'>,
  ): MachineEntry<Name, S, Codecs, V, R, Results, Err> => ({ ...e, reservedKey: `palimpsest.${e.name}` });

/** The machines, in the order snapshots restore them. */
export const machines = {
  deferredTurn: defineMachine<DeferredTurnResults>()({
    name: 'deferredTurn',
    initial: initialDeferredTurn as DeferredTurnState,
    commandCodecs: deferredTurnCommandCodecs,
    step: (state, command, ctx, view) => stepDeferredTurn<DeferredTurnCommand>(state, command, ctx, view),
    restore: restoreDeferredTurn,
    errorTags: ['FirstTurnAlreadyStarted', 'FirstTurnNotPending', 'NoRevertibleTurnStart'],
    initialView: { hasConversationMessages: false } as DeferredTurnView,
    view: deferredTurnView,
    fold: resultOnly,
    onMessagesAppended: deferredTurnOnMessagesAppended,
    laws: deferredTurnLawSamples,
  }),
  systemContext: defineMachine<SystemContextResults>()({
    name: 'systemContext',
    initial: initialSystemContext as SystemContextState,
    commandCodecs: systemContextCommandCodecs,
    step: (state, command, ctx, view) => stepSystemContext<SystemContextCommand>(state, command, ctx, view),
    restore: restoreSystemContext,
    errorTags: ['SystemContextInvalid', 'SystemContextEmpty', 'SystemContextConflict'],
    initialView: { systemPrompt: undefined } as SystemContextView,
    view: systemContextView,
    fold: systemContextSessionOutput,
    laws: systemContextLawSamples,
  }),
  toolVisibility: defineMachine<ToolVisibilityResults>()({
    name: 'toolVisibility',
    initial: initialToolVisibility as ToolVisibilityState,
    commandCodecs: toolVisibilityCommandCodecs,
    step: (state, command, ctx) => stepToolVisibility(state, command, ctx),
    restore: restoreToolVisibility,
    errorTags: TOOL_VISIBILITY_ERROR_TAGS,
    initialView: undefined,
    view: () => undefined,
    fold: resultOnly,
    laws: toolVisibilityLawSamples,
  }),
  realtime: defineMachine<RealtimeResults>()({
    name: 'realtime',
    initial: initialRealtimeState as RealtimeState,
    commandCodecs: realtimeCommandCodecs,
    step: (state, command, ctx, gate: RealtimeGate) => E.right(applyRealtime(state, command, ctx, gate)),
    restore: restoreRealtimeState,
    errorTags: [],
    initialView: { awaitingToolResults: false } as RealtimeGate,
    view: realtimeGate,
    fold: realtimeSessionOutput,
    laws: realtimeLawSamples,
  }),
  lifecycle: defineMachine<LifecycleResults>()({
    name: 'lifecycle',
    initial: initialLifecycle as LifecycleState,
    commandCodecs: lifecycleCommandCodecs,
    step: (state, command, ctx, sessionId: string): E.Either<SessionNotArchived | SessionArchived, StepResult<LifecycleState, LifecycleResults[keyof LifecycleResults]>> =>
      stepLifecycle(state, command, ctx, sessionId),
    restore: restoreLifecycle,
    errorTags: ['SessionNotArchived'],
    initialView: 'sess',
    view: (session) => session.id,
    fold: resultOnly,
    guard: lifecycleGuard,
    laws: lifecycleLawSamples,
  }),
} as const;

/** The type parameters of the registered machines, by name. */
export type RegisteredParams = ParamsOf<typeof machines>;
/** The registry's type. */
export type Machines = MachineRegistry<RegisteredParams>;
/** The registry as a `MachineRegistry` (what the functions over a registry take). */
export const registry: Machines = machines;
/** A registered machine's name (the session state field holding its state). */
export type RegisteredMachine = keyof RegisteredParams & string;
/** The state type of a registered machine. */
export type MachineStateOf<K extends RegisteredMachine> = RegisteredParams[K]['S'];
/** Every machine's state, by name: the machine fields of the session state. */
export type MachineStates = MachineStatesOf<RegisteredParams>;
/** Every registered machine's command. */
export type MachineCommand = AnyMachineCommandOf<RegisteredParams>;
/** Every error a registered machine's step or guard returns. */
export type MachineError = MachineErrorOf<RegisteredParams>;
/** Every registered machine command's result, by `type`. */
export type MachineResults = MachineResultsOf<RegisteredParams>;

/** The entries of `r` as a list, in registry order. */
export const entriesOf = <M extends Record<string, MachineParams>>(r: MachineRegistry<M>): readonly AnyMachineEntry[] => Object.values<AnyMachineEntry>(r);

/** The entries as a list, in registry order. */
export const machineList: readonly Machines[RegisteredMachine][] = Object.values(registry);

/** The initial state of every machine of `r`. */
export const initialStatesOf = <M extends Record<string, MachineParams>>(r: MachineRegistry<M>): MachineStatesOf<M> =>
  Object.freeze(Object.fromEntries(entriesOf(r).map((m) => [m.name, m.initial]))) as MachineStatesOf<M>;

/** The initial state of every machine. */
export const initialMachineStates: MachineStates = initialStatesOf<RegisteredParams>(registry);

/** Every machine command codec of `r`, by `type`. */
export const commandCodecsOf = <M extends Record<string, MachineParams>>(r: MachineRegistry<M>): MachineCommandCodecsOf<M> =>
  Object.freeze(Object.assign({}, ...entriesOf(r).map((m) => m.commandCodecs))) as MachineCommandCodecsOf<M>;

/** Every machine's command codecs, by `type` (the machine part of the session command union). */
export type MachineCommandCodecs = MachineCommandCodecsOf<RegisteredParams>;

/** Every machine's command codecs, by `type`. */
export const machineCommandCodecs: MachineCommandCodecs = commandCodecsOf<RegisteredParams>(registry);

/** Which machine of `r` owns each command type (a type owned twice is a programming error: the command union would be ambiguous). */
export const commandOwnersOf = <M extends Record<string, MachineParams>>(r: MachineRegistry<M>): ReadonlyMap<string, keyof M & string> => {
  const owners = new Map<string, keyof M & string>();
  for (const name of Object.keys(r) as (keyof M & string)[]) {
    for (const type of Object.keys(r[name].commandCodecs)) {
      if (owners.has(type)) throw new Error(`command type ${type} is owned by both ${owners.get(type)} and ${name}`);
      owners.set(type, name);
    }
  }
  return owners;
};

/** Each machine's reserved key, by machine name. */
export type MachineReservedKeys = { readonly [K in RegisteredMachine]: Machines[K]['reservedKey'] };

/** Each machine's reserved key of `r`, by machine name. */
export const reservedKeysOf = <M extends Record<string, MachineParams>>(r: MachineRegistry<M>): { readonly [K in keyof M & string]: `palimpsest.${K}` } =>
  Object.freeze(Object.fromEntries(entriesOf(r).map((m) => [m.name, m.reservedKey]))) as { readonly [K in keyof M & string]: `palimpsest.${K}` };

/** Each machine's reserved key, by machine name. */
export const machineReservedKeys: MachineReservedKeys = reservedKeysOf<RegisteredParams>(registry);

/**
 * Every machine state of `r` restored from what `read` returns for its reserved
 * key, in registry order. The first failure is `Left({ key, error })`.
 */
export const restoreStatesOf = <M extends Record<string, MachineParams>>(
  r: MachineRegistry<M>,
  read: (reservedKey: string) => unknown,
): E.Either<{ readonly key: string; readonly error: MachineStateInvalid }, MachineStatesOf<M>> => {
  const out: Record<string, unknown> = {};
  for (const m of entriesOf(r)) {
    const restored = m.restore(read(m.reservedKey));
    if (E.isLeft(restored)) return E.left({ key: m.reservedKey, error: restored.left });
    out[m.name] = restored.right;
  }
  return E.right(out as MachineStatesOf<M>);
};

/** `restoreStatesOf` for the registered machines (what snapshots use). */
export const restoreMachineStates = (read: (reservedKey: string) => unknown): E.Either<{ readonly key: string; readonly error: MachineStateInvalid }, MachineStates> =>
  restoreStatesOf<RegisteredParams>(registry, read);

/** What snapshots store for each machine of `r`: its state under its reserved key. */
export const machineSnapshotEntriesOf = <M extends Record<string, MachineParams>>(r: MachineRegistry<M>, states: MachineStatesOf<M>): [string, unknown][] =>
  (Object.keys(r) as (keyof M & string)[]).map((name) => [r[name].reservedKey, states[name]]);

/**
 * What the session reducer needs of a registry, computed once: the registry
 * and which machine owns each command type.
 */
export interface MachineRouting<M extends Record<string, MachineParams>> {
  readonly machines: MachineRegistry<M>;
  /** The names of the machines that have a `guard`, in registry order. */
  readonly guarded: readonly (keyof M & string)[];
  /** The names of the machines that have an `onMessagesAppended`, in registry order. */
  readonly appendReactors: readonly (keyof M & string)[];
  /** The owning machine's name, by command type (`commandOwnersOf`). */
  readonly owners: ReadonlyMap<string, keyof M & string>;
}

/** The routing of registry `r` (throws on a command type owned twice: a programming error in the registry, found when the module loads). */
export const routingOf = <M extends Record<string, MachineParams>>(r: MachineRegistry<M>): MachineRouting<M> => {
  const names = Object.keys(r) as (keyof M & string)[];
  return {
    machines: r,
    guarded: names.filter((name) => r[name].guard !== undefined),
    appendReactors: names.filter((name) => r[name].onMessagesAppended !== undefined),
    owners: commandOwnersOf<M>(r),
  };
};

/** The routing of the registered machines. */
export const machineRouting: MachineRouting<RegisteredParams> = routingOf<RegisteredParams>(registry);
