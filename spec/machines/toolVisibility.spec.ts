/**
 * Property specifications of the tool-visibility machine (tool-visibility.md §2,
 * §3, §4, §7, §10):
 *
 * - filter composition is commutative, associative, has `all` as identity, is
 *   the conjunction of its parts, and a denied name is never allowed;
 * - the visible set is a catalog-ordered subset of the catalog; control tools are
 *   visible unless failed closed (then nothing is);
 * - staging commands never change `visibleTools`;
 * - model-based: random command sequences (valid and invalid) obey the machine
 *   laws (`laws.ts`: known tags, inert iff unchanged, every reachable state
 *   restores to itself), errors carry canonical `names`, and revisions never
 *   decrease.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith } from '../../src/model/decode.ts';
import type { StepContext } from '../../src/machines/common.ts';
import {
  allows,
  catalogView,
  composeFilters,
  initialToolVisibility,
  normalizeFilter,
  sessionVisibleNames,
  stepToolVisibility,
  TOOL_VISIBILITY_ERROR_TAGS,
  ToolVisibilityCommandCodec,
  toolVisibilityCommandCodecs,
  visibleTools,
  type CatalogView,
  type ComposedFilter,
  type Provenance,
  type ToolCatalog,
  type ToolDefinition,
  type ToolFilter,
  type ToolRequest,
  type ToolVisibilityCommand,
  type ToolVisibilityIntent,
  type ToolVisibilityState,
  type WitnessEntry,
  type WitnessedFilter,
} from '../../src/machines/toolVisibility.ts';
import { machines } from '../../src/machines/registry.ts';
import { checkRestoreTotal, checkStepLaws } from './laws.ts';

const ctx: StepContext = { sessionId: 'spec', seq: 1, at: 0 };

// ---------------------------------------------------------------------------
// Universe: the spec's example tools, a second deferred tool, an unknown name.

const NAMES = ['read_file', 'grep', 'shell', 'web_fetch', 'view_image', 'find_tools', 'jira_create', 'jira_search'] as const;
const FILTER_NAMES = [...NAMES, 'zzz', 'dormant'];
const PROVS: Provenance[] = [
  { kind: 'builtin', sourceId: 'core' },
  { kind: 'mcp', sourceId: 'browser' },
  { kind: 'mcp', sourceId: 'scraper' },
  { kind: 'mcp', sourceId: 'jira-prod' },
  { kind: 'mcp', sourceId: 'jira-staging' },
];

const tool = (name: string, provenance?: Provenance): ToolDefinition => ({
  name,
  description: name,
  inputSchema: {},
  ...(provenance === undefined ? {} : { provenance }),
});

const arbProv: fc.Arbitrary<Provenance> = fc.constantFrom(...PROVS);
const arbOptProv: fc.Arbitrary<Provenance | undefined> = fc.option(arbProv, { nil: undefined, freq: 4 });

const defaultRole = (name: string): 'control' | 'deferred' | 'inline' => (name === 'find_tools' ? 'control' : name.startsWith('jira') ? 'deferred' : 'inline');

/** A well-formed catalog: a random subset of the names in random order, usually with the example roles. */
const arbCatalog: fc.Arbitrary<ToolCatalog> = fc
  .tuple(
    fc.shuffledSubarray([...NAMES], { minLength: 0 }),
    fc.array(arbOptProv, { minLength: NAMES.length, maxLength: NAMES.length }),
    fc.array(fc.constantFrom('inline', 'control', 'deferred', 'default', 'default', 'default'), { minLength: NAMES.length, maxLength: NAMES.length }),
  )
  .map(([names, provs, roles]) => {
    const entries = names.map((name, i) => {
      const r = roles[i]!;
      return { name, provenance: provs[i], role: r === 'default' ? defaultRole(name) : r };
    });
    return {
      tools: entries.map((e) => tool(e.name, e.provenance)),
      controlNames: entries.filter((e) => e.role === 'control').map((e) => e.name),
      deferredNames: entries.filter((e) => e.role === 'deferred').map((e) => e.name),
    };
  });

/** A view for a command: usually `catalogView` of a well-formed catalog, sometimes a malformed one. */
const standardView = catalogView({
  tools: NAMES.map((n) => tool(n, n.startsWith('jira') ? PROVS[3] : n === 'grep' ? undefined : PROVS[0])),
  controlNames: ['find_tools'],
  deferredNames: ['jira_create', 'jira_search'],
});
const arbView: fc.Arbitrary<CatalogView> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(standardView) },
  { weight: 12, arbitrary: arbCatalog.map(catalogView) },
  {
    weight: 1,
    arbitrary: fc.tuple(arbCatalog, fc.constantFrom('dup', 'empty', 'ghost', 'conflict', 'unsorted')).map(([c, how]): CatalogView => {
      const v = catalogView(c);
      const first = v.tools[0]?.name ?? 'grep';
      switch (how) {
        case 'dup':
          return { ...v, tools: [...v.tools, { name: first }] };
        case 'empty':
          return { ...v, tools: [...v.tools, { name: '' }] };
        case 'ghost':
          return { ...v, controlNames: [...v.controlNames, 'ghost'] };
        case 'conflict':
          return v.tools.length === 0 ? v : { ...v, tools: v.tools, controlNames: [first], deferredNames: [first] };
        case 'unsorted':
          return { ...v, tools: [...v.tools].reverse(), controlNames: [...v.controlNames].reverse() };
      }
    }),
  },
);

const arbNames = fc.array(fc.constantFrom(...FILTER_NAMES), { maxLength: 5 });
const arbFilter: fc.Arbitrary<ToolFilter> = fc.oneof(
  fc.constant<ToolFilter>({ type: 'all' }),
  arbNames.map((names): ToolFilter => ({ type: 'allow', names })),
  arbNames.map((names): ToolFilter => ({ type: 'deny', names })),
);

/** Requests against a view: mostly the offered tool with its provenance, sometimes forged or bare. */
const arbRequestsFor = (v: CatalogView, minLength: number, deferredOnly = false): fc.Arbitrary<ToolRequest[]> => {
  const all = v.tools.filter((t) => t.name !== '');
  const deferred = all.filter((t) => v.deferredNames.includes(t.name));
  const offered = deferredOnly && deferred.length > 0 ? deferred : all;
  const random = fc.record({ name: fc.constantFrom(...FILTER_NAMES), provenance: arbOptProv }).map((r): ToolRequest => (r.provenance === undefined ? { name: r.name } : r));
  const one =
    offered.length === 0
      ? random
      : fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom(...offered).map((t): ToolRequest => ({ ...t })) },
          { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...offered), arbProv).map(([t, p]): ToolRequest => ({ name: t.name, provenance: p })) },
          { weight: 1, arbitrary: random },
        );
  return fc.array(one, { minLength, maxLength: 3 });
};

const arbWitnessedFilter: fc.Arbitrary<WitnessedFilter> = arbFilter.map(normalizeFilter).chain((filter) =>
  fc
    .subarray(filter.type === 'all' ? [] : filter.names)
    .chain((names) => fc.array(arbProv, { minLength: names.length, maxLength: names.length }).map((ps) => ({ filter, witnesses: names.map((name, i) => ({ name, provenance: ps[i]! })) }))),
);
const arbEntries: fc.Arbitrary<WitnessEntry[]> = fc
  .uniqueArray(fc.constantFrom(...NAMES), { maxLength: 3 })
  .chain((names) => fc.array(arbProv, { minLength: names.length, maxLength: names.length }).map((ps) => names.sort().map((name, i) => ({ name, provenance: ps[i]! }))));

/** Intents: usually valid, sometimes broken (an invariant) or near the revision limit. */
const arbIntent: fc.Arbitrary<ToolVisibilityIntent> = fc
  .record({
    inheritedFilter: arbWitnessedFilter,
    activeFilter: arbWitnessedFilter,
    stagedFilter: arbWitnessedFilter,
    activeDeferred: arbEntries,
    stagedDeferred: arbEntries,
    activeRevision: fc.oneof({ weight: 8, arbitrary: fc.nat(40) }, { weight: 1, arbitrary: fc.constantFrom(Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER) }),
    pending: fc.nat(3),
    breakIt: fc.constantFrom('none', 'none', 'none', 'none', 'revisions', 'witness', 'lanes'),
  })
  .map(({ pending, breakIt, ...i }): ToolVisibilityIntent => {
    const stagedRevision = Math.min(Number.MAX_SAFE_INTEGER, i.activeRevision + pending);
    const base: ToolVisibilityIntent =
      stagedRevision === i.activeRevision ? { ...i, stagedRevision, stagedFilter: i.activeFilter, stagedDeferred: i.activeDeferred } : { ...i, stagedRevision };
    switch (breakIt) {
      case 'revisions':
        return base.stagedRevision === 0 ? { ...base, activeRevision: 1 } : { ...base, activeRevision: base.stagedRevision, stagedRevision: base.stagedRevision - 1 };
      case 'witness':
        return { ...base, inheritedFilter: { filter: { type: 'all' }, witnesses: [{ name: 'grep', provenance: PROVS[0]! }] } };
      case 'lanes':
        return { ...base, stagedRevision: base.activeRevision, stagedFilter: { filter: { type: 'deny', names: ['__never__'] }, witnesses: [] } };
      default:
        return base;
    }
  });

const arbCommand: fc.Arbitrary<ToolVisibilityCommand> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ filter: arbFilter, catalog: arbView }).map((r): ToolVisibilityCommand => ({ type: 'tool_filter_staged', ...r })) },
  {
    weight: 2,
    arbitrary: arbFilter.chain((filter) =>
      fc
        .array(fc.record({ name: fc.constantFrom(...FILTER_NAMES), provenance: arbProv }), { maxLength: 2 })
        .map((witnesses): ToolVisibilityCommand => ({ type: 'tool_inherited_filter_set', filter, witnesses })),
    ),
  },
  { weight: 4, arbitrary: arbView.chain((v) => fc.boolean().chain((d) => arbRequestsFor(v, 0, d).map((requests): ToolVisibilityCommand => ({ type: 'tool_deferred_requested', requests, catalog: v })))) },
  { weight: 1, arbitrary: fc.constant<ToolVisibilityCommand>({ type: 'tool_deferred_requests_cleared' }) },
  { weight: 2, arbitrary: fc.boolean().map((imageToolResults): ToolVisibilityCommand => ({ type: 'tool_capability_set', imageToolResults })) },
  { weight: 6, arbitrary: arbView.map((catalog): ToolVisibilityCommand => ({ type: 'tool_boundary_applied', catalog })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('InvalidCatalog', 'CatalogUnavailable').map((errorTag): ToolVisibilityCommand => ({ type: 'tool_boundary_failed', errorTag, message: 'failed' })),
  },
  {
    weight: 3,
    arbitrary: arbView.chain((v) =>
      fc
        .record({
          allow: fc.option(fc.subarray(v.tools.map((t) => t.name).filter((n) => n !== '')), { nil: undefined }),
          deny: arbNames,
          activate: arbRequestsFor(v, 0, true),
        })
        .map(
          ({ allow, deny, activate }): ToolVisibilityCommand => ({
            type: 'tool_turn_overlay_set',
            ...(allow === undefined ? {} : { allow }),
            deny,
            activate,
            catalog: v,
          }),
        ),
    ),
  },
  { weight: 1, arbitrary: fc.constant<ToolVisibilityCommand>({ type: 'tool_turn_overlay_cleared' }) },
  { weight: 1, arbitrary: arbIntent.map((intent): ToolVisibilityCommand => ({ type: 'tool_visibility_intent_restored', intent })) },
);

/** Folds commands, skipping `Left`s: a reachable state. */
const fold = (commands: readonly ToolVisibilityCommand[]): ToolVisibilityState =>
  commands.reduce((s, c) => {
    const r = stepToolVisibility(s, c, ctx);
    return E.isRight(r) ? r.right.state : s;
  }, initialToolVisibility);

const arbReachable: fc.Arbitrary<ToolVisibilityState> = fc.array(arbCommand, { maxLength: 20 }).map(fold);

// ---------------------------------------------------------------------------

describe('filter composition laws', () => {
  const arbFilters = fc.array(arbFilter, { maxLength: 5 });
  const toFilters = (c: ComposedFilter): ToolFilter[] => [...(c.allow === null ? [] : [{ type: 'allow', names: [...c.allow] } as ToolFilter]), { type: 'deny', names: [...c.deny] }];

  it('is commutative (order does not matter)', () => {
    fc.assert(
      fc.property(arbFilters, fc.func(fc.integer()), (fs, key) => {
        const shuffled = [...fs].sort((a, b) => key(a) - key(b));
        expect(composeFilters(shuffled)).toEqual(composeFilters(fs));
        expect(composeFilters([...fs].reverse())).toEqual(composeFilters(fs));
      }),
      { numRuns: 1000 },
    );
  });

  it('is associative', () => {
    fc.assert(
      fc.property(arbFilter, arbFilter, arbFilter, (a, b, c) => {
        const left = composeFilters([...toFilters(composeFilters([a, b])), c]);
        const right = composeFilters([a, ...toFilters(composeFilters([b, c]))]);
        expect(left).toEqual(right);
        expect(left).toEqual(composeFilters([a, b, c]));
      }),
      { numRuns: 1000 },
    );
  });

  it('has all as its identity', () => {
    fc.assert(
      fc.property(arbFilters, fc.nat(5), (fs, at) => {
        const i = Math.min(at, fs.length);
        expect(composeFilters([...fs.slice(0, i), { type: 'all' }, ...fs.slice(i)])).toEqual(composeFilters(fs));
        expect(composeFilters([])).toEqual({ allow: null, deny: [] });
      }),
      { numRuns: 1000 },
    );
  });

  it('never allows a denied name and allows exactly what every part allows', () => {
    fc.assert(
      fc.property(arbFilters, fc.constantFrom(...FILTER_NAMES), (fs, name) => {
        const c = composeFilters(fs);
        for (const f of fs) if (f.type === 'deny' && f.names.includes(name)) expect(allows(c, name)).toBe(false);
        expect(allows(c, name)).toBe(fs.every((f) => allows(composeFilters([f]), name)));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the visible set', () => {
  it('is a catalog-ordered subset of the catalog; control tools are visible unless failed closed', () => {
    fc.assert(
      fc.property(arbReachable, arbCatalog, (s, catalog) => {
        const r = visibleTools(s, catalog);
        if (E.isLeft(r)) throw new Error(`well-formed catalog refused: ${r.left.message}`);
        let last = -1;
        for (const t of r.right) {
          const i = catalog.tools.indexOf(t);
          expect(i).toBeGreaterThan(last);
          last = i;
        }
        const names = new Set(r.right.map((t) => t.name));
        for (const c of catalog.controlNames) expect(names.has(c)).toBe(!s.failedClosed);
        if (s.failedClosed) expect(r.right).toEqual([]);
        // the overlay-free set is what a state without overlay would show
        const { turnOverlay: _o, ...withoutOverlay } = s;
        const plain = visibleTools({ ...withoutOverlay, failedClosed: false }, catalog);
        expect(E.isRight(plain) && plain.right.map((t) => t.name).sort()).toEqual([...sessionVisibleNames(s, catalog)]);
      }),
      { numRuns: 1000 },
    );
  });

  it('never changes under staging commands', () => {
    const arbStaging = arbView.chain((v) =>
      fc.oneof(
        arbFilter.map((filter): ToolVisibilityCommand => ({ type: 'tool_filter_staged', filter, catalog: v })),
        arbRequestsFor(v, 1).map((requests): ToolVisibilityCommand => ({ type: 'tool_deferred_requested', requests, catalog: v })),
        fc.constant<ToolVisibilityCommand>({ type: 'tool_deferred_requests_cleared' }),
      ),
    );
    fc.assert(
      fc.property(arbReachable, fc.array(arbStaging, { minLength: 1, maxLength: 4 }), arbCatalog, (s, staging, catalog) => {
        const before = visibleTools(s, catalog);
        const after = visibleTools(fold0(s, staging), catalog);
        expect(after).toEqual(before);
      }),
      { numRuns: 1000 },
    );
  });
});

const fold0 = (s0: ToolVisibilityState, commands: readonly ToolVisibilityCommand[]): ToolVisibilityState =>
  commands.reduce((s, c) => {
    const r = stepToolVisibility(s, c, ctx);
    return E.isRight(r) ? r.right.state : s;
  }, s0);

describe('model-based: random command sequences', () => {
  const counts = { right: 0, left: 0, inert: 0 };
  const byType = new Map<string, number>();
  const bump = (k: string): void => void byType.set(k, (byType.get(k) ?? 0) + 1);

  it('never throw, fail only with known tags, keep every state restorable, are inert iff unchanged, and never lower revisions', () => {
    fc.assert(
      fc.property(fc.array(arbCommand, { maxLength: 30 }), (commands) => {
        let s = initialToolVisibility;
        for (const raw of commands) {
          const decoded = decodeWith(ToolVisibilityCommandCodec, JSON.parse(JSON.stringify(raw)));
          if (E.isLeft(decoded)) throw new Error(`generated command does not decode: ${decoded.left.message}`);
          const command = decoded.right;
          const r = stepToolVisibility(s, command, ctx);
          checkStepLaws(machines.toolVisibility, s, r, `after ${command.type}`);
          if (E.isLeft(r)) {
            counts.left++;
            bump(`L:${r.left._tag}`);
            const e = r.left;
            expect(e._tag).not.toBe('CatalogUnavailable');
            expect(typeof e.message).toBe('string');
            if (e._tag === 'MachineStateInvalid') expect(e.machine).toBe('toolVisibility');
            if ('names' in e) {
              expect(e.names.length).toBeGreaterThan(0);
              expect([...e.names]).toEqual([...new Set(e.names)].sort());
            }
            continue;
          }
          counts.right++;
          const next = r.right.state;
          bump(`R:${command.type}${next === s ? ':inert' : ''}`);
          if (next === s) counts.inert++;
          expect(next.activeRevision).toBeGreaterThanOrEqual(s.activeRevision);
          expect(next.stagedRevision).toBeGreaterThanOrEqual(s.stagedRevision);
          switch (command.type) {
            case 'tool_filter_staged':
            case 'tool_deferred_requested':
            case 'tool_deferred_requests_cleared':
              expect(r.right.result).toBe(next.stagedRevision);
              expect(next.stagedRevision).toBe(s.stagedRevision + 1);
              expect(next.activeRevision).toBe(s.activeRevision);
              break;
            case 'tool_boundary_applied': {
              const report = r.right.result as { revision: number; previousRevision: number; visibleNames: string[] };
              expect(report.revision).toBe(next.activeRevision);
              expect(report.previousRevision).toBe(s.activeRevision);
              expect(next.activeRevision).toBe(next.stagedRevision);
              expect(next.failedClosed).toBe(false);
              expect(next.lastBoundary?.visibleNames).toEqual(report.visibleNames);
              break;
            }
            case 'tool_boundary_failed':
              expect(next.failedClosed).toBe(true);
              expect(next.lastBoundary?.visibleNames).toEqual([]);
              expect(next.stagedFilter).toBe(s.stagedFilter);
              expect(next.stagedDeferred).toBe(s.stagedDeferred);
              break;
            case 'tool_visibility_intent_restored':
              expect(r.right.result).toEqual({ activeRevision: next.activeRevision, stagedRevision: next.stagedRevision });
              expect(next.activeRevision).toBeGreaterThan(s.stagedRevision);
              expect(next.stagedRevision - next.activeRevision).toBe(command.intent.stagedRevision - command.intent.activeRevision);
              break;
            case 'tool_turn_overlay_set':
            case 'tool_turn_overlay_cleared':
              expect([next.activeRevision, next.stagedRevision]).toEqual([s.activeRevision, s.stagedRevision]);
              break;
            default:
              break;
          }
          s = next;
        }
      }),
      { numRuns: 4000 },
    );
    // the generators reach both outcomes and inert steps
    expect(counts.right).toBeGreaterThan(1000);
    expect(counts.left).toBeGreaterThan(1000);
    expect(counts.inert).toBeGreaterThan(100);
    if (process.env['TV_SPEC_STATS'] !== undefined) console.log([...byType.entries()].sort());
    // every command succeeds (non-inertly) somewhere, and every guard class is hit
    for (const type of Object.keys(toolVisibilityCommandCodecs)) expect(byType.get(`R:${type}`) ?? 0).toBeGreaterThan(10);
    for (const tag of TOOL_VISIBILITY_ERROR_TAGS) if (tag !== 'CatalogUnavailable') expect(byType.get(`L:${tag}`) ?? 0).toBeGreaterThan(10);
  });

  it('codec and restore never throw on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), arbReachable.map((s) => JSON.parse(JSON.stringify(s)) as unknown)), (u) => {
        checkRestoreTotal(machines.toolVisibility, u);
        const c = decodeWith(ToolVisibilityCommandCodec, u);
        if (E.isLeft(c)) expect(c.left._tag).toBe('DecodeError');
      }),
      { numRuns: 1000 },
    );
  });
});
