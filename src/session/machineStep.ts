/**
 * Machine commands in the session reducer, for any registry (machines.md §0):
 *
 *     guards:  every machine's `guard` but the owner's, on its own state
 *     step:    owner.step(state[owner], command, ctx, owner.view(session, command))
 *     fold:    owner.fold(result) -> { result, effects }; effects applied (`effects.ts`)
 *
 * The owner of a command is found by its `type` in the registry's routing
 * (`MachineRouting.owners`); nothing here names a machine. An inert outcome
 * (the step returned its input state object and the effects changed nothing)
 * returns the input session state object.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { StepContext } from '../machines/common.ts';
import type { MachineCommandOf, MachineErrorOf, MachineParams, MachineRouting } from '../machines/registry.ts';
import type { InvalidTranscriptShape } from '../transcript/index.ts';
import { applyEffects } from './effects.ts';
import type { InvalidUsage } from './errors.ts';
import type { SessionStateOf } from './state.ts';

/** One accepted machine command: the next session state (the input object when inert) and the caller's result. */
export interface MachineStep<St, R> {
  readonly state: St;
  readonly result: R;
}

/** Runs machine `name`'s guard, unless it is absent or `name` owns the command (`owner`). */
const guardOf = <M extends Record<string, MachineParams>, K extends keyof M & string>(
  routing: MachineRouting<M>,
  name: K,
  state: SessionStateOf<M>,
  owner: string | undefined,
): E.Either<M[K]['E'], void> => {
  const guard = routing.machines[name].guard;
  return guard === undefined || owner === name ? E.right(undefined) : guard(state[name], state.id);
};

/**
 * Runs every machine's guard before a command (core or machine) whose owner is
 * `owner` (`undefined` for a core command), in registry order; the first `Left`
 * refuses the command (an archived session refuses every write but its own
 * lifecycle commands, machines.md §3).
 */
export const runGuards = <M extends Record<string, MachineParams>>(
  routing: MachineRouting<M>,
  state: SessionStateOf<M>,
  owner: string | undefined,
): E.Either<MachineErrorOf<M>, void> => {
  for (const name of routing.guarded) {
    const r = guardOf(routing, name, state, owner);
    if (E.isLeft(r)) return r;
  }
  return E.right(undefined);
};

/** Applies one command of machine `name` to the session (module docstring); guards are the caller's. */
export const stepMachine = <M extends Record<string, MachineParams>, K extends keyof M & string, St extends SessionStateOf<M>>(
  routing: MachineRouting<M>,
  name: K,
  state: St,
  command: MachineCommandOf<M, K>,
  ctx: StepContext,
): E.Either<M[K]['E'] | InvalidTranscriptShape | InvalidUsage, MachineStep<St, M[K]['Results'][keyof M[K]['Results']]>> => {
  const entry = routing.machines[name];
  const before = state[name];
  const stepped = entry.step(before, command, ctx, entry.view(state, command));
  if (E.isLeft(stepped)) return stepped;
  const { result, effects } = entry.fold(stepped.right.result);
  const after = stepped.right.state;
  const moved: St = after === before ? state : { ...state, [name]: after };
  if (effects === undefined) return E.right({ state: moved, result });
  return E.map((next: St) => ({ state: next, result }))(applyEffects(routing, moved, effects, ctx.at));
};
