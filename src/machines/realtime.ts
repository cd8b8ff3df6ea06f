/**
 * The realtime transcript machine (realtime.md): turns a realtime provider's
 * item events (redelivered, out of order, interrupted) into canonical transcript
 * messages, each once, in causal order.
 *
 * Pieces (all pure, no clock, no I/O):
 * - `stepRealtime(state, event, ctx)`: the event reducer (§3), notes as result;
 * - `materializeRealtime(state, ctx)`: one materializer pass (§4);
 * - `applyRealtime(state, command, ctx, gate)`: what the session runs for the
 *   commands `realtime_transcript_event` and `realtime_transcript_flush`;
 * - `restoreRealtimeState(u)`: fail-closed restore validation (§5);
 * - `inFlightResponseIds(state)` (§6), `realtimeItemText(item)` (§2).
 *
 * Transition tables in short form (first matching row wins; *refused* = state
 * unchanged plus the note; ids trimmed, empty = absent):
 *
 * ```
 * observe(I, P, role, R)   O1 I absent -> invalid_item_id | O2 P=I -> causal_cycle
 *                          O3 I skipped -> no-op, event ends, item_skipped | O4 other role -> role_conflict
 *                          O5 responseIds differ -> response_conflict | O6 new link reaches I -> causal_cycle
 *                          O7 assistant & R discarded -> anchor unknown/unbound I, ends, response_discarded
 *                          O8 I unknown -> create | O9 fill-once previousItemId (unmaterialized), responseId
 * item_skipped             S1 invalid_item_id | S2 causal_cycle | S3 materialized -> item_materialized
 *                          S4 skipped -> item_skipped | S5 causal_cycle | S6 unknown -> new anchor | S7 -> anchor
 * user_transcript_final    observe; U1 materialized -> item_materialized | U2 blank -> ready
 *                          U3 same text -> ready | U4 other text -> ready, user_text_kept | U5 write, ready
 * *_delta                  D1 invalid_response_id | D2 invalid_item_id | D3 seen deltaId -> duplicate_delta
 *                          observe O2-O9; D4 materialized -> refused | D5 content in other lane -> lane_conflict
 *                          D6 append, lane, remember deltaId, ready if R completed and content
 * truncated / final_text   T1 | T2 | observe (no P); T3 materialized -> refused | T4 display content -> lane_conflict
 *                          T5 replace segment, lane spoken, ready if R completed and content
 * assistant_turn_completed C1 invalid_response_id | C2 discarded -> response_discarded
 *                          C3 cancelled -> open bound items become anchors, R discarded
 *                          C4 tool_use & consumed -> completion_consumed | C5 tool_use -> withdraw, un-ready
 *                          C6 completion exists -> completion_exists | C7 record, ready bound items with content
 * assistant_turn_interrupted I1 | I2 discarded -> response_discarded
 *                          I3 open display items with content stay (ready), others anchors; R discarded;
 *                             synthetic { cancelled } completion unless one exists
 * verdicts (pass start)    V1 materialized wait | V2 predecessor not done wait | V3 skipped pass
 *                          V4 not ready or no content wait | V5 user take | V6 completed take | V7 wait
 * ```
 *
 * Decisions where realtime.md is silent:
 * - `deltaId` is a required string in the codec (as §1 types it); an empty or
 *   blank one means "absent" (cannot be deduplicated).
 * - A refused row (D4, D5, T3, T4) refuses the whole event: a predecessor the
 *   observe step would have filled (O9) is not kept either.
 * - An anchor made from an existing item keeps its role and lane (S7, O7, C3,
 *   I3 clear segments and set skipped/ready only).
 * - `materializeRealtime(...).items` lists taken (committed) items only; passed
 *   anchors are marked materialized but not listed.
 * - A pass's `usage` is the sum of the usages it consumed; present as soon as
 *   one consumed completion carried usage (even all-zero).
 * - Gate closed: the note `transcript_awaiting_tool_results` is added to every
 *   event that changed the state and to every flush; a flush that commits no
 *   item returns the input state (a pass that would only pass anchors is
 *   dropped and redone by the next pass), so it is recorded only when it
 *   committed something.
 * - Notes are the bare names of §1, one per refusal or no-op, plus the gate note.
 * - States handed in with ordinary-prototype `items`/`completions` are
 *   converted to null-prototype records before any write.
 */
import type { MachineOutput, SessionView, StepContext, StepResult } from './common.ts';
import { awaitingToolResults } from '../transcript/index.ts';
import type { Message } from '../model/message.ts';
import type { Usage } from '../model/usage.ts';
import type { RealtimeApplyOutcome, RealtimeCommand, RealtimeNote, RealtimeState } from './realtime/codecs.ts';
import { isDiscarded, own } from './realtime/derive.ts';
import { materializeRealtime } from './realtime/materialize.ts';
import { stepRealtime } from './realtime/step.ts';

export {
  ContentIndexCodec,
  LaneCodec,
  MAX_CONTENT_INDEX,
  REALTIME_NOTES,
  RealtimeCompletionCodec,
  RealtimeIdCodec,
  RealtimeItemCodec,
  RealtimeRoleCodec,
  RealtimeStateCodec,
  RealtimeTranscriptEventCodec,
  decodeRealtimeEvent,
  emptyDict as emptyRealtimeDict,
  initialRealtimeState,
  makeInitialRealtimeState,
  realtimeCommandCodecs,
  realtimeEventCodecs,
} from './realtime/codecs.ts';
export type {
  InvalidRealtimeEvent,
  Lane,
  RealtimeApplyOutcome,
  RealtimeCommand,
  RealtimeCompletion,
  RealtimeEventOf,
  RealtimeItem,
  RealtimeMaterializedMessage,
  RealtimeNote,
  RealtimeRole,
  RealtimeState,
  RealtimeTranscriptEvent,
} from './realtime/codecs.ts';
export { hasContent as realtimeItemHasContent, realtimeItemText } from './realtime/derive.ts';
export { stepRealtime } from './realtime/step.ts';
export { causalOrder, computePass, materializeRealtime, type PassEntry, type RealtimeMaterialization } from './realtime/materialize.ts';
export { REALTIME_RESTORE_RULES, realtimeStateViolation, restoreRealtimeState, type RealtimeRestoreRule } from './realtime/restore.ts';

/** Whether the transcript may take new messages: closed while it ends with unresolved tool uses (realtime.md §4.5). */
export interface RealtimeGate {
  readonly awaitingToolResults: boolean;
}

/** What `applyRealtime` hands the session besides the state. */
export interface RealtimeApplyResult {
  /** Outcome for the caller: committed items, `isInert`, notes. */
  readonly outcome: RealtimeApplyOutcome;
  /** Messages to append through the session's normal append path, in order (`createdAt = ctx.at`). */
  readonly messages: Message[];
  /** Usage to add to the cumulative usage in the same record, if any was consumed. */
  readonly usage?: Usage;
}

const noCommit = (state: RealtimeState, notes: RealtimeNote[]): StepResult<RealtimeState, RealtimeApplyResult> => ({
  state,
  result: { outcome: { materializedMessages: [], isInert: true, notes }, messages: [] },
});

/**
 * The composition the session reducer runs for a realtime command (realtime.md
 * §1, §4.5), after the command codec and the lifecycle guard:
 *
 * - `realtime_transcript_event`: `stepRealtime`; if the state changed, one
 *   materializer pass, unless the gate is closed (the transcript ends with
 *   unresolved tool uses), in which case the note
 *   `transcript_awaiting_tool_results` is added and nothing commits. An event
 *   that changed nothing returns the input state object (the session records
 *   nothing and returns the same Session).
 * - `realtime_transcript_flush`: the pass alone, if the gate is open (else the
 *   same note, state unchanged). A flush that commits no item returns the input
 *   state, even if the pass would only have passed anchors, so a flush is
 *   recorded only when it committed something.
 *
 * The session appends `messages` and adds `usage` (with `checkedAddUsage`,
 * `InvalidUsage` on overflow) in the same record.
 */
export const applyRealtime = (
  state: RealtimeState,
  command: RealtimeCommand,
  ctx: StepContext,
  gate: RealtimeGate,
): StepResult<RealtimeState, RealtimeApplyResult> => {
  let stepped = state;
  let notes: RealtimeNote[] = [];
  if (command.type === 'realtime_transcript_event') {
    const r = stepRealtime(state, command.event, ctx);
    if (r.state === state) return noCommit(state, r.result);
    stepped = r.state;
    notes = [...r.result];
  }
  if (gate.awaitingToolResults) return noCommit(stepped, [...notes, 'transcript_awaiting_tool_results']);
  const m = materializeRealtime(stepped, ctx);
  if (command.type === 'realtime_transcript_flush' && m.items.length === 0) return noCommit(state, notes);
  const outcome: RealtimeApplyOutcome = { materializedMessages: m.materialized, isInert: m.materialized.length === 0, notes };
  return {
    state: m.state,
    result: m.usage === undefined ? { outcome, messages: m.messages } : { outcome, messages: m.messages, usage: m.usage },
  };
};

/**
 * The responses still in flight (realtime.md §6): walking `firstSeenOrder`, the
 * `responseId` of every assistant item that is unmaterialized, unskipped and
 * bound to a response that is not discarded; each once, in first-seen order.
 * Includes responses waiting on a predecessor or a completion and `tool_use`
 * responses awaiting hand-off. On a barge-in the caller cannot attribute, it
 * interrupts each.
 */
export const inFlightResponseIds = (state: RealtimeState): string[] => {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const id of state.firstSeenOrder) {
    const item = own(state.items, id);
    if (item === undefined || item.role !== 'assistant' || item.materialized || item.skipped) continue;
    const r = item.responseId;
    if (r === undefined || seen.has(r) || isDiscarded(state, r)) continue;
    seen.add(r);
    out.push(r);
  }
  return out;
};

/**
 * Whether some item is still unmaterialized (realtime.md §4.5: the engine calls
 * `flushRealtimeTranscript()` after a `tool_results` append when this holds).
 */
export const hasUnmaterializedRealtimeItems = (state: RealtimeState): boolean => {
  for (const id of state.firstSeenOrder) if (own(state.items, id)?.materialized === false) return true;
  return false;
};

// ---------------------------------------------------------------------------
// In the session (the registry entry's view and fold)

/** The gate `applyRealtime` gets from the session: closed while the transcript ends with unresolved tool uses. */
export const realtimeGate = (session: SessionView): RealtimeGate => ({ awaitingToolResults: awaitingToolResults(session.transcript) });

/** The realtime machine's results, by command (realtime.md §4). */
export interface RealtimeResults {
  readonly realtime_transcript_event: RealtimeApplyOutcome;
  readonly realtime_transcript_flush: RealtimeApplyOutcome;
}

/** Folds a realtime pass into the session: its messages appended through the one append path and its usage added, in the same record; the caller gets the outcome. */
export const realtimeSessionOutput = (r: RealtimeApplyResult): MachineOutput<RealtimeApplyOutcome> => ({
  result: r.outcome,
  effects: r.usage === undefined ? { messages: r.messages } : { messages: r.messages, usage: r.usage },
});

export { realtimeLawSamples } from './realtime/samples.ts';
