/**
 * Law samples of the tool-visibility machine (`LawSamples`, the registry
 * entry's `laws`): catalogs, filters and requests over five tool names (one
 * control tool, two deferred) and two provenances, plus an unknown name, so
 * names collide, filters compose and some requests are refused.
 */
import type { LawPick, LawSamples } from '../common.ts';
import type { CatalogView, Provenance, ToolFilter, ToolVisibilityCommand } from './codecs.ts';

const NAMES = ['read_file', 'grep', 'find_tools', 'jira_create', 'jira_search'] as const;
const PROVENANCES: readonly Provenance[] = [
  { kind: 'builtin', sourceId: 'core' },
  { kind: 'mcp', sourceId: 'jira-prod' },
];

const sampleCatalog = (pick: LawPick): CatalogView => {
  const names = pick.shuffled(NAMES);
  return {
    tools: names
      .map((name) => (pick.bool() ? { name } : { name, provenance: pick.one(PROVENANCES) }))
      .sort((a, b) => (a.name < b.name ? -1 : 1)),
    controlNames: names.filter((n) => n === 'find_tools'),
    deferredNames: names.filter((n) => n.startsWith('jira')).sort(),
  };
};

const sampleNames = (pick: LawPick): string[] => pick.some([...NAMES, 'zzz']);

const sampleFilter = (pick: LawPick): ToolFilter => {
  switch (pick.one(['all', 'allow', 'deny'] as const)) {
    case 'all':
      return { type: 'all' };
    case 'allow':
      return { type: 'allow', names: sampleNames(pick) };
    case 'deny':
      return { type: 'deny', names: sampleNames(pick) };
  }
};

const sampleRequests = (pick: LawPick) =>
  pick.many(() => {
    const name = pick.one([...NAMES, 'zzz']);
    return pick.bool() ? { name } : { name, provenance: pick.one(PROVENANCES) };
  }, { max: 2 });

/** Law samples of the tool-visibility machine (module docstring). */
export const toolVisibilityLawSamples: LawSamples<ToolVisibilityCommand, undefined> = {
  command: (pick) => {
    switch (
      pick.one([
        'tool_filter_staged',
        'tool_inherited_filter_set',
        'tool_deferred_requested',
        'tool_deferred_requests_cleared',
        'tool_capability_set',
        'tool_boundary_applied',
        'tool_boundary_failed',
        'tool_turn_overlay_set',
        'tool_turn_overlay_cleared',
      ] as const)
    ) {
      case 'tool_filter_staged':
        return { type: 'tool_filter_staged', filter: sampleFilter(pick), catalog: sampleCatalog(pick) };
      case 'tool_inherited_filter_set':
        return {
          type: 'tool_inherited_filter_set',
          filter: sampleFilter(pick),
          witnesses: pick.many(() => ({ name: pick.one(NAMES), provenance: pick.one(PROVENANCES) }), { max: 2 }),
        };
      case 'tool_deferred_requested':
        return { type: 'tool_deferred_requested', requests: sampleRequests(pick), catalog: sampleCatalog(pick) };
      case 'tool_deferred_requests_cleared':
        return { type: 'tool_deferred_requests_cleared' };
      case 'tool_capability_set':
        return { type: 'tool_capability_set', imageToolResults: pick.bool() };
      case 'tool_boundary_applied':
        return { type: 'tool_boundary_applied', catalog: sampleCatalog(pick) };
      case 'tool_boundary_failed':
        return { type: 'tool_boundary_failed', errorTag: pick.one(['InvalidCatalog', 'CatalogUnavailable']), message: 'failed' };
      case 'tool_turn_overlay_set': {
        const base = { type: 'tool_turn_overlay_set' as const, deny: sampleNames(pick), activate: sampleRequests(pick), catalog: sampleCatalog(pick) };
        return pick.bool() ? base : { ...base, allow: sampleNames(pick) };
      }
      case 'tool_turn_overlay_cleared':
        return { type: 'tool_turn_overlay_cleared' };
    }
  },
};
