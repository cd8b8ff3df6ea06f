/**
 * Example tests for the tool-visibility machine (tool-visibility.md §10), at the
 * reducer level. The example tools are the spec's: `read_file`, `grep`, `shell`,
 * `web_fetch`, `view_image`, `find_tools` (control), `jira_create` (deferred,
 * from `mcp/jira-prod`, later re-sourced to `mcp/jira-staging`). The engine's
 * part of §8 (one atomic append of a boundary and its notice, clearing the
 * overlay when a turn ends) is modelled by `engineBoundary` below only so the
 * report and notice texts can be checked.
 */
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith, type Codec } from '../../src/model/decode.ts';
import type { StepContext } from '../../src/machines/common.ts';
import {
  allows,
  catalogView,
  composeFilters,
  initialToolVisibility,
  isToolVisibilityError,
  normalizeFilter,
  restoreToolVisibility,
  sessionVisibleNames,
  stepToolVisibility,
  toolScopeNoticeData,
  toolScopeNoticeText,
  toolScopeWarningText,
  toolVisibilityCommandCodecs,
  ToolVisibilityCommandCodec,
  toolVisibilityIntentOf,
  ToolVisibilityStateCodec,
  visibleTools,
  type BoundaryReport,
  type Provenance,
  type ToolCatalog,
  type ToolDefinition,
  type ToolFilter,
  type ToolVisibilityCommand,
  type ToolVisibilityError,
  type ToolVisibilityIntent,
  type ToolVisibilityResult,
  type ToolVisibilityState,
  type WitnessEntry,
} from '../../src/machines/toolVisibility.ts';

// ---------------------------------------------------------------------------
// Fixtures

const ctx: StepContext = { sessionId: 'session-1', seq: 1, at: 1_700_000_000_000 };

const prov = (kind: string, sourceId: string): Provenance => ({ kind, sourceId });
const core = prov('builtin', 'core');
const browser = prov('mcp', 'browser');
const scraper = prov('mcp', 'scraper');
const jiraProd = prov('mcp', 'jira-prod');
const jiraStaging = prov('mcp', 'jira-staging');
const jiraForged = prov('mcp', 'jira-forged');

const tool = (name: string, provenance?: Provenance): ToolDefinition => ({
  name,
  description: `the ${name} tool`,
  inputSchema: { type: 'object', properties: {} },
  ...(provenance === undefined ? {} : { provenance }),
});

interface CatalogOptions {
  readonly replace?: Readonly<Record<string, Provenance | null>>;
  readonly drop?: readonly string[];
  readonly add?: readonly ToolDefinition[];
  readonly controlNames?: readonly string[];
  readonly deferredNames?: readonly string[];
}

/**
 * The §10 example catalog: `read_file`, `grep` (no provenance), `shell`,
 * `web_fetch` (from `mcp/browser`), `view_image`, `find_tools` (control),
 * `jira_create` (deferred, from `mcp/jira-prod`); options replace a tool's
 * provenance (`null` removes it), drop or add tools, or override the roles.
 */
const catalog = (opts: CatalogOptions = {}): ToolCatalog => {
  const base: ToolDefinition[] = [
    tool('read_file', core),
    tool('grep'),
    tool('shell', core),
    tool('web_fetch', browser),
    tool('view_image', core),
    tool('find_tools', core),
    tool('jira_create', jiraProd),
  ];
  const tools = base
    .filter((t) => !(opts.drop ?? []).includes(t.name))
    .map((t) => {
      const r = opts.replace?.[t.name];
      return r === undefined ? t : tool(t.name, r === null ? undefined : r);
    });
  return {
    tools: [...tools, ...(opts.add ?? [])],
    controlNames: [...(opts.controlNames ?? ['find_tools'])],
    deferredNames: [...(opts.deferredNames ?? ['jira_create'])],
  };
};

const cat0 = catalog();
const view0 = catalogView(cat0);
const ALL_INLINE = ['read_file', 'grep', 'shell', 'web_fetch', 'view_image', 'find_tools'];

/** Decodes the command from JSON with its codec (as replay does), then steps. */
const apply = (s: ToolVisibilityState, command: ToolVisibilityCommand): E.Either<ToolVisibilityError, { state: ToolVisibilityState; result: ToolVisibilityResult }> => {
  const decoded = decodeWith(ToolVisibilityCommandCodec, JSON.parse(JSON.stringify(command)));
  if (E.isLeft(decoded)) throw new Error(`command does not decode: ${decoded.left.message}`);
  return stepToolVisibility(s, decoded.right, ctx);
};

const ok = (s: ToolVisibilityState, command: ToolVisibilityCommand): { state: ToolVisibilityState; result: ToolVisibilityResult } => {
  const r = apply(s, command);
  if (E.isLeft(r)) throw new Error(`expected Right, got ${r.left._tag}: ${r.left.message}`);
  return r.right;
};

const err = (s: ToolVisibilityState, command: ToolVisibilityCommand): ToolVisibilityError => {
  const r = apply(s, command);
  if (E.isRight(r)) throw new Error(`expected Left for ${command.type}`);
  return r.left;
};

const run = (s: ToolVisibilityState, commands: readonly ToolVisibilityCommand[]): ToolVisibilityState => commands.reduce((acc, c) => ok(acc, c).state, s);

const visible = (s: ToolVisibilityState, c: ToolCatalog = cat0): string[] => {
  const r = visibleTools(s, c);
  if (E.isLeft(r)) throw new Error(`visibleTools failed: ${r.left.message}`);
  return r.right.map((t) => t.name);
};

const stage = (filter: ToolFilter, c: ToolCatalog = cat0): ToolVisibilityCommand => ({
  type: 'tool_filter_staged',
  filter,
  catalog: catalogView(c),
});
const boundary = (c: ToolCatalog = cat0): ToolVisibilityCommand => ({ type: 'tool_boundary_applied', catalog: catalogView(c) });
const request = (requests: { name: string; provenance?: Provenance }[], c: ToolCatalog = cat0): ToolVisibilityCommand => ({
  type: 'tool_deferred_requested',
  requests,
  catalog: catalogView(c),
});
const overlay = (o: { allow?: string[]; deny?: string[]; activate?: { name: string; provenance?: Provenance }[] }, c: ToolCatalog = cat0): ToolVisibilityCommand => ({
  type: 'tool_turn_overlay_set',
  ...(o.allow === undefined ? {} : { allow: o.allow }),
  deny: o.deny ?? [],
  activate: o.activate ?? [],
  catalog: catalogView(c),
});
const capability = (imageToolResults: boolean): ToolVisibilityCommand => ({ type: 'tool_capability_set', imageToolResults });
const inherited = (filter: ToolFilter, witnesses: WitnessEntry[] = []): ToolVisibilityCommand => ({
  type: 'tool_inherited_filter_set',
  filter,
  witnesses,
});
const CLEAR_REQUESTS: ToolVisibilityCommand = { type: 'tool_deferred_requests_cleared' };
const CLEAR_OVERLAY: ToolVisibilityCommand = { type: 'tool_turn_overlay_cleared' };

interface Notice {
  readonly kind: 'tool_scope' | 'tool_scope_warning';
  readonly text: string;
  readonly data: unknown;
}
interface BoundaryStep {
  readonly state: ToolVisibilityState;
  /** Records appended in the one atomic batch (inert commands are not recorded). */
  readonly batch: Array<{ command: ToolVisibilityCommand } | { notice: Notice }>;
  readonly offered: readonly string[];
  readonly report?: BoundaryReport;
}

/** A model of the engine's boundary (§8 steps 2–4) over the pure reducer. */
const engineBoundary = (s: ToolVisibilityState, c: ToolCatalog): BoundaryStep => {
  const command: ToolVisibilityCommand = { type: 'tool_boundary_applied', catalog: catalogView(c) };
  const r = apply(s, command);
  if (E.isRight(r)) {
    const report = r.right.result as BoundaryReport;
    const batch: BoundaryStep['batch'] = r.right.state === s ? [] : [{ command }];
    if (report.visibleChanged) batch.push({ notice: { kind: 'tool_scope', text: toolScopeNoticeText(report), data: toolScopeNoticeData(report) } });
    return { state: r.right.state, batch, offered: visible(r.right.state, c), report };
  }
  const e = r.left;
  expect(isToolVisibilityError(e)).toBe(true);
  const failed: ToolVisibilityCommand = { type: 'tool_boundary_failed', errorTag: e._tag, message: e.message };
  const f = ok(s, failed);
  return {
    state: f.state,
    batch: [{ command: failed }, { notice: { kind: 'tool_scope_warning', text: toolScopeWarningText(e._tag, e.message), data: { errorTag: e._tag, message: e.message } } }],
    offered: [],
  };
};

const restored = (u: unknown): ToolVisibilityState => {
  const r = restoreToolVisibility(u);
  if (E.isLeft(r)) throw new Error(r.left.reason);
  return r.right;
};

const restoreReason = (u: unknown): string => {
  const r = restoreToolVisibility(u);
  if (E.isRight(r)) throw new Error('expected restore to fail');
  expect(r.left._tag).toBe('MachineStateInvalid');
  expect(r.left.machine).toBe('toolVisibility');
  return r.left.reason;
};

const clone = <A>(a: A): A => JSON.parse(JSON.stringify(a)) as A;

// ---------------------------------------------------------------------------

describe('filters and codecs', () => {
  it('composes allows by intersection and denies by union; deny beats allow', () => {
    const both = composeFilters([
      { type: 'allow', names: ['grep', 'read_file'] },
      { type: 'allow', names: ['grep', 'shell'] },
    ]);
    expect(both).toEqual({ allow: ['grep'], deny: [] });
    expect(['read_file', 'grep', 'shell'].filter((n) => allows(both, n))).toEqual(['grep']);

    const denies = composeFilters([
      { type: 'deny', names: ['shell'] },
      { type: 'deny', names: ['web_fetch'] },
    ]);
    expect(['grep', 'shell', 'web_fetch'].filter((n) => allows(denies, n))).toEqual(['grep']);

    const mixed = composeFilters([
      { type: 'allow', names: ['grep', 'shell'] },
      { type: 'deny', names: ['shell'] },
    ]);
    expect(['grep', 'shell', 'read_file'].filter((n) => allows(mixed, n))).toEqual(['grep']);
    expect(composeFilters([{ type: 'all' }])).toEqual({ allow: null, deny: [] });
  });

  it('the same filters through the machine: active allow + overlay allow, denies union', () => {
    let s = run(initialToolVisibility, [stage({ type: 'allow', names: ['grep', 'read_file'] }), boundary()]);
    s = ok(s, overlay({ allow: ['grep', 'shell'] })).state;
    expect(visible(s)).toEqual(['grep', 'find_tools']);
    let d = run(initialToolVisibility, [stage({ type: 'deny', names: ['shell'] }), boundary()]);
    d = ok(d, overlay({ deny: ['web_fetch'] })).state;
    expect(visible(d)).toEqual(['read_file', 'grep', 'view_image', 'find_tools']);
  });

  it('normalizeFilter sorts and deduplicates', () => {
    expect(normalizeFilter({ type: 'deny', names: ['shell', 'grep', 'shell'] })).toEqual({ type: 'deny', names: ['grep', 'shell'] });
    expect(normalizeFilter({ type: 'all' })).toEqual({ type: 'all' });
  });

  it('round-trips a reachable state through JSON and restore', () => {
    const s = run(initialToolVisibility, [
      capability(false),
      inherited({ type: 'deny', names: ['web_fetch'] }, [{ name: 'web_fetch', provenance: browser }]),
      stage({ type: 'deny', names: ['shell'] }),
      request([{ name: 'jira_create', provenance: jiraProd }]),
      boundary(),
      stage({ type: 'allow', names: ['grep', 'jira_create', 'read_file'] }),
      overlay({ allow: ['grep', 'jira_create'], deny: ['absent_tool'], activate: [{ name: 'jira_create', provenance: jiraProd }] }),
    ]);
    const back = restored(JSON.parse(JSON.stringify(s)));
    expect(back).toEqual(s);
    expect(E.isRight(decodeWith(ToolVisibilityStateCodec, clone(s)))).toBe(true);
    expect(Object.isFrozen(back)).toBe(true);
  });

  it('round-trips every command through its codec', () => {
    const commands: ToolVisibilityCommand[] = [
      stage({ type: 'deny', names: ['shell'] }),
      inherited({ type: 'allow', names: ['grep'] }, []),
      request([{ name: 'jira_create', provenance: jiraProd }]),
      CLEAR_REQUESTS,
      capability(true),
      boundary(),
      { type: 'tool_boundary_failed', errorTag: 'InvalidCatalog', message: 'duplicate tool names: grep' },
      overlay({ allow: ['grep'], deny: ['shell'], activate: [] }),
      CLEAR_OVERLAY,
      { type: 'tool_visibility_intent_restored', intent: toolVisibilityIntentOf(initialToolVisibility) },
    ];
    expect(new Set(commands.map((c) => c.type))).toEqual(new Set(Object.keys(toolVisibilityCommandCodecs)));
    for (const c of commands) {
      const codec = toolVisibilityCommandCodecs[c.type] as Codec<ToolVisibilityCommand>;
      const r = decodeWith(codec, JSON.parse(JSON.stringify(c)));
      expect(r).toEqual(E.right(c));
    }
    // unknown keys and null-for-absent are refused
    expect(E.isLeft(decodeWith(ToolVisibilityCommandCodec, { ...CLEAR_OVERLAY, extra: 1 }))).toBe(true);
    expect(E.isLeft(decodeWith(ToolVisibilityCommandCodec, { ...overlay({}), allow: null }))).toBe(true);
    expect(E.isLeft(decodeWith(ToolVisibilityCommandCodec, { type: 'tool_filter_staged', filter: { type: 'deny', names: [''] }, catalog: view0 }))).toBe(true);
  });

  it('commands normalize unsorted or duplicated names; restore rejects them in a snapshot', () => {
    const s = run(initialToolVisibility, [
      stage({ type: 'deny', names: ['web_fetch', 'shell', 'shell'] }),
      overlay({ allow: ['shell', 'grep', 'grep'], deny: ['zeta', 'alpha', 'zeta'] }),
    ]);
    expect(s.stagedFilter.filter).toEqual({ type: 'deny', names: ['shell', 'web_fetch'] });
    expect(s.stagedFilter.witnesses).toEqual([
      { name: 'shell', provenance: core },
      { name: 'web_fetch', provenance: browser },
    ]);
    expect(s.turnOverlay).toEqual({ allow: ['grep', 'shell'], deny: ['alpha', 'zeta'], activated: [] });
    const i = ok(initialToolVisibility, inherited({ type: 'allow', names: ['shell', 'grep', 'grep'] }, [
      { name: 'shell', provenance: core },
      { name: 'shell', provenance: core },
    ])).state;
    expect(i.inheritedFilter).toEqual({ filter: { type: 'allow', names: ['grep', 'shell'] }, witnesses: [{ name: 'shell', provenance: core }] });

    const unsorted = clone(s);
    (unsorted.stagedFilter.filter as { names: string[] }).names = ['web_fetch', 'shell'];
    unsorted.stagedFilter.witnesses.reverse();
    expect(restoreReason(unsorted)).toMatch(/^invariant 1: stagedFilter/);
    const dup = clone(s);
    (dup.stagedFilter.filter as { names: string[] }).names = ['shell', 'shell', 'web_fetch'];
    expect(restoreReason(dup)).toMatch(/^invariant 1/);
    const overlayDup = clone(s);
    overlayDup.turnOverlay!.deny = ['zeta', 'alpha'];
    expect(restoreReason(overlayDup)).toMatch(/^invariant 1: turnOverlay.deny/);
    const witnessOrder = clone(s);
    witnessOrder.stagedFilter.witnesses.reverse();
    expect(restoreReason(witnessOrder)).toMatch(/^invariant 1: stagedFilter.witnesses/);
  });

  it('restore rejects any other capability filter value, bad shapes and nulls', () => {
    for (const capabilityFilter of [
      { type: 'deny', names: ['shell'] },
      { type: 'deny', names: [] },
      { type: 'allow', names: ['view_image'] },
      { type: 'deny', names: ['view_image', 'view_image'] },
      { type: 'deny', names: ['shell', 'view_image'] },
    ]) {
      expect(restoreReason({ ...clone(initialToolVisibility), capabilityFilter })).toMatch(/^invariant [12]/);
    }
    expect(restored({ ...clone(initialToolVisibility), capabilityFilter: { type: 'deny', names: ['view_image'] } }).capabilityFilter).toEqual({
      type: 'deny',
      names: ['view_image'],
    });
    expect(restoreReason('{}')).toMatch(/^decode:/);
    expect(restoreReason({ ...clone(initialToolVisibility), turnOverlay: null })).toMatch(/^decode:/);
    expect(restoreReason({ ...clone(initialToolVisibility), extra: true })).toMatch(/^decode:.*unknown_field/);
    const { failedClosed: _dropped, ...missing } = clone(initialToolVisibility);
    expect(restoreReason(missing)).toMatch(/^decode:.*missing_field/);
    expect(restoreReason({ ...clone(initialToolVisibility), activeRevision: -1 })).toMatch(/^decode:/);
    expect(restoreReason({ ...clone(initialToolVisibility), activeRevision: 1.5 })).toMatch(/^decode:/);
  });

  it('restore accepts the spec example state and rejects overlay activations the overlay excludes', () => {
    const example = {
      capabilityFilter: { type: 'deny', names: ['view_image'] },
      inheritedFilter: { filter: { type: 'all' }, witnesses: [] },
      activeFilter: { filter: { type: 'deny', names: ['shell'] }, witnesses: [{ name: 'shell', provenance: { kind: 'builtin', sourceId: 'core' } }] },
      stagedFilter: { filter: { type: 'deny', names: ['shell'] }, witnesses: [{ name: 'shell', provenance: { kind: 'builtin', sourceId: 'core' } }] },
      activeDeferred: [],
      stagedDeferred: [{ name: 'jira_create', provenance: { kind: 'mcp', sourceId: 'jira-prod' } }],
      activeRevision: 4,
      stagedRevision: 5,
      failedClosed: false,
      lastBoundary: {
        revision: 4,
        tools: [{ name: 'grep' }, { name: 'shell', provenance: { kind: 'builtin', sourceId: 'core' } }],
        visibleNames: ['grep'],
      },
    };
    expect(restored(example)).toEqual(example);
    const activation = { name: 'jira_create', provenance: jiraProd };
    expect(restoreReason({ ...example, turnOverlay: { deny: ['jira_create'], activated: [activation] } })).toMatch(/^invariant 6/);
    expect(restoreReason({ ...example, turnOverlay: { allow: ['grep'], deny: [], activated: [activation] } })).toMatch(/^invariant 6/);
    expect(restored({ ...example, turnOverlay: { allow: ['jira_create'], deny: [], activated: [activation] } }).turnOverlay?.activated).toEqual([activation]);
    expect(restoreReason({ ...example, lastBoundary: { ...example.lastBoundary, tools: [...example.lastBoundary.tools].reverse() } })).toMatch(
      /^invariant 1: lastBoundary.tools/,
    );
    expect(restoreReason({ ...example, activeRevision: 5 })).toMatch(/^invariant 5/);
    expect(restoreReason({ ...example, activeRevision: 6 })).toMatch(/^invariant 4/);
    expect(restoreReason({ ...example, inheritedFilter: { filter: { type: 'all' }, witnesses: [{ name: 'shell', provenance: core }] } })).toMatch(/^invariant 3/);
  });
});

describe('staging, revisions, guards', () => {
  it('a staged deny [shell] leaves shell visible until a boundary; two stagings mint 1 and 2; the boundary activates 2', () => {
    const a = ok(initialToolVisibility, stage({ type: 'deny', names: ['web_fetch'] }));
    expect(a.result).toBe(1);
    const b = ok(a.state, stage({ type: 'deny', names: ['shell'] }));
    expect(b.result).toBe(2);
    expect(visible(b.state)).toEqual(ALL_INLINE);
    expect(b.state.activeRevision).toBe(0);
    const c = ok(b.state, boundary());
    expect(c.state.activeRevision).toBe(2);
    expect(c.state.stagedRevision).toBe(2);
    expect((c.result as BoundaryReport).revision).toBe(2);
    expect(c.state.activeFilter).toEqual({ filter: { type: 'deny', names: ['shell'] }, witnesses: [{ name: 'shell', provenance: core }] });
    expect(visible(c.state)).toEqual(['read_file', 'grep', 'web_fetch', 'view_image', 'find_tools']);
  });

  it('staging mints even when the content is unchanged', () => {
    const a = ok(initialToolVisibility, stage({ type: 'all' }));
    expect(a.result).toBe(1);
    expect(a.state).not.toBe(initialToolVisibility);
    expect(ok(a.state, stage({ type: 'all' })).result).toBe(2);
  });

  it('unknown names and control names are refused; the state is unchanged', () => {
    const s = run(initialToolVisibility, [stage({ type: 'deny', names: ['shell'] })]);
    const before = clone(s);
    expect(err(s, stage({ type: 'allow', names: ['grep', 'zzz', 'nonexistent'] }))).toEqual({
      _tag: 'UnknownTools',
      names: ['nonexistent', 'zzz'],
      message: 'unknown tools: nonexistent, zzz',
    });
    expect(err(s, stage({ type: 'deny', names: ['find_tools'] }))).toMatchObject({ _tag: 'UnfilterableTools', names: ['find_tools'] });
    // UnfilterableTools comes before UnknownTools
    expect(err(s, stage({ type: 'deny', names: ['zzz', 'find_tools'] }))._tag).toBe('UnfilterableTools');
    expect(s).toEqual(before);
  });

  it('find_tools stays visible under allow [], an overlay deny [find_tools] and an inherited allow [grep]', () => {
    const s = run(initialToolVisibility, [
      stage({ type: 'allow', names: [] }),
      boundary(),
      overlay({ deny: ['find_tools'] }),
      inherited({ type: 'allow', names: ['grep'] }),
    ]);
    expect(visible(s)).toEqual(['find_tools']);
    const onlyInherited = run(initialToolVisibility, [inherited({ type: 'allow', names: ['grep'] })]);
    expect(visible(onlyInherited)).toEqual(['grep', 'find_tools']);
  });

  it('a capability change with a filter pending mints an active revision below the re-minted staged one; the same capability is inert', () => {
    const pending = ok(initialToolVisibility, stage({ type: 'deny', names: ['shell'] })).state;
    expect([pending.activeRevision, pending.stagedRevision]).toEqual([0, 1]);
    const cap = ok(pending, capability(false));
    expect([cap.state.activeRevision, cap.state.stagedRevision]).toEqual([2, 3]);
    expect(cap.state.capabilityFilter).toEqual({ type: 'deny', names: ['view_image'] });
    expect(cap.state.stagedFilter).toEqual(pending.stagedFilter);
    expect(cap.state.activeFilter).toEqual(initialToolVisibility.activeFilter);
    // effective at once; the staged filter stays pending
    expect(visible(cap.state)).toEqual(['read_file', 'grep', 'shell', 'web_fetch', 'find_tools']);
    const again = ok(cap.state, capability(false));
    expect(again.state).toBe(cap.state);
    // nothing pending: active and staged move together
    const settled = ok(initialToolVisibility, capability(false)).state;
    expect([settled.activeRevision, settled.stagedRevision]).toEqual([1, 1]);
    const applied = ok(cap.state, boundary()).state;
    expect([applied.activeRevision, applied.stagedRevision]).toEqual([3, 3]);
    expect(visible(applied)).toEqual(['read_file', 'grep', 'web_fetch', 'find_tools']);
  });

  it('an inherited change with a filter pending does the same; an equal inherited filter is inert', () => {
    const pending = ok(initialToolVisibility, stage({ type: 'deny', names: ['shell'] })).state;
    const inh = ok(pending, inherited({ type: 'deny', names: ['grep'] }));
    expect([inh.state.activeRevision, inh.state.stagedRevision]).toEqual([2, 3]);
    expect(visible(inh.state)).toEqual(['read_file', 'shell', 'web_fetch', 'view_image', 'find_tools']);
    expect(ok(inh.state, inherited({ type: 'deny', names: ['grep', 'grep'] })).state).toBe(inh.state);
    expect(ok(initialToolVisibility, inherited({ type: 'all' })).state).toBe(initialToolVisibility);
  });

  it('inherited witnesses must name filter names and agree', () => {
    expect(err(initialToolVisibility, inherited({ type: 'all' }, [{ name: 'shell', provenance: core }]))).toMatchObject({ _tag: 'InvalidWitnesses', names: ['shell'] });
    expect(
      err(
        initialToolVisibility,
        inherited({ type: 'deny', names: ['web_fetch'] }, [
          { name: 'web_fetch', provenance: browser },
          { name: 'web_fetch', provenance: scraper },
        ]),
      ),
    ).toMatchObject({ _tag: 'InvalidWitnesses', names: ['web_fetch'] });
  });

  it('reports malformed catalogs as InvalidCatalog, in class order', () => {
    const dup = catalog({ add: [tool('grep', core)] });
    expect(err(initialToolVisibility, stage({ type: 'all' }, dup))).toEqual({
      _tag: 'InvalidCatalog',
      reason: 'duplicate_names',
      names: ['grep'],
      message: 'duplicate tool names: grep',
    });
    expect(err(initialToolVisibility, stage({ type: 'all' }, catalog({ add: [tool('')] })))).toMatchObject({ reason: 'empty_name', names: [''] });
    expect(err(initialToolVisibility, stage({ type: 'all' }, catalog({ controlNames: ['find_tools'], deferredNames: ['find_tools', 'jira_create'] })))).toMatchObject({
      reason: 'conflicting_roles',
      names: ['find_tools'],
    });
    // a hand-built view naming a role no tool carries (catalogView would drop it)
    const forged: ToolVisibilityCommand = { type: 'tool_filter_staged', filter: { type: 'all' }, catalog: { ...view0, controlNames: ['find_tools', 'ghost'] } };
    expect(err(initialToolVisibility, forged)).toMatchObject({ reason: 'unknown_role_names', names: ['ghost'] });
    const twice: ToolVisibilityCommand = { type: 'tool_filter_staged', filter: { type: 'all' }, catalog: { ...view0, controlNames: ['find_tools', 'find_tools'] } };
    expect(err(initialToolVisibility, twice)).toMatchObject({ reason: 'duplicate_names', names: ['find_tools'] });
    // catalogView drops role names that no offered tool carries, and visibleTools agrees
    const extraRoles = catalog({ controlNames: ['find_tools', 'ghost'], deferredNames: ['jira_create', 'phantom'] });
    expect(catalogView(extraRoles).controlNames).toEqual(['find_tools']);
    expect(catalogView(extraRoles).deferredNames).toEqual(['jira_create']);
    expect(visible(initialToolVisibility, extraRoles)).toEqual(ALL_INLINE);
    expect(visibleTools(initialToolVisibility, dup)).toEqual(E.left(expect.objectContaining({ _tag: 'InvalidCatalog', reason: 'duplicate_names' })));
  });

  it('never freezes or aliases the caller\'s command objects', () => {
    const filter: ToolFilter = { type: 'deny', names: ['shell'] };
    const catalogArg = catalogView(cat0);
    const staged = stepToolVisibility(initialToolVisibility, { type: 'tool_filter_staged', filter, catalog: catalogArg }, ctx);
    const requests = [{ name: 'jira_create', provenance: { ...jiraProd } }];
    const requested = stepToolVisibility(initialToolVisibility, { type: 'tool_deferred_requested', requests, catalog: catalogArg }, ctx);
    const intent = toolVisibilityIntentOf(initialToolVisibility);
    const restoredIntent = stepToolVisibility(initialToolVisibility, { type: 'tool_visibility_intent_restored', intent }, ctx);
    const bounded = stepToolVisibility(initialToolVisibility, { type: 'tool_boundary_applied', catalog: catalogArg }, ctx);
    for (const r of [E.isRight(staged), E.isRight(requested), E.isRight(restoredIntent), E.isRight(bounded)]) expect(r).toBe(true);
    for (const o of [filter, catalogArg, catalogArg.tools[0], requests[0], requests[0]!.provenance, intent, intent.activeFilter]) expect(Object.isFrozen(o)).toBe(false);
    if (E.isRight(staged)) expect(Object.isFrozen(staged.right.state.stagedFilter)).toBe(true);
  });

  it('catalogView keeps names and provenance only, sorted, without aliasing', () => {
    const v = catalogView(cat0);
    expect(v.tools.map((t) => t.name)).toEqual(['find_tools', 'grep', 'jira_create', 'read_file', 'shell', 'view_image', 'web_fetch']);
    expect(v.tools.find((t) => t.name === 'grep')).toEqual({ name: 'grep' });
    expect(v.tools.find((t) => t.name === 'jira_create')).toEqual({ name: 'jira_create', provenance: jiraProd });
    expect(v.tools.find((t) => t.name === 'jira_create')!.provenance).not.toBe(cat0.tools.find((t) => t.name === 'jira_create')!.provenance);
  });
});

describe('deferred tools', () => {
  const jira = { name: 'jira_create', provenance: jiraProd };

  it('jira_create is hidden, still hidden after a request, visible after the boundary', () => {
    expect(visible(initialToolVisibility)).not.toContain('jira_create');
    const r = ok(initialToolVisibility, request([jira]));
    expect(r.result).toBe(1);
    expect(r.state.stagedDeferred).toEqual([jira]);
    expect(visible(r.state)).not.toContain('jira_create');
    const b = ok(r.state, boundary()).state;
    expect(b.activeDeferred).toEqual([jira]);
    expect(visible(b)).toEqual([...ALL_INLINE, 'jira_create']);
  });

  it('refuses requests without witness, with a forged or conflicting one, for inline tools, or empty', () => {
    expect(err(initialToolVisibility, request([{ name: 'jira_create' }]))).toMatchObject({ _tag: 'MissingWitnesses', names: ['jira_create'] });
    expect(err(initialToolVisibility, request([{ name: 'jira_create', provenance: jiraForged }]))).toMatchObject({ _tag: 'InvalidWitnesses', names: ['jira_create'] });
    expect(err(initialToolVisibility, request([jira, { name: 'jira_create', provenance: jiraStaging }]))).toMatchObject({
      _tag: 'InvalidWitnesses',
      names: ['jira_create'],
    });
    expect(err(initialToolVisibility, request([{ name: 'grep', provenance: core }]))).toMatchObject({ _tag: 'NotDeferredTools', names: ['grep'] });
    expect(err(initialToolVisibility, request([]))).toEqual({ _tag: 'NothingRequested', message: 'no tools requested' });
    expect(err(initialToolVisibility, request([{ name: 'nope', provenance: core }]))).toMatchObject({ _tag: 'UnknownTools', names: ['nope'] });
    // a deferred tool offered without provenance cannot be requested
    const bare = catalog({ replace: { jira_create: null } });
    expect(err(initialToolVisibility, request([jira], bare))).toMatchObject({ _tag: 'InvalidWitnesses', names: ['jira_create'] });
    // the same request twice is one request
    expect(ok(initialToolVisibility, request([jira, jira])).state.stagedDeferred).toEqual([jira]);
  });

  const two = catalog({ add: [tool('jira_search', jiraProd)], deferredNames: ['jira_create', 'jira_search'] });
  const search = { name: 'jira_search', provenance: jiraProd };

  it('two requests stage both; clear plus boundary hides them; a request after a clear while tools are active is accepted', () => {
    const s = run(initialToolVisibility, [request([jira], two), request([search], two)]);
    expect(s.stagedDeferred).toEqual([jira, search]);
    expect(s.stagedRevision).toBe(2);
    const active = ok(s, boundary(two)).state;
    expect(visible(active, two)).toEqual([...ALL_INLINE, 'jira_create', 'jira_search']);
    const cleared = ok(active, CLEAR_REQUESTS);
    expect(cleared.result).toBe(3);
    expect(cleared.state.stagedDeferred).toEqual([]);
    expect(cleared.state.activeDeferred).toEqual([jira, search]);
    expect(visible(cleared.state, two)).toContain('jira_create');
    const again = ok(cleared.state, request([search], two));
    expect(again.state.stagedDeferred).toEqual([search]);
    const hidden = ok(ok(cleared.state, boundary(two)).state, boundary(two)).state;
    expect(visible(hidden, two)).toEqual(ALL_INLINE);
    expect(visible(ok(again.state, boundary(two)).state, two)).toEqual([...ALL_INLINE, 'jira_search']);
  });

  it('a re-sourced deferred tool is hidden with its request kept; a fresh request shows it after the next boundary', () => {
    const loaded = run(initialToolVisibility, [request([jira]), boundary()]);
    const staging = catalog({ replace: { jira_create: jiraStaging } });
    expect(visible(loaded, staging)).toEqual(ALL_INLINE);
    const moved = ok(loaded, boundary(staging)).state;
    expect(moved.activeDeferred).toEqual([jira]);
    expect(visible(moved, staging)).toEqual(ALL_INLINE);
    const fresh = ok(moved, request([{ name: 'jira_create', provenance: jiraStaging }], staging)).state;
    expect(fresh.stagedDeferred).toEqual([{ name: 'jira_create', provenance: jiraStaging }]);
    expect(visible(fresh, staging)).toEqual(ALL_INLINE);
    const shown = ok(fresh, boundary(staging)).state;
    expect(visible(shown, staging)).toEqual([...ALL_INLINE, 'jira_create']);
    // now the old provider is the stranger
    expect(visible(shown, cat0)).toEqual(ALL_INLINE);
  });

  it('when jira-prod comes back it is visible again with no new request', () => {
    const loaded = run(initialToolVisibility, [request([jira]), boundary()]);
    const staging = catalog({ replace: { jira_create: jiraStaging } });
    const away = ok(loaded, boundary(staging)).state;
    expect(visible(away, staging)).toEqual(ALL_INLINE);
    const back = ok(away, boundary(cat0)).state;
    expect(visible(back, cat0)).toEqual([...ALL_INLINE, 'jira_create']);
  });

  it('re-requesting a staged tool whose provider changed replaces its staged witness', () => {
    const staged = ok(initialToolVisibility, request([jira])).state;
    const staging = catalog({ replace: { jira_create: jiraStaging } });
    const replaced = ok(staged, request([{ name: 'jira_create', provenance: jiraStaging }], staging)).state;
    expect(replaced.stagedDeferred).toEqual([{ name: 'jira_create', provenance: jiraStaging }]);
  });
});

describe('witnesses and dormant names', () => {
  it('a witnessed deny is lifted for a re-sourced tool, a witnessed allow excludes it, a name-only deny holds', () => {
    const denyWeb = run(initialToolVisibility, [stage({ type: 'deny', names: ['web_fetch'] }), boundary()]);
    expect(denyWeb.activeFilter.witnesses).toEqual([{ name: 'web_fetch', provenance: browser }]);
    expect(visible(denyWeb)).not.toContain('web_fetch');
    const scraped = catalog({ replace: { web_fetch: scraper } });
    expect(visible(denyWeb, scraped)).toContain('web_fetch');

    const allowBoth = run(initialToolVisibility, [stage({ type: 'allow', names: ['grep', 'web_fetch'] }), boundary()]);
    expect(visible(allowBoth)).toEqual(['grep', 'web_fetch', 'find_tools']);
    expect(visible(allowBoth, scraped)).toEqual(['grep', 'find_tools']);

    // shell offered without provenance when staged: the deny is name-only
    const bareShell = catalog({ replace: { shell: null } });
    const denyShell = run(initialToolVisibility, [stage({ type: 'deny', names: ['shell'] }, bareShell), boundary(bareShell)]);
    expect(denyShell.activeFilter.witnesses).toEqual([]);
    expect(visible(denyShell, cat0)).not.toContain('shell');
    expect(visible(denyShell, catalog({ replace: { shell: prov('mcp', 'other') } }))).not.toContain('shell');
  });

  it('a filter keeps a dormant name and applies again when it returns from the witnessed source; re-staging it is accepted', () => {
    const s = run(initialToolVisibility, [stage({ type: 'deny', names: ['shell'] }), boundary()]);
    const noShell = catalog({ drop: ['shell'] });
    const absent = ok(s, boundary(noShell)).state;
    expect(absent.activeFilter.filter).toEqual({ type: 'deny', names: ['shell'] });
    expect(visible(absent, noShell)).toEqual(['read_file', 'grep', 'web_fetch', 'view_image', 'find_tools']);
    // re-staging the dormant name (plus another) keeps its witness
    const restaged = ok(absent, stage({ type: 'deny', names: ['shell', 'grep'] }, noShell)).state;
    expect(restaged.stagedFilter.witnesses).toEqual([{ name: 'shell', provenance: core }]);
    const applied = ok(restaged, boundary(noShell)).state;
    expect(visible(applied, cat0)).toEqual(['read_file', 'web_fetch', 'view_image', 'find_tools']);
    // from another source the deny is lifted
    expect(visible(applied, catalog({ replace: { shell: prov('mcp', 'remote-shell') } }))).toContain('shell');
    // a never-seen absent name is still unknown
    expect(err(absent, stage({ type: 'deny', names: ['shell', 'zzz'] }, noShell))).toMatchObject({ _tag: 'UnknownTools', names: ['zzz'] });
    // dormant in the inherited filter counts too, but its witness is not copied
    const inh = run(initialToolVisibility, [inherited({ type: 'deny', names: ['ghost'] }, [{ name: 'ghost', provenance: core }])]);
    const st = ok(inh, stage({ type: 'deny', names: ['ghost'] })).state;
    expect(st.stagedFilter).toEqual({ filter: { type: 'deny', names: ['ghost'] }, witnesses: [] });
  });

  it('committing all leaves inherited witnesses and their pruning intact', () => {
    const s = run(initialToolVisibility, [
      inherited({ type: 'deny', names: ['web_fetch'] }, [{ name: 'web_fetch', provenance: browser }]),
      stage({ type: 'deny', names: ['shell'] }),
      boundary(),
      stage({ type: 'all' }),
      boundary(),
    ]);
    expect(s.activeFilter).toEqual({ filter: { type: 'all' }, witnesses: [] });
    expect(s.inheritedFilter.witnesses).toEqual([{ name: 'web_fetch', provenance: browser }]);
    expect(visible(s)).not.toContain('web_fetch');
    expect(visible(s, catalog({ replace: { web_fetch: scraper } }))).toContain('web_fetch');
  });

  it('without image support view_image is hidden under allow [view_image] and despite a session witness from another source', () => {
    const allowed = run(initialToolVisibility, [capability(false), stage({ type: 'allow', names: ['view_image'] }), boundary()]);
    expect(visible(allowed)).toEqual(['find_tools']);
    // a session deny witnessed from builtin/core is lifted for another source; the capability deny is not
    const denied = run(initialToolVisibility, [capability(false), stage({ type: 'deny', names: ['view_image'] }), boundary()]);
    const other = catalog({ replace: { view_image: prov('mcp', 'vision') } });
    expect(visible(denied, other)).not.toContain('view_image');
    const bare = catalog({ replace: { view_image: null } });
    expect(visible(denied, bare)).not.toContain('view_image');
    expect(visible(ok(denied, capability(true)).state, other)).toContain('view_image');
  });
});

describe('overlay', () => {
  const jira = { name: 'jira_create', provenance: jiraProd };

  it('an overlay narrows the active filter for the turn; clearing restores it', () => {
    const s = run(initialToolVisibility, [stage({ type: 'allow', names: ['grep', 'read_file'] }), boundary()]);
    const o = ok(s, overlay({ allow: ['grep', 'shell'], deny: ['grep'] })).state;
    expect(o.activeRevision).toBe(s.activeRevision);
    expect(o.stagedRevision).toBe(s.stagedRevision);
    expect(visible(o)).toEqual(['find_tools']);
    expect(sessionVisibleNames(o, cat0)).toEqual(['find_tools', 'grep', 'read_file']);
    const cleared = ok(o, CLEAR_OVERLAY).state;
    expect(cleared.turnOverlay).toBeUndefined();
    expect('turnOverlay' in cleared).toBe(false);
    expect(visible(cleared)).toEqual(['read_file', 'grep', 'find_tools']);
    expect(ok(cleared, CLEAR_OVERLAY).state).toBe(cleared);
  });

  it('an overlay deny of an absent name is recorded; an allow of an unknown name fails', () => {
    const s = ok(initialToolVisibility, overlay({ deny: ['not_offered'] })).state;
    expect(s.turnOverlay).toEqual({ deny: ['not_offered'], activated: [] });
    expect(err(initialToolVisibility, overlay({ allow: ['grep', 'not_offered'] }))).toMatchObject({ _tag: 'UnknownTools', names: ['not_offered'] });
    // allow may name tools of any role
    expect(visible(ok(initialToolVisibility, overlay({ allow: ['find_tools', 'jira_create'] })).state)).toEqual(['find_tools']);
    // setting the same overlay again is inert
    expect(ok(s, overlay({ deny: ['not_offered', 'not_offered'] })).state).toBe(s);
  });

  it('activations: turn-only, verified witnesses, inline activations dropped, conflicts refused, re-sourcing hides', () => {
    const on = ok(initialToolVisibility, overlay({ activate: [jira] })).state;
    expect(on.turnOverlay?.activated).toEqual([jira]);
    expect(visible(on)).toEqual([...ALL_INLINE, 'jira_create']);
    expect(sessionVisibleNames(on, cat0)).not.toContain('jira_create');
    expect(visible(ok(on, CLEAR_OVERLAY).state)).toEqual(ALL_INLINE);

    expect(err(initialToolVisibility, overlay({ activate: [{ name: 'jira_create', provenance: jiraForged }] }))).toMatchObject({ _tag: 'InvalidWitnesses', names: ['jira_create'] });
    expect(err(initialToolVisibility, overlay({ activate: [{ name: 'read_file', provenance: prov('builtin', 'forged') }] }))).toMatchObject({
      _tag: 'InvalidWitnesses',
      names: ['read_file'],
    });
    expect(err(initialToolVisibility, overlay({ activate: [{ name: 'grep', provenance: core }] }))).toMatchObject({ _tag: 'InvalidWitnesses', names: ['grep'] });
    expect(err(initialToolVisibility, overlay({ activate: [{ name: 'jira_create' }] }))).toMatchObject({ _tag: 'MissingWitnesses', names: ['jira_create'] });
    expect(err(initialToolVisibility, overlay({ activate: [{ name: 'ghost', provenance: core }] }))).toMatchObject({ _tag: 'UnknownTools', names: ['ghost'] });

    const inline = ok(initialToolVisibility, overlay({ activate: [{ name: 'read_file', provenance: core }] })).state;
    expect(inline.turnOverlay).toEqual({ deny: [], activated: [] });
    expect(visible(inline)).toEqual(visible(initialToolVisibility));

    expect(err(initialToolVisibility, overlay({ deny: ['jira_create'], activate: [jira] }))).toEqual({
      _tag: 'OverlayConflict',
      names: ['jira_create'],
      message: 'activations excluded by the same overlay: jira_create',
    });
    expect(err(initialToolVisibility, overlay({ allow: ['grep'], activate: [jira] }))).toMatchObject({ _tag: 'OverlayConflict', names: ['jira_create'] });
    expect(visible(ok(initialToolVisibility, overlay({ allow: ['grep', 'jira_create'], activate: [jira] })).state)).toEqual(['grep', 'find_tools', 'jira_create']);

    const staging = catalog({ replace: { jira_create: jiraStaging } });
    expect(visible(on, staging)).toEqual(ALL_INLINE);
  });
});

describe('the boundary in the session', () => {
  it('the first boundary is initial with no notice; hiding shell appends the exact notice in the same batch', () => {
    const first = engineBoundary(initialToolVisibility, cat0);
    expect(first.report).toEqual({
      revision: 0,
      previousRevision: 0,
      initial: true,
      baseChanged: false,
      visibleChanged: false,
      added: [],
      removed: [],
      visibleNames: ['find_tools', 'grep', 'read_file', 'shell', 'view_image', 'web_fetch'],
    });
    expect(first.batch).toEqual([{ command: boundary() }]);
    expect(first.state.lastBoundary).toEqual({
      revision: 0,
      tools: catalogView(cat0).tools,
      visibleNames: ['find_tools', 'grep', 'read_file', 'shell', 'view_image', 'web_fetch'],
    });

    const staged = run(first.state, [stage({ type: 'all' }), stage({ type: 'deny', names: ['shell'] })]);
    const hide = engineBoundary(staged, cat0);
    expect(hide.report).toMatchObject({ revision: 2, previousRevision: 0, initial: false, baseChanged: false, visibleChanged: true, added: [], removed: ['shell'] });
    expect(hide.batch).toEqual([
      { command: boundary() },
      {
        notice: {
          kind: 'tool_scope',
          text: 'Tool access changed (revision 2). No longer available: shell.',
          data: { revision: 2, added: [], removed: ['shell'], baseChanged: false },
        },
      },
    ]);
    expect(hide.offered).toEqual(['read_file', 'grep', 'web_fetch', 'view_image', 'find_tools']);

    // a boundary with nothing new is inert
    const quiet = engineBoundary(hide.state, cat0);
    expect(quiet.state).toBe(hide.state);
    expect(quiet.batch).toEqual([]);
    expect(quiet.report).toMatchObject({ revision: 2, previousRevision: 2, initial: false, baseChanged: false, visibleChanged: false });
  });

  it('notice text: both clauses, and the spec example', () => {
    expect(toolScopeNoticeText({ revision: 7, added: ['jira_create'], removed: ['shell'] })).toBe(
      'Tool access changed (revision 7). Now available: jira_create. No longer available: shell.',
    );
    expect(toolScopeNoticeText({ revision: 3, added: ['a', 'b'], removed: [] })).toBe('Tool access changed (revision 3). Now available: a, b.');
    expect(toolScopeWarningText('InvalidCatalog', 'duplicate tool names: grep')).toBe(
      'Tool access is closed until the next successful tool update (InvalidCatalog: duplicate tool names: grep).',
    );
  });

  it('a hidden deferred tool appearing reports baseChanged without a notice; overlays never cause notices', () => {
    const noJira = catalog({ drop: ['jira_create'], deferredNames: [] });
    const first = engineBoundary(initialToolVisibility, noJira).state;
    const appear = engineBoundary(first, cat0);
    expect(appear.report).toMatchObject({ baseChanged: true, visibleChanged: false, added: [], removed: [] });
    expect(appear.batch).toEqual([{ command: boundary(cat0) }]);

    const withOverlay = ok(appear.state, overlay({ deny: ['shell', 'grep'], activate: [{ name: 'jira_create', provenance: jiraProd }] })).state;
    const b = engineBoundary(withOverlay, cat0);
    expect(b.state).toBe(withOverlay);
    expect(b.batch).toEqual([]);
    expect(b.offered).toEqual(['read_file', 'web_fetch', 'view_image', 'find_tools', 'jira_create']);
    expect(b.report?.visibleChanged).toBe(false);
  });

  it('a loaded deferred tool is announced as available', () => {
    const first = engineBoundary(initialToolVisibility, cat0).state;
    const req = ok(first, request([{ name: 'jira_create', provenance: jiraProd }])).state;
    const b = engineBoundary(req, cat0);
    expect(b.batch[1]).toEqual({
      notice: {
        kind: 'tool_scope',
        text: 'Tool access changed (revision 1). Now available: jira_create.',
        data: { revision: 1, added: ['jira_create'], removed: [], baseChanged: false },
      },
    });
  });

  it('a catalog with two grep tools fails closed, keeps staged changes staged, and the next good boundary recovers', () => {
    const first = engineBoundary(initialToolVisibility, cat0).state;
    const prepared = run(first, [
      stage({ type: 'deny', names: ['shell'] }),
      request([{ name: 'jira_create', provenance: jiraProd }]),
      overlay({ deny: ['web_fetch'] }),
    ]);
    const dup = catalog({ add: [tool('grep', core)] });
    const failed = engineBoundary(prepared, dup);
    expect(failed.batch).toEqual([
      { command: { type: 'tool_boundary_failed', errorTag: 'InvalidCatalog', message: 'duplicate tool names: grep' } },
      {
        notice: {
          kind: 'tool_scope_warning',
          text: 'Tool access is closed until the next successful tool update (InvalidCatalog: duplicate tool names: grep).',
          data: { errorTag: 'InvalidCatalog', message: 'duplicate tool names: grep' },
        },
      },
    ]);
    expect(failed.offered).toEqual([]);
    const s = failed.state;
    expect(s.failedClosed).toBe(true);
    expect(visibleTools(s, cat0)).toEqual(E.right([])); // control tools included
    expect(s.lastBoundary).toEqual({ ...first.lastBoundary, visibleNames: [] });
    // staged lanes stay staged
    expect(s.stagedFilter).toEqual(prepared.stagedFilter);
    expect(s.stagedDeferred).toEqual(prepared.stagedDeferred);
    expect(s.activeFilter).toEqual(prepared.activeFilter);
    expect([s.activeRevision, s.stagedRevision]).toEqual([prepared.activeRevision, prepared.stagedRevision]);
    expect(s.turnOverlay).toEqual(prepared.turnOverlay);
    // a second failure in a row is inert
    expect(ok(s, { type: 'tool_boundary_failed', errorTag: 'CatalogUnavailable', message: 'runtime down' }).state).toBe(s);

    const recovered = engineBoundary(s, cat0);
    expect(recovered.state.failedClosed).toBe(false);
    expect(recovered.state.turnOverlay).toEqual({ deny: ['web_fetch'], activated: [] });
    expect(recovered.report).toMatchObject({
      revision: 2,
      previousRevision: 0,
      initial: false,
      baseChanged: false,
      visibleChanged: true,
      added: ['find_tools', 'grep', 'jira_create', 'read_file', 'view_image', 'web_fetch'],
      removed: [],
    });
    expect(recovered.batch[1]).toEqual({
      notice: {
        kind: 'tool_scope',
        text: 'Tool access changed (revision 2). Now available: find_tools, grep, jira_create, read_file, view_image, web_fetch.',
        data: { revision: 2, added: ['find_tools', 'grep', 'jira_create', 'read_file', 'view_image', 'web_fetch'], removed: [], baseChanged: false },
      },
    });
    expect(recovered.offered).toEqual(['read_file', 'grep', 'view_image', 'find_tools', 'jira_create']);
  });

  it('a failure before any boundary is not initial afterwards', () => {
    const failed = ok(initialToolVisibility, { type: 'tool_boundary_failed', errorTag: 'CatalogUnavailable', message: 'no catalog' }).state;
    expect(failed.lastBoundary).toEqual({ revision: 0, tools: [], visibleNames: [] });
    const b = engineBoundary(failed, cat0);
    expect(b.report).toMatchObject({ initial: false, baseChanged: true, visibleChanged: true, added: ALL_INLINE.slice().sort() });
  });
});

describe('restore and replay', () => {
  const jira = { name: 'jira_create', provenance: jiraProd };

  it('a valid intent restores with revisions rebased above the counter and pending kept; capability and overlay survive', () => {
    const source = run(initialToolVisibility, [stage({ type: 'deny', names: ['shell'] }), boundary(), request([jira])]);
    const intent = toolVisibilityIntentOf(source);
    expect([intent.activeRevision, intent.stagedRevision]).toEqual([1, 2]);
    const target = run(initialToolVisibility, [
      capability(false),
      stage({ type: 'all' }),
      stage({ type: 'all' }),
      stage({ type: 'all' }),
      boundary(),
      overlay({ deny: ['grep'] }),
    ]);
    expect(target.stagedRevision).toBe(4);
    const r = ok(target, { type: 'tool_visibility_intent_restored', intent });
    expect(r.result).toEqual({ activeRevision: 5, stagedRevision: 6 });
    expect(r.state.activeFilter).toEqual(source.activeFilter);
    expect(r.state.stagedDeferred).toEqual([jira]);
    expect(r.state.capabilityFilter).toEqual({ type: 'deny', names: ['view_image'] });
    expect(r.state.turnOverlay).toEqual({ deny: ['grep'], activated: [] });
    expect(r.state.lastBoundary).toEqual(target.lastBoundary);
    expect(E.isRight(restoreToolVisibility(clone(r.state)))).toBe(true);
    // an intent revision above the counter is kept
    const high = ok(initialToolVisibility, { type: 'tool_visibility_intent_restored', intent: { ...intent, activeRevision: 40, stagedRevision: 41 } });
    expect(high.result).toEqual({ activeRevision: 40, stagedRevision: 41 });
    // the pending request applies at the next boundary
    expect(visible(ok(r.state, boundary()).state)).toEqual(['read_file', 'web_fetch', 'find_tools', 'jira_create']);
  });

  it('refuses a witness outside its filter, equal revisions with different lanes, and active above staged', () => {
    const source = run(initialToolVisibility, [stage({ type: 'deny', names: ['shell'] }), boundary(), request([jira])]);
    const intent = toolVisibilityIntentOf(source);
    const bad = (i: ToolVisibilityIntent): string => {
      const e = err(initialToolVisibility, { type: 'tool_visibility_intent_restored', intent: i });
      expect(e._tag).toBe('MachineStateInvalid');
      return (e as { reason: string }).reason;
    };
    expect(bad({ ...intent, activeFilter: { filter: { type: 'deny', names: ['shell'] }, witnesses: [{ name: 'grep', provenance: core }] } })).toMatch(/invariant 3/);
    expect(bad({ ...intent, activeRevision: 2 })).toMatch(/invariant 5/);
    expect(bad({ ...intent, activeRevision: 3 })).toMatch(/invariant 4/);
    expect(bad({ ...intent, stagedDeferred: [jira, jira] })).toMatch(/invariant 1/);
    // names are not checked against any catalog
    expect(E.isRight(apply(initialToolVisibility, { type: 'tool_visibility_intent_restored', intent: { ...intent, stagedFilter: { filter: { type: 'allow', names: ['gone'] }, witnesses: [] } } }))).toBe(true);
  });

  it('refuses an intent whose rebased revisions would leave the safe-integer range', () => {
    const e = err(initialToolVisibility, {
      type: 'tool_visibility_intent_restored',
      intent: { ...toolVisibilityIntentOf(initialToolVisibility), activeRevision: 0, stagedRevision: Number.MAX_SAFE_INTEGER, stagedFilter: { filter: { type: 'deny', names: ['x'] }, witnesses: [] } },
    });
    expect(e).toMatchObject({ _tag: 'MachineStateInvalid', machine: 'toolVisibility' });
    const top = ok(initialToolVisibility, {
      type: 'tool_visibility_intent_restored',
      intent: { ...toolVisibilityIntentOf(initialToolVisibility), activeRevision: Number.MAX_SAFE_INTEGER, stagedRevision: Number.MAX_SAFE_INTEGER },
    }).state;
    expect(err(top, CLEAR_REQUESTS)).toMatchObject({ _tag: 'MachineStateInvalid', reason: expect.stringMatching(/exhausted/) });
  });

  it('replaying a log that uses every command rebuilds the same state and visible set at every boundary', () => {
    const staging = catalog({ replace: { jira_create: jiraStaging } });
    const dup = catalog({ add: [tool('grep', core)] });
    type Step = { command: ToolVisibilityCommand } | { engine: ToolCatalog };
    const script: Step[] = [
      { command: capability(false) },
      { engine: cat0 },
      { command: inherited({ type: 'deny', names: ['web_fetch'] }, [{ name: 'web_fetch', provenance: browser }]) },
      { command: stage({ type: 'deny', names: ['shell'] }) },
      { command: request([jira]) },
      { engine: cat0 },
      { command: overlay({ allow: ['grep', 'jira_create', 'read_file'], activate: [jira] }) },
      { engine: staging },
      { engine: dup },
      { command: CLEAR_REQUESTS },
      { command: CLEAR_OVERLAY },
      { engine: cat0 },
      { command: { type: 'tool_visibility_intent_restored', intent: toolVisibilityIntentOf(initialToolVisibility) } },
      { command: capability(true) },
      { engine: cat0 },
    ];
    const log: ToolVisibilityCommand[] = [];
    const offeredLive: string[][] = [];
    let s = initialToolVisibility;
    for (const step of script) {
      if ('command' in step) {
        const r = ok(s, step.command);
        if (r.state !== s) log.push(step.command);
        s = r.state;
      } else {
        const b = engineBoundary(s, step.engine);
        for (const rec of b.batch) if ('command' in rec) log.push(rec.command);
        offeredLive.push([...b.offered]);
        s = b.state;
      }
    }
    expect(new Set(log.map((c) => c.type))).toEqual(new Set(Object.keys(toolVisibilityCommandCodecs)));
    // replay from the stored (JSON) log
    const stored = JSON.parse(JSON.stringify(log)) as unknown[];
    let r = initialToolVisibility;
    const offeredReplay: string[][] = [];
    const catalogs = script.filter((x): x is { engine: ToolCatalog } => 'engine' in x).map((x) => x.engine);
    let boundaryIndex = 0;
    for (const u of stored) {
      const c = decodeWith(ToolVisibilityCommandCodec, u);
      if (E.isLeft(c)) throw new Error(c.left.message);
      const next = stepToolVisibility(r, c.right, ctx);
      if (E.isLeft(next)) throw new Error(next.left.message);
      expect(next.right.state).not.toBe(r); // replay never meets an inert command
      r = next.right.state;
      if (c.right.type === 'tool_boundary_applied' || c.right.type === 'tool_boundary_failed') {
        offeredReplay.push(r.failedClosed ? [] : visible(r, catalogs[boundaryIndex]!));
        boundaryIndex++;
      }
    }
    expect(r).toEqual(s);
    expect(offeredReplay).toEqual(offeredLive);
    expect(restored(clone(s))).toEqual(s);
  });

  it('a fork child starts from the initial state', () => {
    expect(restored(clone(initialToolVisibility))).toEqual(initialToolVisibility);
    expect(clone(initialToolVisibility)).toEqual({
      capabilityFilter: { type: 'all' },
      inheritedFilter: { filter: { type: 'all' }, witnesses: [] },
      activeFilter: { filter: { type: 'all' }, witnesses: [] },
      stagedFilter: { filter: { type: 'all' }, witnesses: [] },
      activeDeferred: [],
      stagedDeferred: [],
      activeRevision: 0,
      stagedRevision: 0,
      failedClosed: false,
    });
    expect(Object.isFrozen(initialToolVisibility)).toBe(true);
    expect(visible(initialToolVisibility)).toEqual(ALL_INLINE);
  });
});
