/**
 * Stored chat transcript → `UIMessage`s (pure): splits the transcript into
 * segments at the `ai_sdk_message` header notices and checks each segment
 * against the projection of its header, so a transcript changed by another
 * writer fails closed instead of loading as something else.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { UIMessage } from 'ai';
import { transcriptDigest } from '../../model/digest.ts';
import type { Message } from '../../model/message.ts';
import { AI_SDK_MESSAGE_KIND, projection, storedUIMessage, type StoredUIMessage } from './parts.ts';

/** The stored transcript is not what the chat store wrote: `foreign_message` (a message before the first header), `projection_mismatch` (a segment's messages differ from its header's projection), `bad_header` (a header whose data is not a `UIMessage`). */
export interface ChatTranscriptMismatch {
  readonly _tag: 'ChatTranscriptMismatch';
  readonly reason: 'foreign_message' | 'projection_mismatch' | 'bad_header';
  /** Index of the offending message in the transcript. */
  readonly index: number;
  readonly message: string;
}

const mismatch = (reason: ChatTranscriptMismatch['reason'], index: number, detail: string): ChatTranscriptMismatch => ({
  _tag: 'ChatTranscriptMismatch',
  reason,
  index,
  message: `the chat transcript does not match what the chat store wrote at message ${index}: ${detail}`,
});

/** One stored message and where its segment lies in the transcript: `[start, end)`. */
export interface ChatSegment {
  readonly message: StoredUIMessage;
  readonly start: number;
  readonly end: number;
}

const isHeader = (m: Message): m is Extract<Message, { role: 'system_notice' }> => m.role === 'system_notice' && m.kind === AI_SDK_MESSAGE_KIND;

/** The segments of a chat transcript, each checked against its header. O(n). */
export const chatSegments = (messages: readonly Message[]): E.Either<ChatTranscriptMismatch, ChatSegment[]> => {
  const out: ChatSegment[] = [];
  let i = 0;
  while (i < messages.length) {
    const h = messages[i]!;
    if (!isHeader(h)) return E.left(mismatch('foreign_message', i, `a ${h.role} message outside any chat message`));
    const decoded = storedUIMessage(h.data as unknown as UIMessage, out.length);
    if (E.isLeft(decoded)) return E.left(mismatch('bad_header', i, decoded.left.message));
    let end = i + 1;
    while (end < messages.length && !isHeader(messages[end]!)) end++;
    const want = projection(decoded.right);
    if (transcriptDigest(want) !== transcriptDigest(messages.slice(i + 1, end))) {
      return E.left(mismatch('projection_mismatch', i, `the messages after the header of ${JSON.stringify(decoded.right.id)} are not its projection`));
    }
    out.push({ message: decoded.right, start: i, end });
    i = end;
  }
  return E.right(out);
};

/** A stored message as the `UIMessage` the AI SDK gets back (a fresh object). */
export const toUIMessage = (m: StoredUIMessage): UIMessage => JSON.parse(JSON.stringify(m)) as UIMessage;
