/**
 * Transcript shape: tool-call pairing (revisions.md §2).
 *
 * - A `tool_results` message directly follows an assistant message with at least
 *   one `tool_use` block; its `toolUseId`s have no duplicates, the assistant's
 *   `tool_use` ids have no duplicates, and the two sets are equal.
 * - An assistant message with `tool_use` blocks is directly followed by a
 *   `tool_results` message.
 *
 * `validateTranscriptShape` checks a whole list (what a rewrite result must pass);
 * `checkAppend` checks only what an append adds ("must not make it worse"): the
 * pairs formed by the transcript's last message and the appended ones, where a
 * trailing assistant message with unresolved tool uses is legal (the tool runs).
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Message } from '../model/index.ts';
import { lastMessage, type Transcript } from './transcript.ts';

/** A shape rule is broken at message `index` (of the whole transcript); `message` says what was found. */
export interface InvalidTranscriptShape {
  readonly _tag: 'InvalidTranscriptShape';
  readonly index: number;
  readonly message: string;
}

/** Builds an `InvalidTranscriptShape`. */
export const invalidTranscriptShape = (index: number, message: string): InvalidTranscriptShape => ({ _tag: 'InvalidTranscriptShape', index, message });

/** Options of `validateTranscriptShape`. */
export interface ShapeOptions {
  /**
   * Accept a last message that is an assistant message with unresolved tool uses
   * (a tool is running). Default `false`: revisions.md §2 requires every tool use
   * to be followed by its results, and a rewrite result must pass in full.
   */
  readonly allowPendingToolUse?: boolean;
}

const idSet = (ids: readonly string[]): string => `{${ids.join(', ')}}`;

const toolUseIds = (m: Message): string[] => {
  if (m.role !== 'assistant') return [];
  const ids: string[] = [];
  for (const b of m.content) if (b.type === 'tool_use') ids.push(b.id);
  return ids;
};

const firstDuplicate = (ids: readonly string[]): string | undefined => {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) return id;
    seen.add(id);
  }
  return undefined;
};

const describePrev = (prev: Message | undefined, prevIndex: number): string => {
  if (prev === undefined) return 'it is the first message';
  if (prev.role === 'assistant') return `assistant message ${prevIndex} has no tool uses`;
  return `message ${prevIndex} is ${prev.role}`;
};

/**
 * Checks message `m` at `index` against its predecessor `prev` (at `index - 1`,
 * `undefined` when `m` is first). Returns the error, or `undefined` when the pair is fine.
 */
const checkPair = (prev: Message | undefined, m: Message, index: number): InvalidTranscriptShape | undefined => {
  if (m.role === 'assistant') {
    const dup = firstDuplicate(toolUseIds(m));
    if (dup !== undefined) return invalidTranscriptShape(index, `assistant message ${index} has duplicate tool_use id ${JSON.stringify(dup)}`);
  }
  const expected = prev === undefined ? [] : toolUseIds(prev);
  if (m.role === 'tool_results') {
    if (expected.length === 0) {
      return invalidTranscriptShape(index, `tool_results at message ${index} does not follow an assistant message with tool uses (${describePrev(prev, index - 1)})`);
    }
    const resolved = m.results.map((r) => r.toolUseId);
    const dup = firstDuplicate(resolved);
    if (dup !== undefined) return invalidTranscriptShape(index, `tool_results at message ${index} has duplicate toolUseId ${JSON.stringify(dup)}`);
    const want = new Set(expected);
    if (resolved.length !== want.size || resolved.some((id) => !want.has(id))) {
      return invalidTranscriptShape(index, `tool_results at message ${index} resolves ${idSet(resolved)}, expected ${idSet(expected)}`);
    }
    return undefined;
  }
  if (expected.length > 0) {
    return invalidTranscriptShape(
      index,
      `${m.role} at message ${index} follows assistant message ${index - 1} whose tool uses ${idSet(expected)} are unresolved; expected tool_results`,
    );
  }
  return undefined;
};

/** The error for an assistant message at `index` whose tool uses have no results after it. */
const pendingError = (m: Message, index: number): InvalidTranscriptShape =>
  invalidTranscriptShape(index, `assistant message ${index} has tool uses ${idSet(toolUseIds(m))} with no tool_results after it`);

/**
 * Checks the whole list (revisions.md §2). `Left(InvalidTranscriptShape)` at the
 * first broken rule, `index` being the message where it was found:
 * - a `tool_results` not after an assistant with tool uses, with a duplicate
 *   `toolUseId`, or resolving a different id set ("tool_results at message 3
 *   resolves {a}, expected {a, b}");
 * - an assistant message with duplicate `tool_use` ids;
 * - a message other than `tool_results` after an assistant message with tool uses;
 * - a last message that is an assistant message with tool uses (unless
 *   `opts.allowPendingToolUse`); the index is that assistant message.
 * O(n).
 */
export const validateTranscriptShape = (messages: readonly Message[], opts: ShapeOptions = {}): E.Either<InvalidTranscriptShape, void> =>
  validateShapeFrom(messages, 0, undefined, opts);

/**
 * Like `validateTranscriptShape` for `messages` placed at `offset` of a longer
 * transcript after the message `prev` (the one at `offset - 1`, or `undefined`):
 * checks every pair from (`prev`, `messages[0]`) on; indices in errors are
 * positions in the whole transcript. Used to re-check a rewrite result from the
 * first changed position without reading the untouched prefix.
 */
export const validateShapeFrom = (
  messages: Iterable<Message>,
  offset: number,
  prev: Message | undefined,
  opts: ShapeOptions = {},
): E.Either<InvalidTranscriptShape, void> => {
  let p = prev;
  let i = offset;
  for (const m of messages) {
    const err = checkPair(p, m, i);
    if (err !== undefined) return E.left(err);
    p = m;
    i++;
  }
  // `p` is now the last message of the whole transcript (at `i - 1`).
  if (!opts.allowPendingToolUse && p !== undefined && toolUseIds(p).length > 0) return E.left(pendingError(p, i - 1));
  return E.right(undefined);
};

/**
 * The append rule (revisions.md §2, "must not make it worse"): checks the pairs
 * (last message of `t`, `appended[0]`), (`appended[0]`, `appended[1]`), … —
 * `tool_results` must resolve exactly the preceding assistant's tool uses, nothing
 * else may follow an assistant message with unresolved tool uses, an appended
 * assistant message may not repeat a tool_use id. A trailing assistant message
 * with tool uses is legal. Reads only the last message of `t`; `index` in the
 * error is the position in the whole transcript (`length(t) + i`).
 */
export const checkAppend = (t: Transcript, appended: readonly Message[]): E.Either<InvalidTranscriptShape, void> =>
  validateShapeFrom(appended, t.messages.size, lastMessage(t), { allowPendingToolUse: true });

/** Whether the last message is an assistant message with at least one `tool_use` block (a tool is running). */
export const awaitingToolResults = (t: Transcript): boolean => {
  const last = lastMessage(t);
  return last !== undefined && toolUseIds(last).length > 0;
};

/** The ids of an assistant message's `tool_use` blocks in order (`[]` for other roles). */
export const toolUseIdsOf = toolUseIds;
