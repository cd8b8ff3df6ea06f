/**
 * Codecs and types of the tool-visibility machine (tool-visibility.md §1–§5).
 *
 * Every type here is `t.TypeOf` of a strict codec from `src/model/decode.ts`:
 * unknown keys are rejected and optional fields are omitted when absent, never
 * `null`. Codecs check shape only; canonical order (sorted, unique name lists)
 * is normalized by the reducer for commands and checked by
 * `restoreToolVisibility` for stored states (invariants, see `invariants.ts`).
 *
 * Tool names inside catalogs and catalog views decode as any string, so that an
 * empty name reaches the reducer and is reported as `InvalidCatalog` with
 * reason `empty_name`; names everywhere else (filters, witnesses, requests,
 * overlays, stored marks) must be non-empty strings.
 */
import type * as t from 'io-ts';
import { arrayOf, bool, dispatch, literal, nat, nonEmptyStr, str, strict } from '../../model/decode.ts';
import { JsonCodec } from '../../model/json.ts';

// ---------------------------------------------------------------------------
// §1 Inputs

/** `{ kind, sourceId }`, both non-empty: where a tool definition comes from (`builtin/core`, `mcp/jira-prod`). */
export const ProvenanceCodec = strict('Provenance', { kind: nonEmptyStr, sourceId: nonEmptyStr });
/** Where a tool definition comes from; equal when both fields are equal. */
export type Provenance = t.TypeOf<typeof ProvenanceCodec>;

/** A tool definition as the runtime offers it: `{ name, description, inputSchema, provenance? }`. */
export const ToolDefinitionCodec = strict('ToolDefinition', { name: str, description: str, inputSchema: JsonCodec }, { provenance: ProvenanceCodec });
/** A tool definition as the runtime offers it (`inputSchema` is any JSON value). */
export type ToolDefinition = t.TypeOf<typeof ToolDefinitionCodec>;

/**
 * What the runtime offers now: `{ tools, controlNames, deferredNames }`. A query
 * argument, never stored. Well-formedness (non-empty unique names, role names
 * naming offered tools, no name both control and deferred) is checked by the
 * reducer and by `visibleTools`, not by this codec.
 */
export const ToolCatalogCodec = strict('ToolCatalog', { tools: arrayOf(ToolDefinitionCodec), controlNames: arrayOf(str), deferredNames: arrayOf(str) });
/** What the runtime offers now (see `ToolCatalogCodec`). */
export type ToolCatalog = t.TypeOf<typeof ToolCatalogCodec>;

/** A tool as a catalog view records it: `{ name, provenance? }`. */
export const CatalogToolCodec = strict('CatalogTool', { name: str }, { provenance: ProvenanceCodec });
/** A tool as a catalog view records it: `{ name, provenance? }`. */
export type CatalogTool = t.TypeOf<typeof CatalogToolCodec>;

/**
 * What commands record of a catalog: `{ tools: { name, provenance? }[], controlNames, deferredNames }`,
 * all sorted; built by `catalogView`. The reducer re-validates it (`InvalidCatalog`)
 * and sorts it again, since a command may come from a log.
 */
export const CatalogViewCodec = strict('CatalogView', { tools: arrayOf(CatalogToolCodec), controlNames: arrayOf(str), deferredNames: arrayOf(str) });
/** What commands record of a catalog (see `CatalogViewCodec`). */
export type CatalogView = t.TypeOf<typeof CatalogViewCodec>;

/** Anything with the catalog's role structure: a `ToolCatalog` or a `CatalogView`. */
export interface CatalogLike<T extends { readonly name: string; readonly provenance?: Provenance } = { readonly name: string; readonly provenance?: Provenance }> {
  readonly tools: readonly T[];
  readonly controlNames: readonly string[];
  readonly deferredNames: readonly string[];
}

// ---------------------------------------------------------------------------
// §2 ToolFilter

const AllFilterCodec = strict('ToolFilter.all', { type: literal('all') });
const AllowFilterCodec = strict('ToolFilter.allow', { type: literal('allow'), names: arrayOf(nonEmptyStr) });
const DenyFilterCodec = strict('ToolFilter.deny', { type: literal('deny'), names: arrayOf(nonEmptyStr) });

/** `{ type: 'all' } | { type: 'allow', names } | { type: 'deny', names }`; stored names are sorted and unique. */
export const ToolFilterCodec = dispatch('ToolFilter', 'type', { all: AllFilterCodec, allow: AllowFilterCodec, deny: DenyFilterCodec });
/** A tool filter (tool-visibility.md §2). */
export type ToolFilter = t.TypeOf<typeof ToolFilterCodec>;

// ---------------------------------------------------------------------------
// §3 State parts

/** `{ name, provenance }`: the provenance recorded for a name; lists are sorted by name, unique. */
export const WitnessEntryCodec = strict('WitnessEntry', { name: nonEmptyStr, provenance: ProvenanceCodec });
/** The provenance recorded for a name. */
export type WitnessEntry = t.TypeOf<typeof WitnessEntryCodec>;

/** `{ filter, witnesses }`: a filter with the witnesses of (some of) its names; others are name-only. */
export const WitnessedFilterCodec = strict('WitnessedFilter', { filter: ToolFilterCodec, witnesses: arrayOf(WitnessEntryCodec) });
/** A filter with its own witnesses. */
export type WitnessedFilter = t.TypeOf<typeof WitnessedFilterCodec>;

/** `{ allow?, deny, activated }`: this turn's restriction and deferred activations. */
export const TurnOverlayCodec = strict('TurnOverlay', { deny: arrayOf(nonEmptyStr), activated: arrayOf(WitnessEntryCodec) }, { allow: arrayOf(nonEmptyStr) });
/** This turn's restriction and deferred activations. */
export type TurnOverlay = t.TypeOf<typeof TurnOverlayCodec>;

/** A tool as a boundary mark stores it: `{ name, provenance? }` with a non-empty name. */
export const MarkedToolCodec = strict('MarkedTool', { name: nonEmptyStr }, { provenance: ProvenanceCodec });

/** `{ revision, tools, visibleNames }`: what the last boundary saw (tools sorted by name). */
export const BoundaryMarkCodec = strict('BoundaryMark', { revision: nat, tools: arrayOf(MarkedToolCodec), visibleNames: arrayOf(nonEmptyStr) });
/** What the last boundary saw. */
export type BoundaryMark = t.TypeOf<typeof BoundaryMarkCodec>;

/** The stored state's shape, without the invariants (`ToolVisibilityStateCodec` adds them). */
export const ToolVisibilityStateShapeCodec = strict(
  'ToolVisibilityState',
  {
    capabilityFilter: ToolFilterCodec,
    inheritedFilter: WitnessedFilterCodec,
    activeFilter: WitnessedFilterCodec,
    stagedFilter: WitnessedFilterCodec,
    activeDeferred: arrayOf(WitnessEntryCodec),
    stagedDeferred: arrayOf(WitnessEntryCodec),
    activeRevision: nat,
    stagedRevision: nat,
    failedClosed: bool,
  },
  { turnOverlay: TurnOverlayCodec, lastBoundary: BoundaryMarkCodec },
);
/** The machine state stored under `palimpsest.toolVisibility` (tool-visibility.md §3). */
export type ToolVisibilityState = t.TypeOf<typeof ToolVisibilityStateShapeCodec>;

/** The intent lanes an intent restore takes: filters, deferred lists and revisions. */
export const ToolVisibilityIntentShapeCodec = strict('ToolVisibilityIntent', {
  inheritedFilter: WitnessedFilterCodec,
  activeFilter: WitnessedFilterCodec,
  stagedFilter: WitnessedFilterCodec,
  activeDeferred: arrayOf(WitnessEntryCodec),
  stagedDeferred: arrayOf(WitnessEntryCodec),
  activeRevision: nat,
  stagedRevision: nat,
});
/** `inheritedFilter`, `activeFilter`, `stagedFilter`, `activeDeferred`, `stagedDeferred`, `activeRevision`, `stagedRevision`. */
export type ToolVisibilityIntent = t.TypeOf<typeof ToolVisibilityIntentShapeCodec>;

// ---------------------------------------------------------------------------
// §8 Boundary report

/**
 * `{ revision, previousRevision, initial, baseChanged, visibleChanged, added, removed, visibleNames }`,
 * the result of `tool_boundary_applied`; lists sorted.
 */
export const BoundaryReportCodec = strict('BoundaryReport', {
  revision: nat,
  previousRevision: nat,
  initial: bool,
  baseChanged: bool,
  visibleChanged: bool,
  added: arrayOf(nonEmptyStr),
  removed: arrayOf(nonEmptyStr),
  visibleNames: arrayOf(nonEmptyStr),
});
/** What a successful boundary reports (tool-visibility.md §8). */
export type BoundaryReport = t.TypeOf<typeof BoundaryReportCodec>;

// ---------------------------------------------------------------------------
// §5 Commands

/** `{ name, provenance? }`: a deferred-tool request or an overlay activation. */
export const ToolRequestCodec = strict('ToolRequest', { name: nonEmptyStr }, { provenance: ProvenanceCodec });
/** A deferred-tool request or an overlay activation. */
export type ToolRequest = t.TypeOf<typeof ToolRequestCodec>;

/**
 * Each tool-visibility command `type` mapped to its strict codec. The session's
 * command union dispatches on `type` across every machine's map.
 */
export const toolVisibilityCommandCodecs = {
  tool_filter_staged: strict('tool_filter_staged', { type: literal('tool_filter_staged'), filter: ToolFilterCodec, catalog: CatalogViewCodec }),
  tool_inherited_filter_set: strict('tool_inherited_filter_set', {
    type: literal('tool_inherited_filter_set'),
    filter: ToolFilterCodec,
    witnesses: arrayOf(WitnessEntryCodec),
  }),
  tool_deferred_requested: strict('tool_deferred_requested', {
    type: literal('tool_deferred_requested'),
    requests: arrayOf(ToolRequestCodec),
    catalog: CatalogViewCodec,
  }),
  tool_deferred_requests_cleared: strict('tool_deferred_requests_cleared', { type: literal('tool_deferred_requests_cleared') }),
  tool_capability_set: strict('tool_capability_set', { type: literal('tool_capability_set'), imageToolResults: bool }),
  tool_boundary_applied: strict('tool_boundary_applied', { type: literal('tool_boundary_applied'), catalog: CatalogViewCodec }),
  tool_boundary_failed: strict('tool_boundary_failed', { type: literal('tool_boundary_failed'), errorTag: nonEmptyStr, message: str }),
  tool_turn_overlay_set: strict(
    'tool_turn_overlay_set',
    { type: literal('tool_turn_overlay_set'), deny: arrayOf(nonEmptyStr), activate: arrayOf(ToolRequestCodec), catalog: CatalogViewCodec },
    { allow: arrayOf(nonEmptyStr) },
  ),
  tool_turn_overlay_cleared: strict('tool_turn_overlay_cleared', { type: literal('tool_turn_overlay_cleared') }),
  tool_visibility_intent_restored: strict('tool_visibility_intent_restored', {
    type: literal('tool_visibility_intent_restored'),
    intent: ToolVisibilityIntentShapeCodec,
  }),
} as const;

/** The tool-visibility commands, decoded by dispatch on `type`. */
export const ToolVisibilityCommandCodec = dispatch('ToolVisibilityCommand', 'type', toolVisibilityCommandCodecs);
/** Any tool-visibility command. */
export type ToolVisibilityCommand = t.TypeOf<typeof ToolVisibilityCommandCodec>;
/** The command `type`s of this machine. */
export type ToolVisibilityCommandType = keyof typeof toolVisibilityCommandCodecs;
/** The command of one `type`. */
export type ToolVisibilityCommandOf<K extends ToolVisibilityCommandType> = t.TypeOf<(typeof toolVisibilityCommandCodecs)[K]>;
