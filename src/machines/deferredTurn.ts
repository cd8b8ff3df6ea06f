/**
 * The deferred first turn (machines.md §1), state key `palimpsest.deferredTurn`.
 *
 * A session can be created now and run its first turn later. Meanwhile the
 * creator may stage the opening prompt, and callback tool results queue for
 * whichever turn starts next. `turn_started` hands both out and remembers them in
 * `lastStart`, so a start whose pre-run setup failed can be reverted (once).
 *
 * Transition table (`phase` columns; "inert" = `Right` with the input state):
 *
 * | command (condition)               | `inactive`                                   | `pending`                              | `consumed`                      |
 * | --------------------------------- | -------------------------------------------- | -------------------------------------- | ------------------------------- |
 * | `first_turn_deferred`             | -> `pending`; `FirstTurnAlreadyStarted` if the transcript holds a user/assistant/tool_results message | inert | inert (stays `consumed`) |
 * | `initial_prompt_staged`, content  | `FirstTurnNotPending`                        | store (replaces); `'stored'`           | `FirstTurnNotPending`           |
 * | `initial_prompt_staged`, empty    | inert; `'cleared'`                           | remove (inert if none); `'cleared'`    | inert; `'cleared'`              |
 * | `tool_results_staged`, n >= 1     | push batch; `{ accepted: n }`                | same                                   | same                            |
 * | `tool_results_staged`, n = 0      | inert; `{ accepted: 0 }`                     | same                                   | same                            |
 * | `turn_started`                    | stays; `reopenFirstTurn = false`             | -> `consumed`; `reopenFirstTurn = true` | stays; `reopenFirstTurn = false` |
 * | `turn_start_reverted { startSeq }` | `NoRevertibleTurnStart` unless `lastStart.seq === startSeq`; then puts the inputs back (below) | same | same |
 *
 * `turn_started` always takes the prompt and the whole queue, returns them with
 * `startSeq = ctx.seq`, sets `lastStart = { seq: ctx.seq, consumed }`, and is never
 * inert. A revert with `c = lastStart.consumed`: phase -> `pending` iff
 * `c.reopenFirstTurn`; `c.initialPrompt` goes back only into an empty slot;
 * queue = `c.toolResults ++ state.toolResults`; `lastStart` removed.
 * `commitTurnStart` (called by the session when a command adds messages) removes
 * `lastStart`: the first written message commits the start.
 */
import type * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { produce } from 'immer';
import { arrayOf, bool, decodeWith, dispatch, literal, nat, oneOf, positive, strict, type Codec } from '../model/decode.ts';
import { ContentBlockCodec, ToolResultCodec, type ContentBlock } from '../model/content.ts';
import type { Message } from '../model/message.ts';
import { vecIter, type Transcript } from '../transcript/index.ts';
import {
  LAW_SAMPLE_TEXTS as SAMPLE_TEXTS,
  machineStateInvalid,
  stateDecodeFailed,
  stepOk,
  type LawSamples,
  type MachineStateInvalid,
  type SessionView,
  type StepContext,
  type StepResult,
} from './common.ts';

// ---------------------------------------------------------------------------
// State

/** The three phases: not deferred (or a fork), waiting for its first turn, first turn started. */
export const DeferredTurnPhaseCodec = oneOf('DeferredTurnPhase', ['inactive', 'pending', 'consumed'] as const);
/** The three phases of the deferred first turn. */
export type DeferredTurnPhase = t.TypeOf<typeof DeferredTurnPhaseCodec>;

/** A staged opening prompt and when it was accepted (ms). */
export const StagedPromptCodec = strict('StagedPrompt', { prompt: arrayOf(ContentBlockCodec), acceptedAt: nat });
/** A staged opening prompt and when it was accepted (ms). */
export type StagedPrompt = t.TypeOf<typeof StagedPromptCodec>;

/** One batch of queued tool results and when it was accepted (ms). */
export const StagedResultsCodec = strict('StagedResults', { results: arrayOf(ToolResultCodec), acceptedAt: nat });
/** One batch of queued tool results and when it was accepted (ms). */
export type StagedResults = t.TypeOf<typeof StagedResultsCodec>;

/** What one `turn_started` took out of the state (and what a revert puts back). */
export const ConsumedTurnInputsCodec = strict(
  'ConsumedTurnInputs',
  { startSeq: positive, reopenFirstTurn: bool, toolResults: arrayOf(StagedResultsCodec) },
  { initialPrompt: StagedPromptCodec },
);
/** What one `turn_started` took out of the state (and what a revert puts back). */
export type ConsumedTurnInputs = t.TypeOf<typeof ConsumedTurnInputsCodec>;

/** The newest turn start that no message has committed yet. */
export const LastTurnStartCodec = strict('LastTurnStart', { seq: positive, consumed: ConsumedTurnInputsCodec });
/** The newest turn start that no message has committed yet. */
export type LastTurnStart = t.TypeOf<typeof LastTurnStartCodec>;

/** The deferred-first-turn state (machines.md §1.1); optional fields are omitted when absent. */
export const DeferredTurnStateCodec = strict(
  'DeferredTurnState',
  { phase: DeferredTurnPhaseCodec, toolResults: arrayOf(StagedResultsCodec) },
  { initialPrompt: StagedPromptCodec, lastStart: LastTurnStartCodec },
);
/** The deferred-first-turn state (machines.md §1.1). */
export type DeferredTurnState = t.TypeOf<typeof DeferredTurnStateCodec>;

/** `{ phase: 'inactive', toolResults: [] }`: a session not created deferred, and every fork. */
export const initialDeferredTurn: DeferredTurnState = Object.freeze({ phase: 'inactive', toolResults: Object.freeze([]) as unknown as StagedResults[] });

// ---------------------------------------------------------------------------
// Pure reads

/**
 * Whether a prompt has content: an `image` or `structured` block, or a `text`
 * block whose `trim()` is non-empty (machines.md §1.1).
 */
export const promptHasContent = (blocks: readonly ContentBlock[]): boolean =>
  blocks.some((b) => b.type !== 'text' || b.text.trim() !== '');

/**
 * Whether creation-time-only settings (prompt template, tool set, output schema)
 * may still be applied: `phase === 'pending'` (machines.md §1.5). A pure read.
 */
export const firstTurnOverridesAllowed = (state: DeferredTurnState): boolean => state.phase === 'pending';

// ---------------------------------------------------------------------------
// Commands

/** Strict codecs of the deferred-turn commands, by `type`. */
export const deferredTurnCommandCodecs = {
  first_turn_deferred: strict('FirstTurnDeferred', { type: literal('first_turn_deferred') }),
  initial_prompt_staged: strict('InitialPromptStaged', { type: literal('initial_prompt_staged'), prompt: arrayOf(ContentBlockCodec) }),
  tool_results_staged: strict('ToolResultsStaged', { type: literal('tool_results_staged'), results: arrayOf(ToolResultCodec) }),
  turn_started: strict('TurnStarted', { type: literal('turn_started') }),
  turn_start_reverted: strict('TurnStartReverted', { type: literal('turn_start_reverted'), startSeq: positive }),
} as const;

/** Any deferred-turn command, decoded by dispatch on `type`. */
export const DeferredTurnCommandCodec = dispatch('DeferredTurnCommand', 'type', deferredTurnCommandCodecs);
/** Any deferred-turn command. */
export type DeferredTurnCommand = t.TypeOf<(typeof deferredTurnCommandCodecs)[keyof typeof deferredTurnCommandCodecs]>;
/** The deferred-turn command types. */
export type DeferredTurnCommandType = DeferredTurnCommand['type'];

/** The result of each command (machines.md §1.2). */
export interface DeferredTurnResults {
  readonly first_turn_deferred: undefined;
  readonly initial_prompt_staged: 'stored' | 'cleared';
  readonly tool_results_staged: { readonly accepted: number };
  readonly turn_started: ConsumedTurnInputs;
  /** The inputs put back: `initialPrompt` only when it went back into the slot. */
  readonly turn_start_reverted: ConsumedTurnInputs;
}
/** The result of command `C`. */
export type DeferredTurnResult<C extends DeferredTurnCommand = DeferredTurnCommand> = DeferredTurnResults[C['type']];

// ---------------------------------------------------------------------------
// Errors

/** `first_turn_deferred` on a session whose transcript already holds a turn. */
export interface FirstTurnAlreadyStarted {
  readonly _tag: 'FirstTurnAlreadyStarted';
  readonly message: string;
}
/** A non-empty prompt staged outside `pending`. */
export interface FirstTurnNotPending {
  readonly _tag: 'FirstTurnNotPending';
  readonly phase: DeferredTurnPhase;
  readonly message: string;
}
/** `turn_start_reverted` naming a start that is not the newest uncommitted one. */
export interface NoRevertibleTurnStart {
  readonly _tag: 'NoRevertibleTurnStart';
  readonly startSeq: number;
  readonly lastStartSeq?: number;
  readonly message: string;
}
/** Every error a deferred-turn step returns. */
export type DeferredTurnError = FirstTurnAlreadyStarted | FirstTurnNotPending | NoRevertibleTurnStart;

/** Builds a `FirstTurnAlreadyStarted`. */
export const firstTurnAlreadyStarted = (): FirstTurnAlreadyStarted => ({
  _tag: 'FirstTurnAlreadyStarted',
  message: 'cannot defer the first turn: the transcript already holds a user, assistant or tool_results message',
});
/** Builds a `FirstTurnNotPending`. */
export const firstTurnNotPending = (phase: DeferredTurnPhase): FirstTurnNotPending => ({
  _tag: 'FirstTurnNotPending',
  phase,
  message: `cannot stage a non-empty initial prompt: the first turn is ${phase}, not pending`,
});
/** Builds a `NoRevertibleTurnStart`. */
export const noRevertibleTurnStart = (startSeq: number, lastStartSeq: number | undefined): NoRevertibleTurnStart =>
  lastStartSeq === undefined
    ? { _tag: 'NoRevertibleTurnStart', startSeq, message: `no revertible turn start at seq ${startSeq}: no uncommitted turn start` }
    : { _tag: 'NoRevertibleTurnStart', startSeq, lastStartSeq, message: `no revertible turn start at seq ${startSeq}: the newest uncommitted start is seq ${lastStartSeq}` };

// ---------------------------------------------------------------------------
// Step

/** What the deferred-turn step needs to know about the transcript. */
export interface DeferredTurnView {
  /** Whether the transcript holds a `user`, `assistant` or `tool_results` message. */
  readonly hasConversationMessages: boolean;
}

type Out<C extends DeferredTurnCommand> = E.Either<DeferredTurnError, StepResult<DeferredTurnState, DeferredTurnResult<C>>>;

/**
 * Applies one decoded deferred-turn command (machines.md §1.3, §1.4). Pure; the
 * lifecycle guard is the caller's. An inert outcome returns the input state object.
 */
export const stepDeferredTurn = <C extends DeferredTurnCommand>(
  state: DeferredTurnState,
  command: C,
  ctx: StepContext,
  view: DeferredTurnView,
): Out<C> => step(state, command, ctx, view) as Out<C>;

const step = (
  state: DeferredTurnState,
  command: DeferredTurnCommand,
  ctx: StepContext,
  view: DeferredTurnView,
): E.Either<DeferredTurnError, StepResult<DeferredTurnState, DeferredTurnResult>> => {
  switch (command.type) {
    case 'first_turn_deferred': {
      if (state.phase !== 'inactive') return stepOk(state, undefined);
      if (view.hasConversationMessages) return E.left(firstTurnAlreadyStarted());
      return stepOk(
        produce(state, (d) => {
          d.phase = 'pending';
        }),
        undefined,
      );
    }
    case 'initial_prompt_staged': {
      if (!promptHasContent(command.prompt)) {
        if (state.initialPrompt === undefined) return stepOk(state, 'cleared');
        return stepOk(
          produce(state, (d) => {
            delete d.initialPrompt;
          }),
          'cleared',
        );
      }
      if (state.phase !== 'pending') return E.left(firstTurnNotPending(state.phase));
      const staged: StagedPrompt = { prompt: command.prompt, acceptedAt: ctx.at };
      return stepOk(
        produce(state, (d) => {
          d.initialPrompt = staged;
        }),
        'stored',
      );
    }
    case 'tool_results_staged': {
      const n = command.results.length;
      if (n === 0) return stepOk(state, { accepted: 0 });
      const batch: StagedResults = { results: command.results, acceptedAt: ctx.at };
      return stepOk(
        produce(state, (d) => {
          d.toolResults.push(batch);
        }),
        { accepted: n },
      );
    }
    case 'turn_started': {
      const consumed: ConsumedTurnInputs = {
        startSeq: ctx.seq,
        reopenFirstTurn: state.phase === 'pending',
        toolResults: state.toolResults,
        ...(state.initialPrompt === undefined ? {} : { initialPrompt: state.initialPrompt }),
      };
      const next = produce(state, (d) => {
        if (d.phase === 'pending') d.phase = 'consumed';
        delete d.initialPrompt;
        d.toolResults = [];
        d.lastStart = { seq: ctx.seq, consumed };
      });
      return stepOk(next, consumed);
    }
    case 'turn_start_reverted': {
      const last = state.lastStart;
      if (last === undefined || last.seq !== command.startSeq) return E.left(noRevertibleTurnStart(command.startSeq, last?.seq));
      const c = last.consumed;
      const promptBack = c.initialPrompt !== undefined && state.initialPrompt === undefined ? c.initialPrompt : undefined;
      const next = produce(state, (d) => {
        if (c.reopenFirstTurn) d.phase = 'pending';
        if (promptBack !== undefined) d.initialPrompt = promptBack;
        if (c.toolResults.length > 0) d.toolResults = [...c.toolResults, ...state.toolResults];
        delete d.lastStart;
      });
      const putBack: ConsumedTurnInputs = {
        startSeq: c.startSeq,
        reopenFirstTurn: c.reopenFirstTurn,
        toolResults: c.toolResults,
        ...(promptBack === undefined ? {} : { initialPrompt: promptBack }),
      };
      return stepOk(next, putBack);
    }
  }
};

/**
 * Commits the newest turn start: removes `lastStart` (machines.md §1.4). The
 * session calls it when a command adds messages (push, pushBatch, realtime
 * materialization). Returns the input object when there is no `lastStart`.
 */
export const commitTurnStart = (state: DeferredTurnState): DeferredTurnState =>
  state.lastStart === undefined
    ? state
    : produce(state, (d) => {
        delete d.lastStart;
      });

// ---------------------------------------------------------------------------
// Restore

const isMillis = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

/**
 * Decodes a stored deferred-turn state and checks its invariants (machines.md
 * §1.6): (1) a known phase; (2) a stored prompt has content and implies
 * `pending`; (3) every batch non-empty, every `acceptedAt` a non-negative safe
 * integer, `seq >= 1`; (4) `lastStart.consumed.startSeq === lastStart.seq`;
 * (5) `reopenFirstTurn` implies `phase === 'consumed'`, and a consumed prompt
 * (which must have content) implies `reopenFirstTurn`.
 */
export const restoreDeferredTurn = (u: unknown): E.Either<MachineStateInvalid, DeferredTurnState> => {
  const decoded = decodeWith(DeferredTurnStateCodec as Codec<DeferredTurnState>, u);
  if (E.isLeft(decoded)) return E.left(stateDecodeFailed('deferredTurn', decoded.left));
  const s = decoded.right;
  const bad = (reason: string): E.Either<MachineStateInvalid, DeferredTurnState> => E.left(machineStateInvalid('deferredTurn', reason));
  if (s.initialPrompt !== undefined) {
    if (!promptHasContent(s.initialPrompt.prompt)) return bad('the staged initial prompt has no content');
    if (s.phase !== 'pending') return bad(`a staged initial prompt requires phase pending, found ${s.phase}`);
    if (!isMillis(s.initialPrompt.acceptedAt)) return bad('initialPrompt.acceptedAt is not a non-negative safe integer');
  }
  const batchProblem = (batches: readonly StagedResults[], where: string): string | undefined => {
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!;
      if (b.results.length === 0) return `${where}[${i}] is an empty batch`;
      if (!isMillis(b.acceptedAt)) return `${where}[${i}].acceptedAt is not a non-negative safe integer`;
    }
    return undefined;
  };
  const queued = batchProblem(s.toolResults, 'toolResults');
  if (queued !== undefined) return bad(queued);
  const last = s.lastStart;
  if (last !== undefined) {
    const c = last.consumed;
    if (last.seq < 1 || !Number.isSafeInteger(last.seq)) return bad('lastStart.seq must be >= 1');
    const consumedBatches = batchProblem(c.toolResults, 'lastStart.consumed.toolResults');
    if (consumedBatches !== undefined) return bad(consumedBatches);
    if (c.startSeq !== last.seq) return bad(`lastStart.consumed.startSeq ${c.startSeq} differs from lastStart.seq ${last.seq}`);
    if (c.reopenFirstTurn && s.phase !== 'consumed') return bad(`lastStart reopens the first turn but the phase is ${s.phase}, not consumed`);
    if (c.initialPrompt !== undefined) {
      if (!c.reopenFirstTurn) return bad('lastStart consumed an initial prompt without reopening the first turn');
      if (!promptHasContent(c.initialPrompt.prompt)) return bad('the consumed initial prompt has no content');
    }
  }
  return E.right(s);
};

// ---------------------------------------------------------------------------
// In the session (the registry entry's view, append reaction and law samples)

/** Stops at the first match, so a cold-loaded transcript usually reads only its first chunk. */
const holdsConversation = (t: Transcript): boolean => {
  for (const m of vecIter(t.messages)) if (isConversationMessage(m)) return true;
  return false;
};

const isConversationMessage = (m: Message): boolean => m.role === 'user' || m.role === 'assistant' || m.role === 'tool_results';

/** The view `stepDeferredTurn` gets from the session: the transcript is searched only for `first_turn_deferred`, the one command that reads it. */
export const deferredTurnView = (session: SessionView, command: DeferredTurnCommand): DeferredTurnView => ({
  hasConversationMessages: command.type === 'first_turn_deferred' ? holdsConversation(session.transcript) : false,
});

/**
 * The session appended `messages`: the first conversation message commits a
 * pending turn start (machines.md §1.4); runtime notices (a tool_scope notice at
 * the LLM boundary) are setup, like notice commands, and do not. Returns the
 * input object when nothing commits.
 */
export const deferredTurnOnMessagesAppended = (state: DeferredTurnState, messages: readonly Message[]): DeferredTurnState =>
  messages.some(isConversationMessage) ? commitTurnStart(state) : state;

/** Law samples (`LawSamples`): prompts and tool results over a small alphabet; start seqs collide with the ones a run reaches. */
export const deferredTurnLawSamples: LawSamples<DeferredTurnCommand, DeferredTurnView> = {
  command: (pick) => {
    switch (pick.one(['first_turn_deferred', 'initial_prompt_staged', 'tool_results_staged', 'turn_started', 'turn_start_reverted'] as const)) {
      case 'first_turn_deferred':
        return { type: 'first_turn_deferred' };
      case 'initial_prompt_staged':
        return {
          type: 'initial_prompt_staged',
          prompt: pick.many((): ContentBlock => (pick.bool() ? { type: 'text', text: pick.one(SAMPLE_TEXTS) } : { type: 'structured', data: { ticket: 42 } }), { max: 2 }),
        };
      case 'tool_results_staged':
        return {
          type: 'tool_results_staged',
          results: pick.many(() => ({ toolUseId: pick.one(['call_1', 'call_2', '']), content: [{ type: 'text' as const, text: 'ok' }], isError: pick.bool() }), { max: 2 }),
        };
      case 'turn_started':
        return { type: 'turn_started' };
      case 'turn_start_reverted':
        return { type: 'turn_start_reverted', startSeq: pick.int(0, 12) };
    }
  },
  view: (pick) => ({ hasConversationMessages: pick.bool() }),
};
