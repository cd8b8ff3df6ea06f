/**
 * The tool-visibility machine (tool-visibility.md): which tool definitions the
 * model is offered on each LLM call.
 *
 * One pure reducer, `stepToolVisibility(state, command, ctx)`, with the shape
 * and shared rules of machines.md §0 (inert outcomes return the input state
 * object; restore fails closed), plus pure queries (`visibleTools`,
 * `sessionVisibleNames`). It never reads `ctx`. Every input that changes
 * visibility is a logged command, so replay reproduces every tool set the model
 * was ever offered. palimpsest never runs tools: the runtime passes the catalog
 * it offers and asks which part to show.
 *
 * State (`palimpsest.toolVisibility`): the capability filter, three witnessed
 * filters (inherited, active, staged), two deferred lanes (active, staged), the
 * revisions (`stagedRevision` is the counter's high-water mark, something is
 * pending exactly when `stagedRevision > activeRevision`), an optional turn
 * overlay, `failedClosed` and an optional `lastBoundary`.
 *
 * Transition table (guards run in the listed order; the first failing class is
 * the `Left`, which changes nothing; "mint" is `stagedRevision += 1`;
 * "immediate" is `n = stagedRevision + 1`, `activeRevision = n`,
 * `stagedRevision = n` if nothing was pending else `n + 1`):
 *
 * | `type` | guards, in order | effect | result |
 * | --- | --- | --- | --- |
 * | `tool_filter_staged` | `InvalidCatalog`; `UnfilterableTools` (control names); `UnknownTools` (neither offered nor dormant) | `stagedFilter` = normalized filter with captured witnesses; mint | `stagedRevision` |
 * | `tool_inherited_filter_set` | `InvalidWitnesses` (witness outside the filter, two provenances for a name) | replace `inheritedFilter`; immediate; inert if equal | `undefined` |
 * | `tool_deferred_requested` | `InvalidCatalog`; `NothingRequested`; `UnknownTools`; `NotDeferredTools`; `MissingWitnesses`; `InvalidWitnesses` | upsert into `stagedDeferred` by name; mint | `stagedRevision` |
 * | `tool_deferred_requests_cleared` | — | `stagedDeferred = []`; mint | `stagedRevision` |
 * | `tool_capability_set` | — | `capabilityFilter = capabilityFilterFor(b)`; immediate; inert if unchanged | `undefined` |
 * | `tool_boundary_applied` | `InvalidCatalog` | staged lanes become active, `activeRevision = stagedRevision`, `failedClosed = false`, `lastBoundary` = `{ revision, tools, visibleNames }`; inert if none of these change | `BoundaryReport` |
 * | `tool_boundary_failed` | — | `failedClosed = true`, `lastBoundary.visibleNames = []` (revision and tools kept; `{ revision: activeRevision, tools: [] }` when there was none); staged lanes stay staged; inert if already so | `undefined` |
 * | `tool_turn_overlay_set` | `InvalidCatalog`; `UnknownTools` (allow or activate names not offered); `MissingWitnesses`; `InvalidWitnesses`; `OverlayConflict` | replace the overlay (activations of non-deferred tools verified, then dropped); no revision; inert if equal | `undefined` |
 * | `tool_turn_overlay_cleared` | — | remove the overlay; inert if none | `undefined` |
 * | `tool_visibility_intent_restored` | `MachineStateInvalid` (invariants 1, 3–5) | replace the intent lanes; `activeRevision = max(i.activeRevision, stagedRevision + 1)`, `stagedRevision = activeRevision + pending` | `{ activeRevision, stagedRevision }` |
 *
 * A step that would push a revision past `Number.MAX_SAFE_INTEGER` fails with
 * `MachineStateInvalid` (reason `revision counter exhausted`) after the
 * command's own guards, so no reachable state breaks invariant 4.
 *
 * Submodules: `toolVisibility/codecs.ts` (codecs and types),
 * `filters.ts` (§2), `catalog.ts` (§1), `query.ts` (§7), `invariants.ts` (§3
 * restore), `errors.ts` (§6), `notice.ts` (§8).
 */
import * as E from 'fp-ts/lib/Either.js';
import { freeze, produce } from 'immer';
import { stepOk, type MachineStateInvalid, type StepContext, type StepResult } from './common.ts';
import type {
  BoundaryMark,
  BoundaryReport,
  ToolRequest,
  ToolVisibilityCommand,
  ToolVisibilityCommandOf,
  ToolVisibilityCommandType,
  ToolVisibilityIntent,
  ToolVisibilityState,
  TurnOverlay,
  WitnessEntry,
  WitnessedFilter,
} from './toolVisibility/codecs.ts';
import { indexCatalogView, type CatalogIndex } from './toolVisibility/catalog.ts';
import {
  invalidWitnesses,
  missingWitnesses,
  notDeferredTools,
  nothingRequested,
  overlayConflict,
  toolVisibilityStateInvalid,
  unfilterableTools,
  unknownTools,
  type ToolVisibilityError,
} from './toolVisibility/errors.ts';
import { capabilityFilterFor, filterNames, normalizeFilter } from './toolVisibility/filters.ts';
import { intentProblem } from './toolVisibility/invariants.ts';
import { sessionVisibleNamesIndexed } from './toolVisibility/query.ts';
import { compareStrings, copyProvenance, findByName, jsonEqual, provenanceEq, provenanceKey } from './toolVisibility/util.ts';

export * from './toolVisibility/codecs.ts';
export { toolVisibilityLawSamples } from './toolVisibility/samples.ts';
export * from './toolVisibility/errors.ts';
export { catalogView, indexCatalog, indexCatalogView, type CatalogIndex } from './toolVisibility/catalog.ts';
export { allows, capabilityFilterFor, composeFilters, filterNames, isCapabilityFilter, normalizeFilter, type ComposedFilter } from './toolVisibility/filters.ts';
export { effectiveFilter, sessionVisibleNames, visibleTools } from './toolVisibility/query.ts';
export { intentProblem, restoreToolVisibility, stateProblem, ToolVisibilityIntentCodec, ToolVisibilityStateCodec } from './toolVisibility/invariants.ts';
export {
  TOOL_SCOPE_NOTICE_KIND,
  TOOL_SCOPE_WARNING_KIND,
  toolScopeNoticeData,
  toolScopeNoticeText,
  toolScopeWarningData,
  toolScopeWarningText,
} from './toolVisibility/notice.ts';

const allFilter = (): WitnessedFilter => ({ filter: { type: 'all' }, witnesses: [] });

/**
 * The initial state (deep-frozen): capability `all`; the three witnessed
 * filters `{ filter: { type: 'all' }, witnesses: [] }`; empty deferred lists;
 * revisions 0; no overlay; `failedClosed` false; no `lastBoundary`. A fork child
 * starts here.
 */
export const initialToolVisibility: ToolVisibilityState = freeze(
  {
    capabilityFilter: { type: 'all' },
    inheritedFilter: allFilter(),
    activeFilter: allFilter(),
    stagedFilter: allFilter(),
    activeDeferred: [],
    stagedDeferred: [],
    activeRevision: 0,
    stagedRevision: 0,
    failedClosed: false,
  },
  true,
);

/** The intent lanes of a state: what `tool_visibility_intent_restored` takes (a fresh deep copy). */
export const toolVisibilityIntentOf = (state: ToolVisibilityState): ToolVisibilityIntent =>
  structuredClone({
    inheritedFilter: state.inheritedFilter,
    activeFilter: state.activeFilter,
    stagedFilter: state.stagedFilter,
    activeDeferred: state.activeDeferred,
    stagedDeferred: state.stagedDeferred,
    activeRevision: state.activeRevision,
    stagedRevision: state.stagedRevision,
  });

/** Each command `type` mapped to the result its step returns (tool-visibility.md §5, method table). */
export interface ToolVisibilityResults {
  tool_filter_staged: number;
  tool_inherited_filter_set: undefined;
  tool_deferred_requested: number;
  tool_deferred_requests_cleared: number;
  tool_capability_set: undefined;
  tool_boundary_applied: BoundaryReport;
  tool_boundary_failed: undefined;
  tool_turn_overlay_set: undefined;
  tool_turn_overlay_cleared: undefined;
  tool_visibility_intent_restored: { activeRevision: number; stagedRevision: number };
}
/** Any result of `stepToolVisibility`. */
export type ToolVisibilityResult = ToolVisibilityResults[ToolVisibilityCommandType];

type Step<K extends ToolVisibilityCommandType> = E.Either<ToolVisibilityError, StepResult<ToolVisibilityState, ToolVisibilityResults[K]>>;

// ---------------------------------------------------------------------------
// Revisions (§4)

const exhausted = (): MachineStateInvalid => toolVisibilityStateInvalid('revision counter exhausted: the next revision would exceed Number.MAX_SAFE_INTEGER');

/** The next minted `stagedRevision`. */
const mint = (s: ToolVisibilityState): E.Either<MachineStateInvalid, number> =>
  s.stagedRevision >= Number.MAX_SAFE_INTEGER ? E.left(exhausted()) : E.right(s.stagedRevision + 1);

/** The revisions after an immediate change. */
const immediate = (s: ToolVisibilityState): E.Either<MachineStateInvalid, { active: number; staged: number }> => {
  const n = s.stagedRevision + 1;
  const staged = s.stagedRevision > s.activeRevision ? n + 1 : n;
  return staged > Number.MAX_SAFE_INTEGER ? E.left(exhausted()) : E.right({ active: n, staged });
};

// ---------------------------------------------------------------------------
// Shared guards

/** Names with more than one distinct provenance among `entries` (absent provenances ignored). */
const conflictingProvenances = (entries: readonly { readonly name: string; readonly provenance?: WitnessEntry['provenance'] }[]): string[] => {
  const seen = new Map<string, string>();
  const out: string[] = [];
  for (const e of entries) {
    if (e.provenance === undefined) continue;
    const key = provenanceKey(e.provenance);
    const prev = seen.get(e.name);
    if (prev === undefined) seen.set(e.name, key);
    else if (prev !== key) out.push(e.name);
  }
  return out;
};

/** Requests or activations whose provenance does not match the offered tool (or the offered tool has none). */
const mismatchedWitnesses = (requests: readonly ToolRequest[], idx: CatalogIndex): string[] =>
  requests
    .filter((r) => {
      const tool = idx.offered.get(r.name);
      return r.provenance !== undefined && (tool?.provenance === undefined || !provenanceEq(tool.provenance, r.provenance));
    })
    .map((r) => r.name);

/** Verified requests as fresh witness entries, sorted by name, one per name. */
const toEntries = (requests: readonly ToolRequest[]): WitnessEntry[] => {
  const byName = new Map<string, WitnessEntry>();
  for (const r of requests) {
    if (r.provenance !== undefined && !byName.has(r.name)) byName.set(r.name, { name: r.name, provenance: copyProvenance(r.provenance) });
  }
  return [...byName.values()].sort((a, b) => compareStrings(a.name, b.name));
};

/** The shared witness guards of requests and activations: `MissingWitnesses`, then `InvalidWitnesses`. */
const checkWitnesses = (requests: readonly ToolRequest[], idx: CatalogIndex): ToolVisibilityError | undefined => {
  const missing = requests.filter((r) => r.provenance === undefined).map((r) => r.name);
  if (missing.length > 0) return missingWitnesses(missing);
  const invalid = [...mismatchedWitnesses(requests, idx), ...conflictingProvenances(requests)];
  return invalid.length > 0 ? invalidWitnesses(invalid) : undefined;
};

// ---------------------------------------------------------------------------
// Handlers

const stageFilter = (s: ToolVisibilityState, cmd: ToolVisibilityCommandOf<'tool_filter_staged'>): Step<'tool_filter_staged'> => {
  const idxE = indexCatalogView(cmd.catalog);
  if (E.isLeft(idxE)) return idxE;
  const idx = idxE.right;
  const filter = normalizeFilter(cmd.filter);
  const names = filterNames(filter);
  const unfilterable = names.filter((n) => idx.control.has(n));
  if (unfilterable.length > 0) return E.left(unfilterableTools(unfilterable));
  const dormant = new Set([...filterNames(s.inheritedFilter.filter), ...filterNames(s.activeFilter.filter), ...filterNames(s.stagedFilter.filter)]);
  const unknown = names.filter((n) => !idx.offered.has(n) && !dormant.has(n));
  if (unknown.length > 0) return E.left(unknownTools(unknown));
  const witnesses: WitnessEntry[] = [];
  for (const n of names) {
    const tool = idx.offered.get(n);
    const provenance = tool !== undefined ? tool.provenance : (findByName(s.stagedFilter.witnesses, n) ?? findByName(s.activeFilter.witnesses, n))?.provenance;
    if (provenance !== undefined) witnesses.push({ name: n, provenance: copyProvenance(provenance) });
  }
  const rev = mint(s);
  if (E.isLeft(rev)) return rev;
  const state = produce(s, (d) => {
    d.stagedFilter = { filter, witnesses };
    d.stagedRevision = rev.right;
  });
  return stepOk(state, rev.right);
};

const setInherited = (s: ToolVisibilityState, cmd: ToolVisibilityCommandOf<'tool_inherited_filter_set'>): Step<'tool_inherited_filter_set'> => {
  const filter = normalizeFilter(cmd.filter);
  const names = new Set(filterNames(filter));
  const invalid = [...cmd.witnesses.filter((w) => !names.has(w.name)).map((w) => w.name), ...conflictingProvenances(cmd.witnesses)];
  if (invalid.length > 0) return E.left(invalidWitnesses(invalid));
  const next: WitnessedFilter = { filter, witnesses: toEntries(cmd.witnesses) };
  if (jsonEqual(next, s.inheritedFilter)) return stepOk(s, undefined);
  const revs = immediate(s);
  if (E.isLeft(revs)) return revs;
  const state = produce(s, (d) => {
    d.inheritedFilter = next;
    d.activeRevision = revs.right.active;
    d.stagedRevision = revs.right.staged;
  });
  return stepOk(state, undefined);
};

const requestDeferred = (s: ToolVisibilityState, cmd: ToolVisibilityCommandOf<'tool_deferred_requested'>): Step<'tool_deferred_requested'> => {
  const idxE = indexCatalogView(cmd.catalog);
  if (E.isLeft(idxE)) return idxE;
  const idx = idxE.right;
  const requests = cmd.requests;
  if (requests.length === 0) return E.left(nothingRequested());
  const unknown = requests.filter((r) => !idx.offered.has(r.name)).map((r) => r.name);
  if (unknown.length > 0) return E.left(unknownTools(unknown));
  const notDeferred = requests.filter((r) => !idx.deferred.has(r.name)).map((r) => r.name);
  if (notDeferred.length > 0) return E.left(notDeferredTools(notDeferred));
  const bad = checkWitnesses(requests, idx);
  if (bad !== undefined) return E.left(bad);
  const entries = toEntries(requests);
  const requested = new Set(entries.map((e) => e.name));
  const merged = [...s.stagedDeferred.filter((e) => !requested.has(e.name)), ...entries].sort((a, b) => compareStrings(a.name, b.name));
  const rev = mint(s);
  if (E.isLeft(rev)) return rev;
  const state = produce(s, (d) => {
    d.stagedDeferred = merged;
    d.stagedRevision = rev.right;
  });
  return stepOk(state, rev.right);
};

const clearRequests = (s: ToolVisibilityState): Step<'tool_deferred_requests_cleared'> => {
  const rev = mint(s);
  if (E.isLeft(rev)) return rev;
  const state = produce(s, (d) => {
    d.stagedDeferred = [];
    d.stagedRevision = rev.right;
  });
  return stepOk(state, rev.right);
};

const setCapability = (s: ToolVisibilityState, cmd: ToolVisibilityCommandOf<'tool_capability_set'>): Step<'tool_capability_set'> => {
  const next = normalizeFilter(capabilityFilterFor(cmd.imageToolResults));
  if (jsonEqual(next, s.capabilityFilter)) return stepOk(s, undefined);
  const revs = immediate(s);
  if (E.isLeft(revs)) return revs;
  const state = produce(s, (d) => {
    d.capabilityFilter = next;
    d.activeRevision = revs.right.active;
    d.stagedRevision = revs.right.staged;
  });
  return stepOk(state, undefined);
};

const applyBoundary = (s: ToolVisibilityState, cmd: ToolVisibilityCommandOf<'tool_boundary_applied'>): Step<'tool_boundary_applied'> => {
  const idxE = indexCatalogView(cmd.catalog);
  if (E.isLeft(idxE)) return idxE;
  const idx = idxE.right;
  const promoted: ToolVisibilityState = {
    ...s,
    activeFilter: s.stagedFilter,
    activeDeferred: s.stagedDeferred,
    activeRevision: s.stagedRevision,
    failedClosed: false,
  };
  const visibleNames = sessionVisibleNamesIndexed(promoted, idx);
  const tools = idx.view.tools;
  const prev = s.lastBoundary;
  const mark: BoundaryMark = { revision: s.stagedRevision, tools, visibleNames };
  let report: BoundaryReport;
  if (prev === undefined) {
    report = { revision: s.stagedRevision, previousRevision: s.activeRevision, initial: true, baseChanged: false, visibleChanged: false, added: [], removed: [], visibleNames };
  } else {
    const before = new Set(prev.visibleNames);
    const after = new Set(visibleNames);
    const added = visibleNames.filter((n) => !before.has(n));
    const removed = prev.visibleNames.filter((n) => !after.has(n));
    report = {
      revision: s.stagedRevision,
      previousRevision: s.activeRevision,
      initial: false,
      baseChanged: !jsonEqual(prev.tools, tools),
      visibleChanged: added.length > 0 || removed.length > 0,
      added,
      removed,
      visibleNames,
    };
  }
  const state = produce(s, (d) => {
    if (!jsonEqual(s.activeFilter, s.stagedFilter)) d.activeFilter = s.stagedFilter;
    if (!jsonEqual(s.activeDeferred, s.stagedDeferred)) d.activeDeferred = s.stagedDeferred;
    if (s.activeRevision !== s.stagedRevision) d.activeRevision = s.stagedRevision;
    if (s.failedClosed) d.failedClosed = false;
    if (!jsonEqual(prev, mark)) d.lastBoundary = mark;
  });
  return stepOk(state, report);
};

const failBoundary = (s: ToolVisibilityState): Step<'tool_boundary_failed'> => {
  const prev = s.lastBoundary;
  const mark: BoundaryMark = prev === undefined ? { revision: s.activeRevision, tools: [], visibleNames: [] } : { revision: prev.revision, tools: prev.tools, visibleNames: [] };
  const state = produce(s, (d) => {
    if (!s.failedClosed) d.failedClosed = true;
    if (!jsonEqual(prev, mark)) d.lastBoundary = mark;
  });
  return stepOk(state, undefined);
};

const setOverlay = (s: ToolVisibilityState, cmd: ToolVisibilityCommandOf<'tool_turn_overlay_set'>): Step<'tool_turn_overlay_set'> => {
  const idxE = indexCatalogView(cmd.catalog);
  if (E.isLeft(idxE)) return idxE;
  const idx = idxE.right;
  const allow = cmd.allow === undefined ? undefined : normalizeNames(cmd.allow);
  const deny = normalizeNames(cmd.deny);
  const unknown = [...(allow ?? []), ...cmd.activate.map((a) => a.name)].filter((n) => !idx.offered.has(n));
  if (unknown.length > 0) return E.left(unknownTools(unknown));
  const bad = checkWitnesses(cmd.activate, idx);
  if (bad !== undefined) return E.left(bad);
  const denied = new Set(deny);
  const allowed = allow === undefined ? undefined : new Set(allow);
  const conflicts = cmd.activate.filter((a) => denied.has(a.name) || (allowed !== undefined && !allowed.has(a.name))).map((a) => a.name);
  if (conflicts.length > 0) return E.left(overlayConflict(conflicts));
  const activated = toEntries(cmd.activate).filter((e) => idx.deferred.has(e.name));
  const overlay: TurnOverlay = allow === undefined ? { deny, activated } : { allow, deny, activated };
  if (jsonEqual(s.turnOverlay, overlay)) return stepOk(s, undefined);
  const state = produce(s, (d) => {
    d.turnOverlay = overlay;
  });
  return stepOk(state, undefined);
};

const normalizeNames = (names: readonly string[]): string[] => [...new Set(names)].sort(compareStrings);

const clearOverlay = (s: ToolVisibilityState): Step<'tool_turn_overlay_cleared'> => {
  if (s.turnOverlay === undefined) return stepOk(s, undefined);
  const state = produce(s, (d) => {
    delete d.turnOverlay;
  });
  return stepOk(state, undefined);
};

const restoreIntent = (s: ToolVisibilityState, cmd: ToolVisibilityCommandOf<'tool_visibility_intent_restored'>): Step<'tool_visibility_intent_restored'> => {
  const i = cmd.intent;
  const problem = intentProblem(i);
  if (problem !== undefined) return E.left(toolVisibilityStateInvalid(`intent: ${problem}`));
  if (s.stagedRevision >= Number.MAX_SAFE_INTEGER) return E.left(exhausted());
  const pending = i.stagedRevision - i.activeRevision;
  const activeRevision = Math.max(i.activeRevision, s.stagedRevision + 1);
  const stagedRevision = activeRevision + pending;
  if (stagedRevision > Number.MAX_SAFE_INTEGER) return E.left(exhausted());
  const lanes = structuredClone({
    inheritedFilter: i.inheritedFilter,
    activeFilter: i.activeFilter,
    stagedFilter: i.stagedFilter,
    activeDeferred: i.activeDeferred,
    stagedDeferred: i.stagedDeferred,
  });
  const state = produce(s, (d) => {
    d.inheritedFilter = lanes.inheritedFilter;
    d.activeFilter = lanes.activeFilter;
    d.stagedFilter = lanes.stagedFilter;
    d.activeDeferred = lanes.activeDeferred;
    d.stagedDeferred = lanes.stagedDeferred;
    d.activeRevision = activeRevision;
    d.stagedRevision = stagedRevision;
  });
  return stepOk(state, { activeRevision, stagedRevision });
};

// ---------------------------------------------------------------------------
// The reducer

/**
 * Applies one tool-visibility command (see the module's transition table).
 * `Left(ToolVisibilityError)` changes nothing; an inert `Right` returns the
 * input `state` object. Results: `stagedRevision` for staging commands, the
 * `BoundaryReport` for `tool_boundary_applied`, `{ activeRevision, stagedRevision }`
 * for `tool_visibility_intent_restored`, `undefined` otherwise. `ctx` is not read.
 * The command is assumed decoded by its codec; its names need not be canonical
 * (the reducer normalizes them) and its catalog view is re-validated.
 */
export const stepToolVisibility = <C extends ToolVisibilityCommand>(
  state: ToolVisibilityState,
  command: C,
  _ctx: StepContext,
): E.Either<ToolVisibilityError, StepResult<ToolVisibilityState, ToolVisibilityResults[C['type']]>> => {
  const c = command as ToolVisibilityCommand;
  let out: E.Either<ToolVisibilityError, StepResult<ToolVisibilityState, ToolVisibilityResult>>;
  switch (c.type) {
    case 'tool_filter_staged':
      out = stageFilter(state, c);
      break;
    case 'tool_inherited_filter_set':
      out = setInherited(state, c);
      break;
    case 'tool_deferred_requested':
      out = requestDeferred(state, c);
      break;
    case 'tool_deferred_requests_cleared':
      out = clearRequests(state);
      break;
    case 'tool_capability_set':
      out = setCapability(state, c);
      break;
    case 'tool_boundary_applied':
      out = applyBoundary(state, c);
      break;
    case 'tool_boundary_failed':
      out = failBoundary(state);
      break;
    case 'tool_turn_overlay_set':
      out = setOverlay(state, c);
      break;
    case 'tool_turn_overlay_cleared':
      out = clearOverlay(state);
      break;
    case 'tool_visibility_intent_restored':
      out = restoreIntent(state, c);
      break;
  }
  return out as E.Either<ToolVisibilityError, StepResult<ToolVisibilityState, ToolVisibilityResults[C['type']]>>;
};
