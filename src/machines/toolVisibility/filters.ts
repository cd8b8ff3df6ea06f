/**
 * Tool filters and their composition (tool-visibility.md §2).
 *
 * ```
 * ToolFilter     = { type: 'all' } | { type: 'allow', names } | { type: 'deny', names }
 * ComposedFilter = { allow: string[] | null, deny: string[] }     // in memory only
 * ```
 *
 * | input     | effect on the composed filter                |
 * | --------- | -------------------------------------------- |
 * | start     | `allow = null` (unrestricted), `deny = []`   |
 * | `all`     | nothing                                      |
 * | `allow N` | `allow = N` if null, else `allow ∩ N`        |
 * | `deny N`  | `deny = deny ∪ N`                            |
 *
 * Allows intersect, denies union, deny beats allow, `all` is the identity, and
 * order does not matter: the composed lists are sorted and unique, so equal
 * compositions are deep-equal.
 */
import type { ToolFilter } from './codecs.ts';
import { isCanonical, sortedUnique } from './util.ts';

/**
 * The composition of filters: `allow === null` means unrestricted. An in-memory
 * value, never stored (so it has no codec); both lists are sorted and unique.
 */
export interface ComposedFilter {
  readonly allow: readonly string[] | null;
  readonly deny: readonly string[];
}

/** The filter with its names sorted (UTF-16 code unit order) and deduplicated; a fresh object. */
export const normalizeFilter = (filter: ToolFilter): ToolFilter =>
  filter.type === 'all' ? { type: 'all' } : { type: filter.type, names: sortedUnique(filter.names) };

/** Whether the filter's names are already sorted and unique (`all` always is). */
export const isCanonicalFilter = (filter: ToolFilter): boolean => filter.type === 'all' || isCanonical(filter.names);

/** The names a filter lists (`[]` for `all`). */
export const filterNames = (filter: ToolFilter): readonly string[] => (filter.type === 'all' ? [] : filter.names);

/** Composes filters in any order (see the module table). */
export const composeFilters = (filters: readonly ToolFilter[]): ComposedFilter => {
  let allow: Set<string> | null = null;
  const deny = new Set<string>();
  for (const f of filters) {
    if (f.type === 'allow') {
      if (allow === null) allow = new Set(f.names);
      else {
        const names = new Set(f.names);
        for (const n of allow) if (!names.has(n)) allow.delete(n);
      }
    } else if (f.type === 'deny') {
      for (const n of f.names) deny.add(n);
    }
  }
  return { allow: allow === null ? null : sortedUnique([...allow]), deny: sortedUnique([...deny]) };
};

/** `(c.allow === null || c.allow has name) && !(c.deny has name)`: deny beats allow. */
export const allows = (c: ComposedFilter, name: string): boolean => (c.allow === null || c.allow.includes(name)) && !c.deny.includes(name);

/** `{ type: 'all' }`: the capability filter of a model that accepts images in tool results. */
const capabilityAll: ToolFilter = Object.freeze({ type: 'all' }) as ToolFilter;
/** `{ type: 'deny', names: ['view_image'] }`: the capability filter of a model that does not. */
const capabilityNoImages: ToolFilter = Object.freeze({ type: 'deny', names: Object.freeze(['view_image']) as string[] }) as ToolFilter;

/**
 * The capability filter for a model: `all` when it accepts images in tool
 * results, else `deny ['view_image']`. No other capability value exists.
 */
export const capabilityFilterFor = (imageToolResults: boolean): ToolFilter => (imageToolResults ? capabilityAll : capabilityNoImages);

/** Whether `filter` is one of the two capability filter values (invariant 2). */
export const isCapabilityFilter = (filter: ToolFilter): boolean =>
  filter.type === 'all' || (filter.type === 'deny' && filter.names.length === 1 && filter.names[0] === 'view_image');
