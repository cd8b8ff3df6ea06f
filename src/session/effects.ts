/**
 * The session-level edits every write shares, and the one place a machine's
 * output reaches the session (`SessionEffects`, machines.md §0):
 *
 * - `withTranscript`: a new transcript, the revision history extended when the head moved;
 * - `appendMessages`: the one append path (shape rule, digest), after which
 *   every machine with `onMessagesAppended` reacts (the deferred turn commits a
 *   pending turn start, machines.md §1.4);
 * - `setSystemPrompt`: sets or inserts the leading system message (machines.md §5);
 * - `addUsage`: adds to the cumulative usage (`InvalidUsage` on overflow);
 * - `applyEffects`: a machine's effects, in that order.
 *
 * Each returns the input state object when it changes nothing, so an inert
 * command stays inert.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Message } from '../model/message.ts';
import { checkedAddUsage, isZeroUsage, type Usage } from '../model/usage.ts';
import { appendToTranscript, checkAppend, replaceSpan, transcriptMessageAt, transcriptRevision, vecGet, vecPush, vecSize, type InvalidTranscriptShape, type Transcript } from '../transcript/index.ts';
import type { SessionEffects } from '../machines/common.ts';
import type { MachineParams, MachineRouting } from '../machines/registry.ts';
import type { InvalidUsage } from './errors.ts';
import type { SessionCore, SessionStateOf } from './state.ts';

/** `state` with a new transcript: revision history extended when the head moved. */
export const withTranscript = <St extends SessionCore>(state: St, transcript: Transcript): St => {
  const revision = transcriptRevision(transcript);
  const last = vecGet(state.revisions, vecSize(state.revisions) - 1);
  return { ...state, transcript, revisions: last === revision ? state.revisions : vecPush(state.revisions, revision) };
};

/** Machine `name` of `state` after the session appended `messages` (its `onMessagesAppended`, if any). */
const reactToAppend = <M extends Record<string, MachineParams>, K extends keyof M & string, St extends SessionStateOf<M>>(
  routing: MachineRouting<M>,
  name: K,
  state: St,
  messages: readonly Message[],
): St => {
  const react = routing.machines[name].onMessagesAppended;
  if (react === undefined) return state;
  const before = state[name];
  const after = react(before, messages);
  if (after === before) return state;
  const next: St = { ...state, [name]: after };
  return next;
};

/** Appends messages through the one append path: shape rule, digest, then each machine's reaction. */
export const appendMessages = <M extends Record<string, MachineParams>, St extends SessionStateOf<M>>(
  routing: MachineRouting<M>,
  state: St,
  messages: readonly Message[],
): E.Either<InvalidTranscriptShape, St> => {
  if (messages.length === 0) return E.right(state);
  const shape = checkAppend(state.transcript, messages);
  if (E.isLeft(shape)) return shape;
  let next = withTranscript(state, appendToTranscript(state.transcript, messages));
  for (const name of routing.appendReactors) next = reactToAppend(routing, name, next, messages);
  return E.right(next);
};

/** Sets or inserts the leading system message (machines.md §5); the same text returns `state` unchanged. */
export const setSystemPrompt = <St extends SessionCore>(state: St, prompt: string, at: number): St => {
  const first = transcriptMessageAt(state.transcript, 0);
  const message: Message = { role: 'system', text: prompt, createdAt: at };
  if (first?.role === 'system') {
    if (first.text === prompt) return state;
    return withTranscript(state, replaceSpan(state.transcript, 0, 1, [message]));
  }
  return withTranscript(state, replaceSpan(state.transcript, 0, 0, [message]));
};

/** Builds an `InvalidUsage`. */
export const invalidUsage = (path: string, reason: string): InvalidUsage => ({ _tag: 'InvalidUsage', path, reason, message: `invalid usage at ${path}: ${reason}` });

/** Adds `usage` to the cumulative usage; a zero usage returns `state` unchanged; `InvalidUsage` when the sum would leave the safe-integer range. */
export const addUsage = <St extends SessionCore>(state: St, usage: Usage): E.Either<InvalidUsage, St> => {
  if (isZeroUsage(usage)) return E.right(state);
  const sum = checkedAddUsage(state.usage, usage);
  if (E.isLeft(sum)) return E.left(invalidUsage(sum.left.path, `${sum.left.reason}: the cumulative usage would leave the safe-integer range`));
  return E.right({ ...state, usage: sum.right });
};

/** Applies a machine's effects (module docstring), in order: system prompt, messages, usage. */
export const applyEffects = <M extends Record<string, MachineParams>, St extends SessionStateOf<M>>(
  routing: MachineRouting<M>,
  state: St,
  effects: SessionEffects,
  at: number,
): E.Either<InvalidTranscriptShape | InvalidUsage, St> => {
  const prompted = effects.systemPrompt === undefined ? state : setSystemPrompt(state, effects.systemPrompt, at);
  const appended = effects.messages === undefined ? E.right(prompted) : appendMessages(routing, prompted, effects.messages);
  if (E.isLeft(appended) || effects.usage === undefined) return appended;
  return addUsage(appended.right, effects.usage);
};
