/**
 * The laws every control machine obeys (machines.md §0), stated once for the
 * entries of the machine registry:
 *
 * - **never throws, known tags**: every command, well-formed or not, is a
 *   `Right` or a `Left`; a `Left` carries one of the machine's `errorTags` (a
 *   command that does not decode is the codec's `DecodeError`) and a message;
 * - **inert iff unchanged**: `step` returns its input state object exactly when
 *   the state's canonical JSON did not change;
 * - **restore round trip**: every reachable state, through JSON, restores to
 *   itself;
 * - **restore is total**: `restore` never throws on any input and fails only
 *   with `MachineStateInvalid` naming the machine.
 *
 * `checkMachineLaws` runs them on random command sequences drawn from the
 * entry's own law samples (`MachineEntry.laws`, through `lawPick`) mixed with
 * malformed commands (`laws.spec.ts` runs it over every registered machine);
 * each machine's model-based spec checks the same
 * laws on the states its model reaches through `checkStepLaws`,
 * `checkRestoresToItself` and `checkRestoreTotal`, and adds what only that
 * machine promises.
 */
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith, dispatch } from '../../src/model/decode.ts';
import { canonicalJsonUnsafe } from '../../src/model/json.ts';
import type { LawPick, StepContext, StepResult } from '../../src/machines/common.ts';
import type { MachineEntry, MachineFailure } from '../../src/machines/registry.ts';

/** A cheap assertion (vitest's `expect` dominates the run time in a hot loop). */
const check = (ok: boolean, what: string): void => {
  if (!ok) throw new Error(what);
};

/** The part of a registry entry the laws read. */
type LawEntry<S> = Pick<MachineEntry<string, S, Record<string, never>, unknown, unknown, object, MachineFailure>, 'name' | 'restore' | 'errorTags'>;

const canon = (s: unknown): string => canonicalJsonUnsafe(s as never);

/** Restore round trip: `state` through JSON restores to a state with the same canonical JSON. */
export const checkRestoresToItself = <S>(entry: LawEntry<S>, state: S, what: string): void => {
  const back = entry.restore(JSON.parse(JSON.stringify(state)));
  if (E.isLeft(back)) throw new Error(`${entry.name}: unrestorable state ${what}: ${back.left.reason}\n${JSON.stringify(state)}`);
  check(canon(back.right) === canon(state), `${entry.name}: restore round trip ${what}`);
};

/**
 * The step laws for one outcome of `step` (or of decoding) on `before`: a
 * `Left` has a known tag and a message; a `Right` is inert iff unchanged, and a
 * changed state restores to itself. `what` names the step in failures.
 */
export const checkStepLaws = <S>(entry: LawEntry<S>, before: S, outcome: E.Either<MachineFailure, StepResult<S, unknown>>, what: string): void => {
  if (E.isLeft(outcome)) {
    const e = outcome.left;
    check((e._tag === 'DecodeError' || entry.errorTags.includes(e._tag)) && typeof e.message === 'string', `${entry.name}: unknown error ${JSON.stringify(e)} ${what}`);
    return;
  }
  const next = outcome.right.state;
  check((next === before) === (canon(next) === canon(before)), `${entry.name}: inert iff unchanged ${what}`);
  if (next !== before) checkRestoresToItself(entry, next, what);
};

/** Restore is total: `restore(u)` returns, and a `Left` is `MachineStateInvalid` naming the machine. */
export const checkRestoreTotal = <S>(entry: LawEntry<S>, u: unknown): void => {
  const r = entry.restore(u);
  if (E.isLeft(r)) check(r.left._tag === 'MachineStateInvalid' && r.left.machine === entry.name, `${entry.name}: restore error ${JSON.stringify(r.left)}`);
};

/** `LawPick` over fast-check's `gen`: every choice is a recorded draw, so a failing sample shrinks. */
export const lawPick = (g: fc.GeneratorValue): LawPick => ({
  one: <T>(options: readonly T[]) => g(() => fc.constantFrom(...options)),
  bool: () => g(fc.boolean),
  int: (min, max) => g(fc.integer, { min, max }),
  some: <T>(options: readonly T[]) => g(() => fc.subarray([...options])),
  shuffled: <T>(options: readonly T[]) => g(() => fc.shuffledSubarray([...options])),
  many: <T>(make: () => T, opts: { readonly min?: number; readonly max: number }) => Array.from({ length: g(fc.integer, { min: opts.min ?? 0, max: opts.max }) }, make),
});

/** A command whose `type` is one of `types` or anything, with arbitrary members. */
const garbage = (types: readonly string[]): fc.Arbitrary<unknown> =>
  fc
    .record({ type: fc.oneof(fc.constantFrom(...types), fc.string()), payload: fc.anything({ maxDepth: 2 }) })
    .map((r) => (r.payload !== null && typeof r.payload === 'object' && !Array.isArray(r.payload) ? { ...r.payload, type: r.type } : { type: r.type, value: r.payload }));

/** An entry's law samples as arbitraries: its commands (nine in ten) mixed with malformed ones, and its views. */
const lawInputs = <C, V>(entry: { readonly commandCodecs: object; readonly initialView: V; readonly laws: { readonly command: (pick: LawPick) => C; readonly view?: (pick: LawPick) => V } }) => {
  const { command, view } = entry.laws;
  return {
    commands: fc.oneof(
      { weight: 9, arbitrary: fc.gen().map((g): unknown => command(lawPick(g))) },
      { weight: 1, arbitrary: garbage(Object.keys(entry.commandCodecs)) },
    ),
    views: view === undefined ? fc.constant(entry.initialView) : fc.gen().map((g) => view(lawPick(g))),
  };
};

/** Runs every law on random command sequences from the initial state (the entry's law samples), and restore on arbitrary input (throws the first violation, as `fc.assert` does). */
export const checkMachineLaws = <Name extends string, S, Codecs extends Record<string, any>, V, R, Results extends object, Err extends MachineFailure>(
  entry: MachineEntry<Name, S, Codecs, V, R, Results, Err>,
  opts: { readonly numRuns?: number; readonly maxSteps?: number } = {},
): void => {
  const codec = dispatch(`${entry.name}Command`, 'type', entry.commandCodecs);
  const { commands, views } = lawInputs(entry);
  const seen = { changed: 0, inert: 0, refused: 0 };
  fc.assert(
    fc.property(fc.array(fc.tuple(commands, views), { maxLength: opts.maxSteps ?? 25 }), (steps) => {
      let state = entry.initial;
      let seq = 1;
      for (const [raw, view] of steps) {
        const ctx: StepContext = { sessionId: 'sess', seq, at: 1_000 + seq };
        const decoded = decodeWith(codec, JSON.parse(JSON.stringify(raw ?? null)));
        const r: E.Either<MachineFailure, StepResult<S, unknown>> = E.isLeft(decoded) ? decoded : entry.step(state, decoded.right, ctx, view);
        checkStepLaws(entry, state, r, `after ${JSON.stringify(raw)}`);
        if (E.isLeft(r)) {
          seen.refused++;
          continue;
        }
        seen[r.right.state === state ? 'inert' : 'changed']++;
        if (r.right.state !== state) seq++;
        state = r.right.state;
      }
    }),
    { numRuns: opts.numRuns ?? 300 },
  );
  // The inputs must reach new states, leave some unchanged and be refused now and then, or the laws above say little.
  check(seen.changed > 0 && seen.inert > 0 && seen.refused > 0, `${entry.name}: weak inputs ${JSON.stringify(seen)}`);
  fc.assert(
    fc.property(fc.oneof(fc.anything(), fc.constant(entry.initial)), (u) => checkRestoreTotal(entry, u)),
    { numRuns: opts.numRuns ?? 300 },
  );
};
