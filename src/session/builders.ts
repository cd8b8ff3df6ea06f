/**
 * Typed command builders: one named function per command type, each returning
 * the command as `apply` takes it (`CommandInput`), so `ResultOf` of what it
 * returns is the command's result type. A builder only shapes its arguments
 * (fills defaults, turns a catalog into its recorded view); it checks nothing:
 * `apply` decodes every command by its strict codec.
 *
 * `Session`'s methods, the store's callers and the engine build their commands here.
 */
import type { Json } from '../model/json.ts';
import type { MessageInput } from '../model/message.ts';
import type { ContentBlock, ToolResult } from '../model/content.ts';
import type { Usage } from '../model/usage.ts';
import type { TranscriptRewriteRequest } from '../transcript/index.ts';
import { normalizeAppendRequests, type SystemContextAppend, type SystemContextAppendRequest } from '../machines/systemContext.ts';
import { catalogView, type CatalogLike, type Provenance, type ToolFilter, type ToolVisibilityIntent, type WitnessEntry } from '../machines/toolVisibility.ts';
import type { RealtimeTranscriptEvent } from '../machines/realtime.ts';
import type { CommandOf } from './commands.ts';
import type { CommandInput } from './results.ts';

/** The input form of the command of one `type`. */
export type CommandInputOf<T extends CommandInput['type']> = Extract<CommandInput, { type: T }>;

// ---- core -------------------------------------------------------------------------------

/** `messages_appended`: one record appending `messages` (each without `createdAt` gets the record time). */
export const messagesAppended = (messages: readonly MessageInput[]): CommandInputOf<'messages_appended'> => ({ type: 'messages_appended', messages });

/** `transcript_rewritten` from a rewrite request (revisions.md §3); the commit is the result. */
export const transcriptRewritten = (req: TranscriptRewriteRequest): CommandInputOf<'transcript_rewritten'> => ({
  type: 'transcript_rewritten',
  selection: req.selection,
  replacement: req.replacement,
  reason: req.reason,
  ...(req.actor !== undefined ? { actor: req.actor } : {}),
  ...(req.expectedParentRevision !== undefined ? { expectedParentRevision: req.expectedParentRevision } : {}),
});

/** `system_prompt_set`. */
export const systemPromptSet = (prompt: string): CommandOf<'system_prompt_set'> => ({ type: 'system_prompt_set', prompt });

/** `synthetic_notices_replaced`: every notice of `kind` replaced by `replacements`, appended at the end. */
export const syntheticNoticesReplaced = (kind: string, replacements: readonly MessageInput[]): CommandInputOf<'synthetic_notices_replaced'> => ({
  type: 'synthetic_notices_replaced',
  kind,
  replacements,
});

/** `usage_recorded`; the result is the cumulative usage. */
export const usageRecorded = (usage: Usage): CommandOf<'usage_recorded'> => ({ type: 'usage_recorded', usage });

/** `metadata_set`. */
export const metadataSet = (key: string, value: Json): CommandOf<'metadata_set'> => ({ type: 'metadata_set', key, value });

/** `metadata_removed`. */
export const metadataRemoved = (key: string): CommandOf<'metadata_removed'> => ({ type: 'metadata_removed', key });

/** `metadata_backfilled`; the result says whether the key was written. */
export const metadataBackfilled = (key: string, value: Json): CommandOf<'metadata_backfilled'> => ({ type: 'metadata_backfilled', key, value });

/** `session_touched`. */
export const sessionTouched = (): CommandOf<'session_touched'> => ({ type: 'session_touched' });

// ---- lifecycle (machines.md §3) ---------------------------------------------------------

/** `session_archived`. */
export const sessionArchived = (reason?: string): CommandOf<'session_archived'> => ({ type: 'session_archived', ...(reason !== undefined ? { reason } : {}) });

/** `session_revived`. */
export const sessionRevived = (): CommandOf<'session_revived'> => ({ type: 'session_revived' });

// ---- deferred first turn (machines.md §1) -----------------------------------------------

/** `first_turn_deferred`. */
export const firstTurnDeferred = (): CommandOf<'first_turn_deferred'> => ({ type: 'first_turn_deferred' });

/** `initial_prompt_staged`. */
export const initialPromptStaged = (prompt: readonly ContentBlock[]): CommandOf<'initial_prompt_staged'> => ({ type: 'initial_prompt_staged', prompt: [...prompt] });

/** `tool_results_staged`. */
export const toolResultsStaged = (results: readonly ToolResult[]): CommandOf<'tool_results_staged'> => ({ type: 'tool_results_staged', results: [...results] });

/** `turn_started`; the result is the consumed inputs. */
export const turnStarted = (): CommandOf<'turn_started'> => ({ type: 'turn_started' });

/** `turn_start_reverted` of the turn start recorded at `startSeq`. */
export const turnStartReverted = (startSeq: number): CommandOf<'turn_start_reverted'> => ({ type: 'turn_start_reverted', startSeq });

// ---- system context (machines.md §2) ----------------------------------------------------

/** `system_context_staged` (requests without `sourceKind` get `'normal'`). */
export const systemContextStaged = (appends: readonly SystemContextAppendRequest[], opts: { readonly activeTurn?: boolean } = {}): CommandOf<'system_context_staged'> => ({
  type: 'system_context_staged',
  appends: normalizeAppendRequests(appends),
  activeTurn: opts.activeTurn ?? false,
});

/** `system_context_marked_applied`. */
export const systemContextMarkedApplied = (): CommandOf<'system_context_marked_applied'> => ({ type: 'system_context_marked_applied' });

/** `system_context_active_turn_discarded` (all active-turn keys, or only `keys`). */
export const systemContextActiveTurnDiscarded = (keys?: readonly string[]): CommandOf<'system_context_active_turn_discarded'> => ({
  type: 'system_context_active_turn_discarded',
  ...(keys !== undefined ? { keys: [...keys] } : {}),
});

/** `system_context_blocks_appended`. */
export const systemContextBlocksAppended = (appends: readonly SystemContextAppend[]): CommandOf<'system_context_blocks_appended'> => ({
  type: 'system_context_blocks_appended',
  appends: [...appends],
});

/** `system_context_boundary`: render pending context and mark it applied. */
export const systemContextBoundary = (): CommandOf<'system_context_boundary'> => ({ type: 'system_context_boundary' });

/** `runtime_steer_context_discarded`. */
export const runtimeSteerContextDiscarded = (): CommandOf<'runtime_steer_context_discarded'> => ({ type: 'runtime_steer_context_discarded' });

// ---- tool visibility (tool-visibility.md §5) --------------------------------------------

/** A tool request: a name and the provenance it was offered with. */
export type ToolRequestInput = { readonly name: string; readonly provenance?: Provenance };

/** `tool_filter_staged` against `catalog` (recorded as its sorted view). */
export const toolFilterStaged = (filter: ToolFilter, catalog: CatalogLike): CommandOf<'tool_filter_staged'> => ({ type: 'tool_filter_staged', filter, catalog: catalogView(catalog) });

/** `tool_inherited_filter_set`. */
export const toolInheritedFilterSet = (filter: ToolFilter, witnesses: readonly WitnessEntry[]): CommandOf<'tool_inherited_filter_set'> => ({
  type: 'tool_inherited_filter_set',
  filter,
  witnesses: [...witnesses],
});

/** `tool_deferred_requested` against `catalog`. */
export const toolDeferredRequested = (requests: readonly ToolRequestInput[], catalog: CatalogLike): CommandOf<'tool_deferred_requested'> => ({
  type: 'tool_deferred_requested',
  requests: [...requests],
  catalog: catalogView(catalog),
});

/** `tool_deferred_requests_cleared`. */
export const toolDeferredRequestsCleared = (): CommandOf<'tool_deferred_requests_cleared'> => ({ type: 'tool_deferred_requests_cleared' });

/** `tool_capability_set`. */
export const toolCapabilitySet = (imageToolResults: boolean): CommandOf<'tool_capability_set'> => ({ type: 'tool_capability_set', imageToolResults });

/** `tool_boundary_applied` against `catalog`; the result is the boundary report. */
export const toolBoundaryApplied = (catalog: CatalogLike): CommandOf<'tool_boundary_applied'> => ({ type: 'tool_boundary_applied', catalog: catalogView(catalog) });

/** `tool_boundary_failed`. */
export const toolBoundaryFailed = (errorTag: string, message: string): CommandOf<'tool_boundary_failed'> => ({ type: 'tool_boundary_failed', errorTag, message });

/** `tool_turn_overlay_set` against `catalog`. */
export const toolTurnOverlaySet = (
  overlay: { readonly allow?: readonly string[]; readonly deny: readonly string[]; readonly activate: readonly ToolRequestInput[] },
  catalog: CatalogLike,
): CommandOf<'tool_turn_overlay_set'> => ({
  type: 'tool_turn_overlay_set',
  ...(overlay.allow !== undefined ? { allow: [...overlay.allow] } : {}),
  deny: [...overlay.deny],
  activate: [...overlay.activate],
  catalog: catalogView(catalog),
});

/** `tool_turn_overlay_cleared`. */
export const toolTurnOverlayCleared = (): CommandOf<'tool_turn_overlay_cleared'> => ({ type: 'tool_turn_overlay_cleared' });

/** `tool_visibility_intent_restored`. */
export const toolVisibilityIntentRestored = (intent: ToolVisibilityIntent): CommandOf<'tool_visibility_intent_restored'> => ({ type: 'tool_visibility_intent_restored', intent });

// ---- realtime (realtime.md) -------------------------------------------------------------

/** `realtime_transcript_event` of a decoded event. */
export const realtimeTranscriptEvent = (event: RealtimeTranscriptEvent): CommandOf<'realtime_transcript_event'> => ({ type: 'realtime_transcript_event', event });

/** `realtime_transcript_flush`. */
export const realtimeTranscriptFlush = (): CommandOf<'realtime_transcript_flush'> => ({ type: 'realtime_transcript_flush' });

// ---- the turn end -----------------------------------------------------------------------

/**
 * The turn-end cleanup (machines.md §2.4, §2.6; tool-visibility.md §8), in its
 * recorded order: unapplied active-turn context, transient steer blocks, the
 * tool turn overlay. Each is inert when there is nothing to clean.
 */
export const turnEndCleanup = (): readonly [
  CommandOf<'system_context_active_turn_discarded'>,
  CommandOf<'runtime_steer_context_discarded'>,
  CommandOf<'tool_turn_overlay_cleared'>,
] => [systemContextActiveTurnDiscarded(), runtimeSteerContextDiscarded(), toolTurnOverlayCleared()];
