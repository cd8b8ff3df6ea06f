/**
 * Messages (model.md §2): a union on `role`, each with `createdAt` (ms since epoch).
 *
 * `Message` always has `createdAt`; `MessageInput` (what constructors return) may
 * lack it until a session stamps it with the record time (`stampMessage`).
 */
import type * as t from 'io-ts';
import type * as E from 'fp-ts/lib/Either.js';
import { arrayOf, decodeWith, dispatch, literal, nonEmptyStr, oneOf, str, strict, type Codec, type DecodeError } from './decode.ts';
import { JsonCodec } from './json.ts';
import { MillisCodec } from './scalars.ts';
import { withMember } from './objects.ts';
import { UsageCodec } from './usage.ts';
import { AssistantBlockCodec, StopReasonCodec, ToolResultCodec, UserContentCodec } from './content.ts';

/** Why a user message exists. */
export const TranscriptRoleCodec = oneOf('TranscriptRole', ['conversational', 'compaction_summary', 'injected_context'] as const);
/** Why a user message exists. */
export type TranscriptRole = t.TypeOf<typeof TranscriptRoleCodec>;

/** Which model, wire protocol and provider response produced a turn. */
export const OriginCodec = strict('Origin', { provider: nonEmptyStr, model: nonEmptyStr }, { api: nonEmptyStr, responseId: nonEmptyStr });
/** Which model, wire protocol and provider response produced a turn. */
export type Origin = t.TypeOf<typeof OriginCodec>;

/** Kind of a `system_notice`: any non-empty string; new kinds should be snake_case. */
export const NoticeKindCodec = nonEmptyStr;
/** Kind of a `system_notice`. */
export type NoticeKind = string;

const createdAt = { createdAt: MillisCodec };
const branches = <C extends Record<string, Codec<number>>, O extends Record<string, Codec<number>>>(req: C, opt: O) => ({
  system: strict('SystemMessage', { role: literal('system'), text: str, ...req }, { ...opt }),
  system_notice: strict('SystemNotice', { role: literal('system_notice'), kind: NoticeKindCodec, text: str, ...req }, { data: JsonCodec, ...opt }),
  user: strict('UserMessage', { role: literal('user'), content: UserContentCodec, transcriptRole: TranscriptRoleCodec, ...req }, { ...opt }),
  assistant: strict(
    'AssistantMessage',
    { role: literal('assistant'), content: arrayOf(AssistantBlockCodec), stopReason: StopReasonCodec, ...req },
    { errorMessage: str, origin: OriginCodec, usage: UsageCodec, ...opt },
  ),
  tool_results: strict('ToolResultsMessage', { role: literal('tool_results'), results: arrayOf(ToolResultCodec, { minLength: 1, name: 'ToolResults' }), ...req }, { ...opt }),
});

/** A transcript message; `createdAt` required. */
export const MessageCodec = dispatch('Message', 'role', branches(createdAt, {}), 'unknown_role');
/** A transcript message. */
export type Message = t.TypeOf<typeof MessageCodec>;
/** The message roles. */
export type Role = Message['role'];
/** A message of one role. */
export type MessageOf<R extends Role> = Extract<Message, { role: R }>;
/** `system` message. */
export type SystemMessage = MessageOf<'system'>;
/** `system_notice` message. */
export type SystemNotice = MessageOf<'system_notice'>;
/** `user` message. */
export type UserMessage = MessageOf<'user'>;
/** `assistant` message. */
export type AssistantMessage = MessageOf<'assistant'>;
/** `tool_results` message. */
export type ToolResultsMessage = MessageOf<'tool_results'>;

/** A message whose `createdAt` may be missing (constructors' output). */
export const MessageInputCodec = dispatch('MessageInput', 'role', branches({}, createdAt), 'unknown_role');
/** A message whose `createdAt` may be missing. */
export type MessageInput = t.TypeOf<typeof MessageInputCodec>;

/** The messages of a transcript. */
export const MessagesCodec = arrayOf(MessageCodec, { name: 'Messages' });

/** Decodes one message (createdAt required). */
export const decodeMessage = (u: unknown): E.Either<DecodeError, Message> => decodeWith(MessageCodec, u);
/** Decodes a message array (createdAt required). */
export const decodeMessages = (u: unknown): E.Either<DecodeError, Message[]> => decodeWith(MessagesCodec, u);
/** Decodes one message input (createdAt optional). */
export const decodeMessageInput = (u: unknown): E.Either<DecodeError, MessageInput> => decodeWith(MessageInputCodec, u);

/** Fills a missing `createdAt` with `at` (ms); a message that has one is returned as is. */
export const stampMessage = (m: MessageInput, at: number): Message =>
  (m.createdAt === undefined ? withMember(m, 'createdAt', at) : m) as Message;
