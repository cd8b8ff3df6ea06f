/**
 * The pure session reducer (README §2, machines.md §0).
 *
 *     step(state, command, ctx) : Either<SessionError, { state, result }>
 *     reduce(state, record)     : Either<SessionError, SessionState>
 *
 * Order of checks for every command: (1) the command codec (done by the caller:
 * `decodeCommand` or the record codec); (2) the lifecycle guard, so an archived
 * session refuses every write but `session_revived`/`session_archived`; (3) the
 * command's own rule or machine step. An *inert* outcome returns the very input
 * state object: the shell records nothing and hands back the result.
 *
 * Composition: core commands update the transcript, metadata and usage here;
 * machine commands are delegated to `src/machines/*` and their outputs folded
 * back in (a system-context render sets the system prompt in the same record, a
 * realtime pass appends messages through the same append path and adds usage).
 * Any command that adds messages commits a pending turn start (machines.md §1.4).
 */
import * as E from 'fp-ts/lib/Either.js';
import { canonicalJsonUnsafe } from '../model/json.ts';
import type { Message } from '../model/message.ts';
import { checkedAddUsage, isZeroUsage } from '../model/usage.ts';
import type { Digest } from '../model/scalars.ts';
import {
  appendToTranscript,
  applyReplacement,
  checkAppend,
  awaitingToolResults,
  emptyVec,
  planRewrite,
  replaceSpan,
  takeTranscript,
  transcriptLength,
  transcriptMessageAt,
  transcriptMessages,
  transcriptRevision,
  vecGet,
  vecIter,
  vecPush,
  vecSize,
  type Transcript,
} from '../transcript/index.ts';
import { commitTurnStart, stepDeferredTurn } from '../machines/deferredTurn.ts';
import { stepSystemContext } from '../machines/systemContext.ts';
import { stepToolVisibility } from '../machines/toolVisibility.ts';
import { applyRealtime } from '../machines/realtime.ts';
import { lifecycleGuard, stepLifecycle } from '../machines/lifecycle.ts';
import type { StepContext } from '../machines/common.ts';
import type { CommandOf, SessionCommand } from './commands.ts';
import { brokenLog, reservedMetadataKey, type InvalidUsage, type SessionError, type ForkParentMismatch } from './errors.ts';
import { hasKey, isReservedKey, metadataFrom, metadataWith, metadataWithout } from './metadata.ts';
import { blankState, initialMachines, type SessionState } from './state.ts';

/** The outcome of one accepted command: the next state (the input object when inert) and the caller's result. */
export interface Step<R = unknown> {
  readonly state: SessionState;
  readonly result: R;
}

type Out<R = unknown> = E.Either<SessionError, Step<R>>;
const ok = <R>(state: SessionState, result: R): Out<R> => E.right({ state, result });

/** `state` with a new transcript: revision history extended when the head moved. */
const withTranscript = (state: SessionState, transcript: Transcript): SessionState => {
  const revision = transcriptRevision(transcript);
  const last = vecGet(state.revisions, vecSize(state.revisions) - 1);
  return { ...state, transcript, revisions: last === revision ? state.revisions : vecPush(state.revisions, revision) };
};

/** Appends messages through the one append path: shape rule, digest, and the turn-start commit when a conversation message is added. */
const appendMessages = (state: SessionState, messages: readonly Message[]): E.Either<SessionError, SessionState> => {
  if (messages.length === 0) return E.right(state);
  const shape = checkAppend(state.transcript, messages);
  if (E.isLeft(shape)) return shape;
  const next = withTranscript(state, appendToTranscript(state.transcript, messages));
  // The first conversation message commits a pending turn start (machines.md §1.4); runtime
  // notices (a tool_scope notice at the LLM boundary) are setup, like notice commands, and do not.
  const commits = messages.some((m) => m.role === 'user' || m.role === 'assistant' || m.role === 'tool_results');
  return E.right(commits ? { ...next, deferredTurn: commitTurnStart(state.deferredTurn) } : next);
};

/** Sets or inserts the leading system message (machines.md §5); the same text returns `state` unchanged. */
const setSystemPrompt = (state: SessionState, prompt: string, at: number): SessionState => {
  const first = transcriptMessageAt(state.transcript, 0);
  const message: Message = { role: 'system', text: prompt, createdAt: at };
  if (first?.role === 'system') {
    if (first.text === prompt) return state;
    return withTranscript(state, replaceSpan(state.transcript, 0, 1, [message]));
  }
  return withTranscript(state, replaceSpan(state.transcript, 0, 0, [message]));
};

const leadingSystemPrompt = (t: Transcript): string | undefined => {
  const first = transcriptMessageAt(t, 0);
  return first?.role === 'system' ? first.text : undefined;
};

/** Stops at the first match, so a cold-loaded transcript usually reads only its first chunk. */
const hasConversationMessages = (t: Transcript): boolean => {
  for (const m of vecIter(t.messages)) if (m.role === 'user' || m.role === 'assistant' || m.role === 'tool_results') return true;
  return false;
};

const invalidUsage = (path: string, reason: string): InvalidUsage => ({ _tag: 'InvalidUsage', path, reason, message: `invalid usage at ${path}: ${reason}` });

/** Replaces every notice of `kind` with `replacements` appended at the end (machines.md §5). */
const replaceNotices = (state: SessionState, c: CommandOf<'synthetic_notices_replaced'>): Out<undefined> => {
  for (let i = 0; i < c.replacements.length; i++) {
    const r = c.replacements[i]!;
    if (r.role !== 'system_notice' || r.kind !== c.kind) {
      return E.left({
        _tag: 'InvalidTranscriptShape',
        index: i,
        message: `replacement ${i} must be a system_notice of kind ${JSON.stringify(c.kind)}, found ${r.role === 'system_notice' ? `kind ${JSON.stringify(r.kind)}` : r.role}`,
      });
    }
  }
  const all = transcriptMessages(state.transcript);
  const first = all.findIndex((m) => m.role === 'system_notice' && m.kind === c.kind);
  const start = first === -1 ? all.length : first;
  const kept = all.slice(start).filter((m) => !(m.role === 'system_notice' && m.kind === c.kind));
  const base = replaceSpan(state.transcript, start, all.length, kept);
  if (c.replacements.length > 0 && awaitingToolResults(base)) {
    return E.left({
      _tag: 'InvalidTranscriptShape',
      index: transcriptLength(base),
      message: `a notice may not follow the assistant message at ${transcriptLength(base) - 1}, whose tool uses are unresolved`,
    });
  }
  const next = appendToTranscript(base, c.replacements);
  if (transcriptRevision(next) === transcriptRevision(state.transcript)) return ok(state, undefined);
  return ok(withTranscript(state, next), undefined);
};

/**
 * Applies one non-genesis command. Returns the input `state` object when the
 * outcome is inert. `updatedAt`, `seq` and `head` are set by `reduce`/the shell.
 */
export const step = (state: SessionState, command: SessionCommand, ctx: StepContext): Out => {
  switch (command.type) {
    case 'session_created':
    case 'session_forked':
      return E.left(brokenLog(state.id, ctx.seq, `${command.type} is only valid as the first record`));
    case 'session_archived':
    case 'session_revived':
      return E.map((r: { state: SessionState['lifecycle']; result: unknown }) => ({
        state: r.state === state.lifecycle ? state : { ...state, lifecycle: r.state },
        result: r.result,
      }))(stepLifecycle(state.lifecycle, command, ctx, state.id));
    default:
      break;
  }
  const guard = lifecycleGuard(state.lifecycle, state.id);
  if (E.isLeft(guard)) return guard;

  switch (command.type) {
    case 'messages_appended':
      return E.map((s: SessionState) => ({ state: s, result: undefined }))(appendMessages(state, command.messages));

    case 'transcript_rewritten': {
      const planned = planRewrite(
        state.transcript,
        {
          selection: command.selection,
          replacement: command.replacement,
          reason: command.reason,
          ...(command.actor !== undefined ? { actor: command.actor } : {}),
          ...(command.expectedParentRevision !== undefined ? { expectedParentRevision: command.expectedParentRevision } : {}),
        },
        ctx.at,
      );
      if (E.isLeft(planned)) return planned;
      const next = withTranscript(state, planned.right.transcript);
      return ok({ ...next, commits: vecPush(state.commits, planned.right.commit) }, planned.right.commit);
    }

    case 'system_prompt_set':
      return ok(setSystemPrompt(state, command.prompt, ctx.at), undefined);

    case 'synthetic_notices_replaced':
      return replaceNotices(state, command);

    case 'usage_recorded': {
      if (isZeroUsage(command.usage)) return ok(state, state.usage);
      const sum = checkedAddUsage(state.usage, command.usage);
      if (E.isLeft(sum)) return E.left(invalidUsage(sum.left.path, `${sum.left.reason}: the cumulative usage would leave the safe-integer range`));
      return ok({ ...state, usage: sum.right }, sum.right);
    }

    case 'metadata_set': {
      if (isReservedKey(command.key)) return E.left(reservedMetadataKey(command.key));
      if (hasKey(state.metadata, command.key) && canonicalJsonUnsafe(state.metadata[command.key]) === canonicalJsonUnsafe(command.value)) return ok(state, undefined);
      return ok({ ...state, metadata: metadataWith(state.metadata, command.key, command.value) }, undefined);
    }
    case 'metadata_removed': {
      if (isReservedKey(command.key)) return E.left(reservedMetadataKey(command.key));
      if (!hasKey(state.metadata, command.key)) return ok(state, undefined);
      return ok({ ...state, metadata: metadataWithout(state.metadata, command.key) }, undefined);
    }
    case 'metadata_backfilled': {
      if (isReservedKey(command.key)) return E.left(reservedMetadataKey(command.key));
      if (hasKey(state.metadata, command.key)) return ok(state, false);
      return ok({ ...state, metadata: metadataWith(state.metadata, command.key, command.value) }, true);
    }
    case 'session_touched':
      return ok({ ...state }, undefined);

    case 'first_turn_deferred':
    case 'initial_prompt_staged':
    case 'tool_results_staged':
    case 'turn_started':
    case 'turn_start_reverted': {
      const r = stepDeferredTurn(state.deferredTurn, command, ctx, {
        hasConversationMessages: command.type === 'first_turn_deferred' ? hasConversationMessages(state.transcript) : false,
      });
      if (E.isLeft(r)) return r;
      return ok(r.right.state === state.deferredTurn ? state : { ...state, deferredTurn: r.right.state }, r.right.result);
    }

    case 'system_context_staged':
    case 'system_context_marked_applied':
    case 'system_context_active_turn_discarded':
    case 'system_context_blocks_appended':
    case 'system_context_boundary':
    case 'runtime_steer_context_discarded': {
      const r = stepSystemContext(state.systemContext, command, ctx, { systemPrompt: leadingSystemPrompt(state.transcript) });
      if (E.isLeft(r)) return r;
      let next = r.right.state === state.systemContext ? state : { ...state, systemContext: r.right.state };
      if (r.right.result.systemPrompt !== undefined) next = setSystemPrompt(next, r.right.result.systemPrompt, ctx.at);
      return ok(next, r.right.result.result);
    }

    case 'tool_filter_staged':
    case 'tool_inherited_filter_set':
    case 'tool_deferred_requested':
    case 'tool_deferred_requests_cleared':
    case 'tool_capability_set':
    case 'tool_boundary_applied':
    case 'tool_boundary_failed':
    case 'tool_turn_overlay_set':
    case 'tool_turn_overlay_cleared':
    case 'tool_visibility_intent_restored': {
      const r = stepToolVisibility(state.toolVisibility, command, ctx);
      if (E.isLeft(r)) return r;
      return ok(r.right.state === state.toolVisibility ? state : { ...state, toolVisibility: r.right.state }, r.right.result);
    }

    case 'realtime_transcript_event':
    case 'realtime_transcript_flush': {
      const r = applyRealtime(state.realtime, command, ctx, { awaitingToolResults: awaitingToolResults(state.transcript) });
      const { messages, usage, outcome } = r.result;
      if (r.state === state.realtime && messages.length === 0) return ok(state, outcome);
      let next: SessionState = r.state === state.realtime ? state : { ...state, realtime: r.state };
      const appended = appendMessages(next, messages);
      if (E.isLeft(appended)) return appended;
      next = appended.right;
      if (usage !== undefined && !isZeroUsage(usage)) {
        const sum = checkedAddUsage(next.usage, usage);
        if (E.isLeft(sum)) return E.left(invalidUsage(sum.left.path, `${sum.left.reason}: the cumulative usage would leave the safe-integer range`));
        next = { ...next, usage: sum.right };
      }
      return ok(next, outcome);
    }
    default:
      return absurd(command);
  }
};

const absurd = (x: never): never => {
  throw new Error(`unhandled command ${JSON.stringify(x)}`);
};

/** Builds a root session's state from its `session_created` genesis. */
export const createdState = (sessionId: string, command: CommandOf<'session_created'>, ctx: StepContext): E.Either<SessionError, SessionState> => {
  for (const key of Object.keys(command.metadata)) if (isReservedKey(key)) return E.left(reservedMetadataKey(key));
  return E.right({ ...blankState(sessionId), createdAt: ctx.at, updatedAt: ctx.at, metadata: metadataFrom(command.metadata) });
};

/**
 * Builds a fork child's state from its `session_forked` genesis and the parent's
 * state at `from.seq` (revisions.md §6, machines.md §4): messages per mode, user
 * metadata and usage kept, every machine reset, fresh revision history.
 */
export const forkedState = (
  sessionId: string,
  command: CommandOf<'session_forked'>,
  ctx: StepContext,
  parent: SessionState,
): E.Either<SessionError, SessionState> => {
  const { from } = command;
  if (parent.id !== from.sessionId || parent.seq !== from.seq || parent.head !== from.hash) {
    const mismatch: ForkParentMismatch = {
      _tag: 'ForkParentMismatch',
      sessionId,
      expected: from,
      message: `fork ${sessionId} starts from ${from.sessionId}@${from.seq} (${from.hash}), but the parent state given is ${parent.id}@${parent.seq}`,
    };
    return E.left(mismatch);
  }
  let transcript: Transcript;
  switch (command.mode) {
    case 'full':
      transcript = parent.transcript;
      break;
    case 'at':
      transcript = takeTranscript(parent.transcript, command.index ?? transcriptLength(parent.transcript));
      break;
    case 'replacing': {
      if (command.index === undefined || command.replacement === undefined) {
        return E.left(brokenLog(sessionId, ctx.seq, 'a replacing fork needs index and replacement'));
      }
      const edited = applyReplacement(parent.transcript, command.index, command.replacement, ctx.at);
      if (E.isLeft(edited)) return edited;
      const prefix = takeTranscript(parent.transcript, command.index);
      const shape = checkAppend(prefix, [edited.right]);
      if (E.isLeft(shape)) return shape;
      transcript = appendToTranscript(prefix, [edited.right]);
      break;
    }
    default:
      return absurd(command.mode);
  }
  const base = blankState(sessionId);
  return E.right({
    ...base,
    ...initialMachines,
    createdAt: ctx.at,
    updatedAt: ctx.at,
    transcript,
    revisions: vecPush(emptyVec<Digest>(), transcriptRevision(transcript)),
    metadata: parent.metadata,
    usage: parent.usage,
    forkedFrom: { from, mode: command.mode },
  });
};

/** Whether a command leaves `updatedAt` alone even when recorded. */
const keepsUpdatedAt = (c: SessionCommand): boolean => c.type === 'metadata_backfilled';

/**
 * Applies a command at `ctx` to `state` and stamps the result with `ctx.seq`
 * (and `updatedAt = ctx.at` unless the command is `metadata_backfilled`).
 * The caller sets `head` once the record is sealed. Inert: returns `state` itself.
 */
export const applyAt = (state: SessionState, command: SessionCommand, ctx: StepContext, parent?: SessionState): Out => {
  if (command.type === 'session_created' || command.type === 'session_forked') {
    if (state.seq !== 0 || ctx.seq !== 1) return E.left(brokenLog(state.id, ctx.seq, `${command.type} is only valid as the first record`));
    if (command.type === 'session_created') return E.map((s: SessionState) => ({ state: { ...s, seq: ctx.seq }, result: undefined }))(createdState(state.id, command, ctx));
    if (parent === undefined) {
      return E.left(brokenLog(state.id, ctx.seq, `fork genesis needs the state of ${command.from.sessionId} at seq ${command.from.seq}`));
    }
    return E.map((s: SessionState) => ({ state: { ...s, seq: ctx.seq }, result: undefined }))(forkedState(state.id, command, ctx, parent));
  }
  if (state.seq === 0) return E.left(brokenLog(state.id, ctx.seq, 'the first record must be session_created or session_forked'));
  const r = step(state, command, ctx);
  if (E.isLeft(r) || r.right.state === state) return r;
  const next = r.right.state;
  return ok({ ...next, seq: ctx.seq, updatedAt: keepsUpdatedAt(command) ? next.updatedAt : ctx.at }, r.right.result);
};
