/**
 * Errors of the tool-visibility machine (tool-visibility.md §6): plain objects
 * `{ _tag, ...fields, message }`. A `names` field lists every offending name of
 * its class, sorted (UTF-16 code unit order) and deduplicated, and nothing else.
 */
import { machineStateInvalid, type MachineStateInvalid } from '../common.ts';
import { joinNames, sortedUnique } from './util.ts';

/** Why a catalog or catalog view is not well formed. */
export type InvalidCatalogReason = 'empty_name' | 'duplicate_names' | 'unknown_role_names' | 'conflicting_roles';

/** The catalog is not well formed: an empty name, a name offered twice, a role name no offered tool carries, or a name both control and deferred. */
export interface InvalidCatalog {
  readonly _tag: 'InvalidCatalog';
  readonly reason: InvalidCatalogReason;
  readonly names: readonly string[];
  readonly message: string;
}

/** Names that are not offered (for staging: nor dormant in a stored filter). */
export interface UnknownTools {
  readonly _tag: 'UnknownTools';
  readonly names: readonly string[];
  readonly message: string;
}

/** Control tools named in a session filter. */
export interface UnfilterableTools {
  readonly _tag: 'UnfilterableTools';
  readonly names: readonly string[];
  readonly message: string;
}

/** Requests for offered tools that are not deferred. */
export interface NotDeferredTools {
  readonly _tag: 'NotDeferredTools';
  readonly names: readonly string[];
  readonly message: string;
}

/** A deferred-tool request naming no tool. */
export interface NothingRequested {
  readonly _tag: 'NothingRequested';
  readonly message: string;
}

/** Requests or activations without a provenance. */
export interface MissingWitnesses {
  readonly _tag: 'MissingWitnesses';
  readonly names: readonly string[];
  readonly message: string;
}

/** A provenance not matching the offered tool, or two provenances for one name. */
export interface InvalidWitnesses {
  readonly _tag: 'InvalidWitnesses';
  readonly names: readonly string[];
  readonly message: string;
}

/** Overlay activations that the same overlay's `allow` or `deny` excludes. */
export interface OverlayConflict {
  readonly _tag: 'OverlayConflict';
  readonly names: readonly string[];
  readonly message: string;
}

/** Engine only, never the reducer: the runtime could not list its tools. */
export interface CatalogUnavailable {
  readonly _tag: 'CatalogUnavailable';
  readonly message: string;
}

/** Every error the tool-visibility machine (and its engine step) can report. */
export type ToolVisibilityError =
  | InvalidCatalog
  | UnknownTools
  | UnfilterableTools
  | NotDeferredTools
  | NothingRequested
  | MissingWitnesses
  | InvalidWitnesses
  | OverlayConflict
  | MachineStateInvalid
  | CatalogUnavailable;

/** The `_tag`s of `ToolVisibilityError`. */
export const TOOL_VISIBILITY_ERROR_TAGS: readonly ToolVisibilityError['_tag'][] = Object.freeze([
  'InvalidCatalog',
  'UnknownTools',
  'UnfilterableTools',
  'NotDeferredTools',
  'NothingRequested',
  'MissingWitnesses',
  'InvalidWitnesses',
  'OverlayConflict',
  'MachineStateInvalid',
  'CatalogUnavailable',
] as const);

const tagSet = new Set<string>(TOOL_VISIBILITY_ERROR_TAGS);

/**
 * Whether `u` is a tool-visibility error: an object whose `_tag` is one of
 * `TOOL_VISIBILITY_ERROR_TAGS` (a `MachineStateInvalid` only when its `machine`
 * is `toolVisibility`). The engine uses it to tell a boundary failure from a
 * lifecycle error such as `SessionArchived` (§8 step 4).
 */
export const isToolVisibilityError = (u: unknown): u is ToolVisibilityError => {
  if (typeof u !== 'object' || u === null) return false;
  const tag = (u as { _tag?: unknown })._tag;
  if (typeof tag !== 'string' || !tagSet.has(tag)) return false;
  return tag !== 'MachineStateInvalid' || (u as { machine?: unknown }).machine === 'toolVisibility';
};

const catalogMessages: Record<InvalidCatalogReason, string> = {
  empty_name: 'empty tool name',
  duplicate_names: 'duplicate tool names',
  unknown_role_names: 'role names no offered tool carries',
  conflicting_roles: 'tools both control and deferred',
};

/** `InvalidCatalog` with `names` sorted and deduplicated; message e.g. `duplicate tool names: grep`. */
export const invalidCatalog = (reason: InvalidCatalogReason, names: readonly string[]): InvalidCatalog => {
  const ns = sortedUnique(names);
  return {
    _tag: 'InvalidCatalog',
    reason,
    names: ns,
    message: reason === 'empty_name' ? 'tool names must be non-empty' : `${catalogMessages[reason]}: ${joinNames(ns)}`,
  };
};

/** `UnknownTools`, message `unknown tools: a, b`. */
export const unknownTools = (names: readonly string[]): UnknownTools => {
  const ns = sortedUnique(names);
  return { _tag: 'UnknownTools', names: ns, message: `unknown tools: ${joinNames(ns)}` };
};

/** `UnfilterableTools`, message `control tools cannot be filtered: find_tools`. */
export const unfilterableTools = (names: readonly string[]): UnfilterableTools => {
  const ns = sortedUnique(names);
  return { _tag: 'UnfilterableTools', names: ns, message: `control tools cannot be filtered: ${joinNames(ns)}` };
};

/** `NotDeferredTools`, message `not deferred tools: grep`. */
export const notDeferredTools = (names: readonly string[]): NotDeferredTools => {
  const ns = sortedUnique(names);
  return { _tag: 'NotDeferredTools', names: ns, message: `not deferred tools: ${joinNames(ns)}` };
};

/** `NothingRequested`. */
export const nothingRequested = (): NothingRequested => ({ _tag: 'NothingRequested', message: 'no tools requested' });

/** `MissingWitnesses`, message `missing provenance for: jira_create`. */
export const missingWitnesses = (names: readonly string[]): MissingWitnesses => {
  const ns = sortedUnique(names);
  return { _tag: 'MissingWitnesses', names: ns, message: `missing provenance for: ${joinNames(ns)}` };
};

/** `InvalidWitnesses`, message `invalid provenance for: jira_create`. */
export const invalidWitnesses = (names: readonly string[]): InvalidWitnesses => {
  const ns = sortedUnique(names);
  return { _tag: 'InvalidWitnesses', names: ns, message: `invalid provenance for: ${joinNames(ns)}` };
};

/** `OverlayConflict`, message `activations excluded by the same overlay: jira_create`. */
export const overlayConflict = (names: readonly string[]): OverlayConflict => {
  const ns = sortedUnique(names);
  return { _tag: 'OverlayConflict', names: ns, message: `activations excluded by the same overlay: ${joinNames(ns)}` };
};

/** `CatalogUnavailable` (engine only): the runtime could not list its tools. */
export const catalogUnavailable = (message: string): CatalogUnavailable => ({ _tag: 'CatalogUnavailable', message });

/** `MachineStateInvalid { machine: 'toolVisibility', reason }`. */
export const toolVisibilityStateInvalid = (reason: string): MachineStateInvalid => machineStateInvalid('toolVisibility', reason);
