/**
 * Restore validation (tool-visibility.md §3, invariants 1–6) and the fail-closed
 * `restoreToolVisibility`.
 *
 * 1. every name list is canonical (sorted by UTF-16 code unit, unique; entry
 *    lists by `name`), every name non-empty;
 * 2. `capabilityFilter` is `all` or `deny ['view_image']`;
 * 3. witness names are a subset of their filter's names (so `all` has none);
 * 4. `0 <= activeRevision <= stagedRevision`, safe integers;
 * 5. `activeRevision == stagedRevision` implies active and staged filters are
 *    deep-equal and so are the deferred lists;
 * 6. no overlay activation is in the overlay's `deny`, or outside its `allow`
 *    when present.
 *
 * An intent (`tool_visibility_intent_restored`) is checked against 1, 3–5.
 */
import * as E from 'fp-ts/lib/Either.js';
import { freeze } from 'immer';
import { decodeWith, refine } from '../../model/decode.ts';
import { stateDecodeFailed, type MachineStateInvalid } from '../common.ts';
import {
  ToolVisibilityIntentShapeCodec,
  ToolVisibilityStateShapeCodec,
  type ToolVisibilityIntent,
  type ToolVisibilityState,
  type WitnessEntry,
  type WitnessedFilter,
} from './codecs.ts';
import { toolVisibilityStateInvalid } from './errors.ts';
import { filterNames, isCanonicalFilter, isCapabilityFilter } from './filters.ts';
import { isCanonical, isCanonicalByName, jsonEqual } from './util.ts';

const nonEmpty = (names: readonly string[]): boolean => names.every((n) => n.length > 0);

const checkEntries = (label: string, entries: readonly WitnessEntry[] | readonly { readonly name: string }[]): string | undefined => {
  if (!nonEmpty(entries.map((e) => e.name))) return `invariant 1: ${label} has an empty name`;
  return isCanonicalByName(entries) ? undefined : `invariant 1: ${label} is not sorted by name and unique`;
};

const checkNames = (label: string, names: readonly string[]): string | undefined => {
  if (!nonEmpty(names)) return `invariant 1: ${label} has an empty name`;
  return isCanonical(names) ? undefined : `invariant 1: ${label} is not sorted and unique`;
};

const checkWitnessed = (label: string, wf: WitnessedFilter): string | undefined => {
  if (!isCanonicalFilter(wf.filter) || !nonEmpty(filterNames(wf.filter))) return `invariant 1: ${label}.filter.names is not sorted and unique`;
  const bad = checkEntries(`${label}.witnesses`, wf.witnesses);
  if (bad !== undefined) return bad;
  const names = new Set(filterNames(wf.filter));
  const outside = wf.witnesses.filter((w) => !names.has(w.name)).map((w) => w.name);
  return outside.length === 0 ? undefined : `invariant 3: ${label} has witnesses for names outside its filter: ${outside.join(', ')}`;
};

const checkLanes = (s: ToolVisibilityIntent): string | undefined => {
  for (const [label, wf] of [
    ['inheritedFilter', s.inheritedFilter],
    ['activeFilter', s.activeFilter],
    ['stagedFilter', s.stagedFilter],
  ] as const) {
    const bad = checkWitnessed(label, wf);
    if (bad !== undefined) return bad;
  }
  const bad = checkEntries('activeDeferred', s.activeDeferred) ?? checkEntries('stagedDeferred', s.stagedDeferred);
  if (bad !== undefined) return bad;
  if (!Number.isSafeInteger(s.activeRevision) || !Number.isSafeInteger(s.stagedRevision) || s.activeRevision < 0 || s.activeRevision > s.stagedRevision) {
    return `invariant 4: expected 0 <= activeRevision (${s.activeRevision}) <= stagedRevision (${s.stagedRevision})`;
  }
  if (s.activeRevision === s.stagedRevision && (!jsonEqual(s.activeFilter, s.stagedFilter) || !jsonEqual(s.activeDeferred, s.stagedDeferred))) {
    return 'invariant 5: revisions are equal but the active and staged lanes differ';
  }
  return undefined;
};

/** The first invariant (1, 3–5) an intent breaks, as a reason string, or `undefined`. */
export const intentProblem = (intent: ToolVisibilityIntent): string | undefined => checkLanes(intent);

/** The first invariant (1–6) a decoded state breaks, as a reason string, or `undefined`. */
export const stateProblem = (s: ToolVisibilityState): string | undefined => {
  const lanes = checkLanes(s);
  if (lanes !== undefined) return lanes;
  if (!isCanonicalFilter(s.capabilityFilter) || !isCapabilityFilter(s.capabilityFilter)) {
    return "invariant 2: capabilityFilter must be { type: 'all' } or { type: 'deny', names: ['view_image'] }";
  }
  const o = s.turnOverlay;
  if (o !== undefined) {
    const bad =
      (o.allow === undefined ? undefined : checkNames('turnOverlay.allow', o.allow)) ?? checkNames('turnOverlay.deny', o.deny) ?? checkEntries('turnOverlay.activated', o.activated);
    if (bad !== undefined) return bad;
    const deny = new Set(o.deny);
    const allow = o.allow === undefined ? undefined : new Set(o.allow);
    const excluded = o.activated.filter((a) => deny.has(a.name) || (allow !== undefined && !allow.has(a.name))).map((a) => a.name);
    if (excluded.length > 0) return `invariant 6: overlay activations excluded by the overlay: ${excluded.join(', ')}`;
  }
  const b = s.lastBoundary;
  if (b !== undefined) {
    const bad = checkEntries('lastBoundary.tools', b.tools) ?? checkNames('lastBoundary.visibleNames', b.visibleNames);
    if (bad !== undefined) return bad;
  }
  return undefined;
};

/** The state codec with invariants 1–6: what `restoreToolVisibility` accepts (decode failures name the invariant). */
export const ToolVisibilityStateCodec = refine(ToolVisibilityStateShapeCodec, 'ToolVisibilityState', stateProblem);

/**
 * The intent codec: shape only. `tool_visibility_intent_restored` checks
 * invariants 1 and 3–5 in the reducer, so a bad intent is `MachineStateInvalid`
 * rather than a decode error.
 */
export const ToolVisibilityIntentCodec = ToolVisibilityIntentShapeCodec;

/** A deep, frozen copy of a JSON-like value (restored states never alias the caller's input). */
const frozenCopy = <A>(a: A): A => freeze(structuredClone(a), true);

/**
 * Decodes a stored state and checks invariants 1–6, failing closed:
 * `Left(MachineStateInvalid { machine: 'toolVisibility', reason })` for a codec
 * failure (`reason` starts with `decode:`) or the first broken invariant
 * (`reason` starts with `invariant N:`). A malformed state never reads as the
 * initial state. The result is a deep-frozen copy.
 */
export const restoreToolVisibility = (u: unknown): E.Either<MachineStateInvalid, ToolVisibilityState> => {
  const decoded = decodeWith(ToolVisibilityStateShapeCodec, u);
  if (E.isLeft(decoded)) return E.left(stateDecodeFailed('toolVisibility', decoded.left));
  const problem = stateProblem(decoded.right);
  return problem === undefined ? E.right(frozenCopy(decoded.right)) : E.left(toolVisibilityStateInvalid(problem));
};
