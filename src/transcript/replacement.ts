/**
 * Message replacements for `forkReplacing` (revisions.md §6).
 */
import type * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import {
  AssistantBlockCodec,
  ContentBlockCodec,
  decodeWith,
  dispatch,
  literal,
  MessageInputCodec,
  nat,
  stampMessage,
  strict,
  type DecodeError,
  type Message,
  type Role,
} from '../model/index.ts';
import { transcriptLength, transcriptMessageAt, type Transcript } from './transcript.ts';

/**
 * How to edit one message (tag `type`):
 * - `message { message }`: replace the whole message (a `MessageInput`; a missing
 *   `createdAt` is stamped with the edit time);
 * - `user_content_block { blockIndex, block }`: replace content block `blockIndex`
 *   of a `user` message;
 * - `assistant_block { blockIndex, block }`: replace block `blockIndex` of an
 *   `assistant` message;
 * - `tool_result_content_block { resultIndex, blockIndex, block }`: replace content
 *   block `blockIndex` of result `resultIndex` of a `tool_results` message.
 * Indices are non-negative integers (0-based).
 */
export const TranscriptReplacementCodec = dispatch(
  'TranscriptReplacement',
  'type',
  {
    message: strict('MessageReplacement', { type: literal('message'), message: MessageInputCodec }),
    user_content_block: strict('UserContentBlockReplacement', { type: literal('user_content_block'), blockIndex: nat, block: ContentBlockCodec }),
    assistant_block: strict('AssistantBlockReplacement', { type: literal('assistant_block'), blockIndex: nat, block: AssistantBlockCodec }),
    tool_result_content_block: strict('ToolResultContentBlockReplacement', {
      type: literal('tool_result_content_block'),
      resultIndex: nat,
      blockIndex: nat,
      block: ContentBlockCodec,
    }),
  },
  'unknown_block_type',
);
/** How to edit one message. */
export type TranscriptReplacement = t.TypeOf<typeof TranscriptReplacementCodec>;

/** Decodes a replacement from a caller. */
export const decodeTranscriptReplacement = (u: unknown): E.Either<DecodeError, TranscriptReplacement> => decodeWith(TranscriptReplacementCodec, u);

/** `messageIndex` is not the index of a message of a transcript of `messageCount` messages. */
export interface MessageIndexOutOfBounds {
  readonly _tag: 'MessageIndexOutOfBounds';
  readonly messageIndex: number;
  readonly messageCount: number;
  readonly message: string;
}

/** A block replacement needs a message of role `expected`; message `messageIndex` is `actual`. */
export interface MessageRoleMismatch {
  readonly _tag: 'MessageRoleMismatch';
  readonly messageIndex: number;
  readonly expected: Role;
  readonly actual: Role;
  readonly message: string;
}

/**
 * Which list a block index points into: `user_content_block` (a user message's
 * content), `assistant_block` (an assistant message's blocks), `tool_result` (a
 * tool_results message's results, for `resultIndex`), `tool_result_content_block`
 * (one result's content).
 */
export type BlockKind = 'user_content_block' | 'assistant_block' | 'tool_result' | 'tool_result_content_block';

/** `blockIndex` is not an index of the `blockCount` entries of the `blockKind` list. */
export interface BlockIndexOutOfBounds {
  readonly _tag: 'BlockIndexOutOfBounds';
  readonly blockKind: BlockKind;
  readonly blockIndex: number;
  readonly blockCount: number;
  readonly message: string;
}

/** What `applyReplacement` can refuse. */
export type ReplacementError = MessageIndexOutOfBounds | MessageRoleMismatch | BlockIndexOutOfBounds;

/** Builds a `MessageIndexOutOfBounds`. */
export const messageIndexOutOfBounds = (messageIndex: number, messageCount: number): MessageIndexOutOfBounds => ({
  _tag: 'MessageIndexOutOfBounds',
  messageIndex,
  messageCount,
  message: `message index ${messageIndex} is out of bounds for ${messageCount} messages`,
});

/** Builds a `MessageRoleMismatch`. */
export const messageRoleMismatch = (messageIndex: number, expected: Role, actual: Role): MessageRoleMismatch => ({
  _tag: 'MessageRoleMismatch',
  messageIndex,
  expected,
  actual,
  message: `message ${messageIndex} is ${actual}, expected ${expected}`,
});

/** Builds a `BlockIndexOutOfBounds`. */
export const blockIndexOutOfBounds = (blockKind: BlockKind, blockIndex: number, blockCount: number): BlockIndexOutOfBounds => ({
  _tag: 'BlockIndexOutOfBounds',
  blockKind,
  blockIndex,
  blockCount,
  message: `${blockKind} index ${blockIndex} is out of bounds for ${blockCount} entries`,
});

const inBounds = (i: number, count: number): boolean => Number.isSafeInteger(i) && i >= 0 && i < count;

const replaced = <A>(xs: readonly A[], i: number, x: A): A[] => {
  const out = xs.slice();
  out[i] = x;
  return out;
};

/**
 * The message at `index` of `t` edited by `r` (revisions.md §6), as a new message;
 * `t` is unchanged. A whole-message replacement without `createdAt` gets `at` (ms);
 * a block edit keeps the message's `createdAt` and every other field.
 * Errors: `MessageIndexOutOfBounds { messageIndex, messageCount }`;
 * `MessageRoleMismatch { messageIndex, expected, actual }` for a block edit of the
 * wrong role; `BlockIndexOutOfBounds { blockKind, blockIndex, blockCount }` (for a
 * bad `resultIndex`, `blockKind` is `tool_result` and `blockIndex` the result index).
 * No shape check: the caller checks the edited message where it lands.
 */
export const applyReplacement = (t: Transcript, index: number, r: TranscriptReplacement, at: number): E.Either<ReplacementError, Message> => {
  const count = transcriptLength(t);
  const m = inBounds(index, count) ? transcriptMessageAt(t, index) : undefined;
  if (m === undefined) return E.left(messageIndexOutOfBounds(index, count));
  switch (r.type) {
    case 'message':
      return E.right(stampMessage(r.message, at));
    case 'user_content_block': {
      if (m.role !== 'user') return E.left(messageRoleMismatch(index, 'user', m.role));
      if (!inBounds(r.blockIndex, m.content.length)) return E.left(blockIndexOutOfBounds('user_content_block', r.blockIndex, m.content.length));
      return E.right({ ...m, content: replaced(m.content, r.blockIndex, r.block) });
    }
    case 'assistant_block': {
      if (m.role !== 'assistant') return E.left(messageRoleMismatch(index, 'assistant', m.role));
      if (!inBounds(r.blockIndex, m.content.length)) return E.left(blockIndexOutOfBounds('assistant_block', r.blockIndex, m.content.length));
      return E.right({ ...m, content: replaced(m.content, r.blockIndex, r.block) });
    }
    case 'tool_result_content_block': {
      if (m.role !== 'tool_results') return E.left(messageRoleMismatch(index, 'tool_results', m.role));
      const result = inBounds(r.resultIndex, m.results.length) ? m.results[r.resultIndex] : undefined;
      if (result === undefined) return E.left(blockIndexOutOfBounds('tool_result', r.resultIndex, m.results.length));
      if (!inBounds(r.blockIndex, result.content.length)) {
        return E.left(blockIndexOutOfBounds('tool_result_content_block', r.blockIndex, result.content.length));
      }
      return E.right({ ...m, results: replaced(m.results, r.resultIndex, { ...result, content: replaced(result.content, r.blockIndex, r.block) }) });
    }
  }
};
