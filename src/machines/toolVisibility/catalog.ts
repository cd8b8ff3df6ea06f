/**
 * Catalogs and catalog views (tool-visibility.md §1).
 *
 * A catalog or view is **well formed** when names are non-empty and unique,
 * role names name offered tools, and no name is both control and deferred;
 * otherwise `InvalidCatalog`, whose reason is the first failing class in this
 * order: `empty_name`, `duplicate_names`, `unknown_role_names`,
 * `conflicting_roles`.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { CatalogLike, CatalogTool, CatalogView, Provenance } from './codecs.ts';
import { invalidCatalog, type InvalidCatalog } from './errors.ts';
import { compareStrings, copyProvenance, provenanceKey, sortedUnique } from './util.ts';

/** A validated catalog: the canonical view plus lookups by name. */
export interface CatalogIndex {
  /** The view, sorted (tools by name, role names sorted and unique). */
  readonly view: CatalogView;
  /** Offered tools by name. */
  readonly offered: ReadonlyMap<string, CatalogTool>;
  readonly control: ReadonlySet<string>;
  readonly deferred: ReadonlySet<string>;
}

const compareTools = (a: CatalogTool, b: CatalogTool): number => compareStrings(a.name, b.name) || compareStrings(provenanceKey(a.provenance), provenanceKey(b.provenance));

const toolRef = (name: string, provenance: Provenance | undefined): CatalogTool =>
  provenance === undefined ? { name } : { name, provenance: copyProvenance(provenance) };

/**
 * What a command records of a catalog: `{ tools: { name, provenance? }[], controlNames, deferredNames }`.
 * Tools are sorted by name (ties by provenance, so even a malformed catalog has
 * one view); descriptions and schemas are left out; role names are sorted,
 * deduplicated, and those that no offered tool carries are dropped. Empty and
 * duplicate tool names are kept, so the reducer reports them. Never aliases the
 * caller's objects.
 */
export const catalogView = (catalog: CatalogLike): CatalogView => {
  const tools = catalog.tools.map((t) => toolRef(t.name, t.provenance));
  tools.sort(compareTools);
  const offered = new Set(tools.map((t) => t.name));
  return {
    tools,
    controlNames: sortedUnique(catalog.controlNames.filter((n) => offered.has(n))),
    deferredNames: sortedUnique(catalog.deferredNames.filter((n) => offered.has(n))),
  };
};

const duplicates = (names: readonly string[]): string[] => {
  const seen = new Set<string>();
  const dup: string[] = [];
  for (const n of names) {
    if (seen.has(n)) dup.push(n);
    else seen.add(n);
  }
  return dup;
};

/**
 * Checks a view (or any catalog taken as given) for well-formedness and indexes
 * it. Unlike `catalogView`, nothing is dropped: a role name that no tool
 * carries is `unknown_role_names`, a role name listed twice `duplicate_names`.
 * The returned view is sorted even when the input was not.
 */
export const indexCatalogView = (view: CatalogLike): E.Either<InvalidCatalog, CatalogIndex> => {
  const toolNames = view.tools.map((t) => t.name);
  const all = [...toolNames, ...view.controlNames, ...view.deferredNames];
  if (all.some((n) => n === '')) return E.left(invalidCatalog('empty_name', ['']));
  const dup = [...duplicates(toolNames), ...duplicates(view.controlNames), ...duplicates(view.deferredNames)];
  if (dup.length > 0) return E.left(invalidCatalog('duplicate_names', dup));
  const offered = new Map<string, CatalogTool>();
  for (const t of view.tools) offered.set(t.name, toolRef(t.name, t.provenance));
  const unknownRoles = [...view.controlNames, ...view.deferredNames].filter((n) => !offered.has(n));
  if (unknownRoles.length > 0) return E.left(invalidCatalog('unknown_role_names', unknownRoles));
  const control = new Set(view.controlNames);
  const conflicting = view.deferredNames.filter((n) => control.has(n));
  if (conflicting.length > 0) return E.left(invalidCatalog('conflicting_roles', conflicting));
  const tools = [...offered.values()];
  tools.sort(compareTools);
  return E.right({
    view: { tools, controlNames: sortedUnique(view.controlNames), deferredNames: sortedUnique(view.deferredNames) },
    offered,
    control,
    deferred: new Set(view.deferredNames),
  });
};

/**
 * Checks a runtime catalog as its view would be checked: `indexCatalogView(catalogView(catalog))`.
 * Role names that no offered tool carries are therefore tolerated (the view
 * drops them), so `visibleTools` agrees with the boundary the engine records.
 */
export const indexCatalog = (catalog: CatalogLike): E.Either<InvalidCatalog, CatalogIndex> => indexCatalogView(catalogView(catalog));
