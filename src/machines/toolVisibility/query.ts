/**
 * Computing the visible set (tool-visibility.md §7).
 *
 * ```
 * c = composeFilters([capabilityFilter, effective(inheritedFilter), effective(activeFilter),
 *                     overlay allow (if present), overlay deny])
 * visible(tool) = control(tool) || (allows(c, tool.name) && (!deferred(tool) || open(tool)))
 * ```
 *
 * `effective(wf)` keeps each name `n` unless the catalog offers `n`, `wf` has a
 * witness for `n`, and the offered provenance differs (absent counts as
 * different): a re-sourced tool drops out of an `allow` (excluded) and out of a
 * `deny` (lifted). Dormant names have no effect; name-only names match by name.
 * The capability filter and the overlay are never pruned.
 *
 * `open(tool)`: `activeDeferred` (or, with the overlay, its `activated`) has an
 * entry of that name whose provenance equals the offered one.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { CatalogLike, CatalogTool, Provenance, ToolFilter, ToolVisibilityState, WitnessEntry, WitnessedFilter } from './codecs.ts';
import { indexCatalog, type CatalogIndex } from './catalog.ts';
import type { InvalidCatalog } from './errors.ts';
import { allows, composeFilters } from './filters.ts';
import { findByName, provenanceEq, sortedUnique } from './util.ts';

/** `effective(wf)` against the offered tools (see the module docstring). */
export const effectiveFilter = (wf: WitnessedFilter, offered: ReadonlyMap<string, CatalogTool>): ToolFilter => {
  const f = wf.filter;
  if (f.type === 'all') return f;
  const names = f.names.filter((n) => {
    const w = findByName(wf.witnesses, n);
    if (w === undefined) return true;
    const tool = offered.get(n);
    return tool === undefined || provenanceEq(tool.provenance, w.provenance);
  });
  return { type: f.type, names };
};

const opens = (entries: readonly WitnessEntry[], name: string, provenance: Provenance | undefined): boolean => {
  if (provenance === undefined) return false;
  const e = findByName(entries, name);
  return e !== undefined && provenanceEq(e.provenance, provenance);
};

/** The visibility predicate over an indexed catalog; `withOverlay` false gives the session (overlay-free) view. */
const visiblePredicate = (state: ToolVisibilityState, idx: CatalogIndex, withOverlay: boolean): ((tool: { readonly name: string; readonly provenance?: Provenance }) => boolean) => {
  const overlay = withOverlay ? state.turnOverlay : undefined;
  const filters: ToolFilter[] = [state.capabilityFilter, effectiveFilter(state.inheritedFilter, idx.offered), effectiveFilter(state.activeFilter, idx.offered)];
  if (overlay !== undefined) {
    if (overlay.allow !== undefined) filters.push({ type: 'allow', names: overlay.allow });
    filters.push({ type: 'deny', names: overlay.deny });
  }
  const c = composeFilters(filters);
  return (tool) => {
    if (idx.control.has(tool.name)) return true;
    if (!allows(c, tool.name)) return false;
    if (!idx.deferred.has(tool.name)) return true;
    return opens(state.activeDeferred, tool.name, tool.provenance) || (overlay !== undefined && opens(overlay.activated, tool.name, tool.provenance));
  };
};

/**
 * The tools the model is offered now, in catalog order: `Left(InvalidCatalog)`
 * when the catalog is not well formed (checked as `catalogView(catalog)` would
 * be, so role names no offered tool carries are ignored); `[]` when the state is
 * failed closed (control tools included); else every control tool plus every
 * tool the composed filter allows and, if deferred, that is open. Returns the
 * catalog's own tool objects.
 */
export const visibleTools = <T extends { readonly name: string; readonly provenance?: Provenance }>(
  state: ToolVisibilityState,
  catalog: CatalogLike<T>,
): E.Either<InvalidCatalog, readonly T[]> => {
  const idx = indexCatalog(catalog);
  if (E.isLeft(idx)) return idx;
  if (state.failedClosed) return E.right([]);
  const visible = visiblePredicate(state, idx.right, true);
  return E.right(catalog.tools.filter(visible));
};

/** `sessionVisibleNames` over an already validated catalog index. */
export const sessionVisibleNamesIndexed = (state: ToolVisibilityState, idx: CatalogIndex): string[] => {
  const visible = visiblePredicate(state, idx, false);
  return sortedUnique(idx.view.tools.filter(visible).map((t) => t.name));
};

/**
 * The overlay-free visible names, sorted: steps 3–4 of §7 without any overlay
 * part (no overlay allow, deny or activations) and ignoring `failedClosed`. Used
 * for change detection at boundaries. Assumes a well-formed catalog (validate it
 * with `visibleTools` or the reducer first); a malformed one gives `[]`.
 */
export const sessionVisibleNames = (state: ToolVisibilityState, catalog: CatalogLike): readonly string[] => {
  const idx = indexCatalog(catalog);
  return E.isLeft(idx) ? [] : sessionVisibleNamesIndexed(state, idx.right);
};
