/**
 * The session command union (README §2): every input a session accepts, recorded
 * in its log. A discriminated union on `type` (snake_case), decoded by dispatch
 * with strict codecs, so a command from a caller or from disk is checked by the
 * same codec that defines its type.
 *
 * Core commands are defined here; each machine contributes its own through
 * the machine registry (`src/machines/registry.ts`).
 */
import type * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { arrayOf, decodeWith, dispatch, literal, nat, nonEmptyStr, oneOf, positive, recordOf, str, strict, type Codec } from '../model/decode.ts';
import { JsonCodec } from '../model/json.ts';
import { MessageCodec } from '../model/message.ts';
import { withMember } from '../model/objects.ts';
import { DigestCodec } from '../model/scalars.ts';
import { UsageCodec } from '../model/usage.ts';
import { TranscriptReplacementCodec, TranscriptRewriteReasonCodec, TranscriptRewriteSelectionCodec } from '../transcript/index.ts';
import { machineCommandCodecs } from '../machines/registry.ts';
import { invalidCommand, type InvalidCommand } from './errors.ts';

const messages = (name: string, minLength = 0) => arrayOf(MessageCodec, { minLength, name });

/** Where a fork was taken: the parent session, the seq of the parent record and its hash. */
export const ForkPointCodec = strict('ForkPoint', { sessionId: nonEmptyStr, seq: positive, hash: DigestCodec });
/** Where a fork was taken. */
export type ForkPoint = t.TypeOf<typeof ForkPointCodec>;

/** How a child was forked (revisions.md §6). */
export const ForkModeCodec = oneOf('ForkMode', ['full', 'at', 'replacing'] as const);
/** How a child was forked. */
export type ForkMode = t.TypeOf<typeof ForkModeCodec>;

/** The core commands, keyed by `type`. */
export const coreCommandCodecs = {
  /** Genesis of a root session; `createdAt` is the record time. */
  session_created: strict('session_created', { type: literal('session_created'), metadata: recordOf(JsonCodec) }),
  /** Genesis of a fork: the child starts from the parent's state at `from.seq`, transformed by `mode`. */
  session_forked: strict(
    'session_forked',
    { type: literal('session_forked'), from: ForkPointCodec, mode: ForkModeCodec },
    { index: nat, replacement: TranscriptReplacementCodec },
  ),
  /** Appends messages (one `push` or one `pushBatch`). */
  messages_appended: strict('messages_appended', { type: literal('messages_appended'), messages: messages('Messages', 1) }),
  /** A validated rewrite of `[start, end)` (revisions.md §3); the commit is recomputed by the reducer. */
  transcript_rewritten: strict(
    'transcript_rewritten',
    { type: literal('transcript_rewritten'), selection: TranscriptRewriteSelectionCodec, replacement: messages('Replacement'), reason: TranscriptRewriteReasonCodec },
    { actor: nonEmptyStr, expectedParentRevision: DigestCodec },
  ),
  /** Sets or inserts the leading system message (machines.md §5). */
  system_prompt_set: strict('system_prompt_set', { type: literal('system_prompt_set'), prompt: str }),
  /** Replaces every `system_notice` of `kind` with `replacements`, appended at the end (machines.md §5). */
  synthetic_notices_replaced: strict('synthetic_notices_replaced', { type: literal('synthetic_notices_replaced'), kind: nonEmptyStr, replacements: messages('Replacements') }),
  /** Adds to the cumulative usage (machines.md §6). */
  usage_recorded: strict('usage_recorded', { type: literal('usage_recorded'), usage: UsageCodec }),
  /** Sets a user metadata key (reserved keys refused). */
  metadata_set: strict('metadata_set', { type: literal('metadata_set'), key: nonEmptyStr, value: JsonCodec }),
  /** Removes a user metadata key. */
  metadata_removed: strict('metadata_removed', { type: literal('metadata_removed'), key: nonEmptyStr }),
  /** Writes a user metadata key only if absent; never moves `updatedAt`. */
  metadata_backfilled: strict('metadata_backfilled', { type: literal('metadata_backfilled'), key: nonEmptyStr, value: JsonCodec }),
  /** Moves `updatedAt` without changing anything else. */
  session_touched: strict('session_touched', { type: literal('session_touched') }),
} as const;

/** Every command codec, keyed by `type`: the core commands and every registered machine's (`machines/registry.ts`). */
export const sessionCommandCodecs = { ...coreCommandCodecs, ...machineCommandCodecs } as const;

/** The `SessionCommand` codec: dispatch on `type`. */
export const SessionCommandCodec: Codec<SessionCommand> = dispatch('SessionCommand', 'type', sessionCommandCodecs) as Codec<SessionCommand>;

/** Any command a session accepts. */
export type SessionCommand = { [K in keyof typeof sessionCommandCodecs & string]: t.TypeOf<(typeof sessionCommandCodecs)[K]> }[keyof typeof sessionCommandCodecs & string];
/** The command of one `type`. */
export type CommandOf<T extends SessionCommand['type']> = Extract<SessionCommand, { type: T }>;
/** A core (non-machine) command. */
export type CoreCommand = { [K in keyof typeof coreCommandCodecs]: t.TypeOf<(typeof coreCommandCodecs)[K]> }[keyof typeof coreCommandCodecs];

/** Decodes a command; `InvalidCommand` names the failing path. */
export const decodeCommand = (u: unknown): E.Either<InvalidCommand, SessionCommand> => E.mapLeft(invalidCommand)(decodeWith(SessionCommandCodec, u));

/** Whether a command type is a genesis (only legal at seq 1). */
export const isGenesis = (c: SessionCommand): c is CommandOf<'session_created'> | CommandOf<'session_forked'> =>
  c.type === 'session_created' || c.type === 'session_forked';

/** The member holding messages without a record time, per command type (stamped by `stampCommandMessages`). */
const STAMPED_MEMBER: Readonly<Record<string, string>> = {
  messages_appended: 'messages',
  transcript_rewritten: 'replacement',
  synthetic_notices_replaced: 'replacements',
};

const isPlainObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);
/** A message-like object without a record time (as `stampMessage` judges it). */
const lacksTime = (m: unknown): m is Record<string, unknown> => isPlainObject(m) && m.createdAt === undefined;

/**
 * `command` with every message that has no `createdAt` stamped with `at` (ms
 * since epoch: the record time): the messages of a `messages_appended`, the
 * replacement of a `transcript_rewritten` and the replacements of a
 * `synthetic_notices_replaced`. So a caller may pass constructor output
 * (`userText(…)`) as `Session.push` does. Anything else, including a malformed
 * command, is returned unchanged for the decoder to judge.
 */
export const stampCommandMessages = (command: unknown, at: number): unknown => {
  if (!isPlainObject(command) || typeof command.type !== 'string') return command;
  const member = Object.prototype.hasOwnProperty.call(STAMPED_MEMBER, command.type) ? STAMPED_MEMBER[command.type] : undefined;
  if (member === undefined) return command;
  const list = command[member];
  if (!Array.isArray(list) || !list.some(lacksTime)) return command;
  return { ...command, [member]: list.map((m: unknown) => (lacksTime(m) ? withMember(m, 'createdAt', at) : m)) };
};
