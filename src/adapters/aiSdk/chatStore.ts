/**
 * A chat store for the Vercel AI SDK (package `ai`, v6) on palimpsest, shaped
 * as the SDK's persistence guide uses one:
 *
 * ```ts
 * const chats = createChatStore(store);
 * const id = await chats.createChat();
 * const messages = await chats.loadChat(id);      // UIMessage[]
 * await chats.saveChat({ chatId: id, messages }); // in onFinish of toUIMessageStreamResponse
 * ```
 *
 * A chat is a palimpsest session (its id is the chat id); each `UIMessage` is a
 * segment (`parts.ts`). `saveChat` takes the full array and compares it with
 * the stored messages by `UIMessage.id`, in order:
 *
 * | the new array | recorded |
 * | --- | --- |
 * | the stored messages, unchanged | nothing |
 * | the stored messages, then more | `messages_appended` of the new segments |
 * | a message with a stored id but other content (an edit, a streamed message growing) | `transcript_rewritten` from that message's segment to the end, reason `ai_sdk_edit` |
 * | another id where a stored message was (a regenerated reply), or fewer messages | `transcript_rewritten` from there to the end, reason `ai_sdk_replace` |
 *
 * Rewrites are validated commits carrying `expectedParentRevision` (and `actor`
 * when given); earlier revisions stay readable (`palimpsest revisions`).
 * Errors: promises reject with the typed error object (`{ _tag, …, message }`):
 * `UnsupportedUIMessage` (unknown part type, not JSON, malformed) before
 * anything is written, `ChatTranscriptMismatch` when the stored transcript is
 * not what this store wrote, or any `StoreError` (`SessionNotFound`,
 * `SeqConflict` after `CHAT_STORE_MAX_ATTEMPTS` tries, …).
 */
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { UIMessage } from 'ai';
import { transcriptDigest } from '../../model/digest.ts';
import type { MessageInput } from '../../model/message.ts';
import * as commands from '../../session/builders.ts';
import type { CommandInputOf } from '../../session/builders.ts';
import type { Session } from '../../session/session.ts';
import { invalidArgument, type StoreError } from '../../store/errors.ts';
import type { SessionStore } from '../../store/store.ts';
import { segmentOf, storedUIMessage, type StoredUIMessage, type UnsupportedUIMessage } from './parts.ts';
import { chatSegments, toUIMessage, type ChatSegment, type ChatTranscriptMismatch } from './segments.ts';

/** Everything a chat store call can reject with. */
export type ChatStoreError = StoreError | UnsupportedUIMessage | ChatTranscriptMismatch;

/** Rewrite reasons recorded by `saveChat`. */
export const CHAT_REWRITE_REASONS = { edit: 'ai_sdk_edit', replace: 'ai_sdk_replace' } as const;

/** Attempts of one save after `SeqConflict`s (another writer got in between) before the conflict is the rejection. */
export const CHAT_STORE_MAX_ATTEMPTS = 5;

/** Options of `createChatStore`. */
export interface ChatStoreOptions {
  /** Recorded as `actor` on every rewrite (non-empty). */
  readonly actor?: string;
  /** Stamps `createdAt` of new messages (ms since epoch). Default `Date.now`. */
  readonly clock?: () => number;
  /** Makes chat ids for `createChat` (default `randomUUID`). */
  readonly newId?: () => string;
}

/** The store the AI SDK persistence guide writes by hand. */
export interface ChatStore {
  /** Creates an empty chat and returns its id. */
  createChat(): Promise<string>;
  /** The chat's messages, as saved. */
  loadChat(chatId: string): Promise<UIMessage[]>;
  /** Saves the full message array (see the module comment for what is recorded). */
  saveChat(args: { readonly chatId: string; readonly messages: readonly UIMessage[] }): Promise<void>;
}

const orReject = <A>(e: E.Either<ChatStoreError, A>): A => {
  if (E.isLeft(e)) throw e.left;
  return e.right;
};

const sameStored = (a: StoredUIMessage, b: StoredUIMessage): boolean => transcriptDigest(segmentOf(a)) === transcriptDigest(segmentOf(b));

/** The command a save records. */
type ChatCommand = CommandInputOf<'messages_appended'> | CommandInputOf<'transcript_rewritten'>;

/** What a save records, as a plan over the stored segments. */
type SavePlan =
  | { readonly type: 'none' }
  | { readonly type: 'append'; readonly messages: MessageInput[] }
  | { readonly type: 'rewrite'; readonly start: number; readonly end: number; readonly replacement: MessageInput[]; readonly reason: string };

/** Compares the new messages with the stored segments by id, in order (pure). */
export const planChatSave = (stored: readonly ChatSegment[], transcriptLength: number, next: readonly StoredUIMessage[]): SavePlan => {
  let i = 0;
  while (i < stored.length && i < next.length && stored[i]!.message.id === next[i]!.id && sameStored(stored[i]!.message, next[i]!)) i++;
  const added = next.slice(i).flatMap(segmentOf);
  if (i === stored.length) return added.length === 0 ? { type: 'none' } : { type: 'append', messages: added };
  const reason = i < next.length && next[i]!.id === stored[i]!.message.id ? CHAT_REWRITE_REASONS.edit : CHAT_REWRITE_REASONS.replace;
  return { type: 'rewrite', start: stored[i]!.start, end: transcriptLength, replacement: added, reason };
};

/** The one command a save plan records (typed builders), messages without `createdAt` stamped with `now`. */
const commandFor = (session: Session, plan: SavePlan, now: number, actor: string | undefined): ChatCommand | undefined => {
  const stamp = (m: MessageInput): MessageInput => ({ ...m, createdAt: m.createdAt ?? now });
  switch (plan.type) {
    case 'none':
      return undefined;
    case 'append':
      return commands.messagesAppended(plan.messages.map(stamp));
    case 'rewrite':
      return commands.transcriptRewritten({
        selection: { type: 'message_range', start: plan.start, end: plan.end },
        replacement: plan.replacement.map(stamp),
        reason: { kind: plan.reason },
        ...(actor !== undefined ? { actor } : {}),
        expectedParentRevision: session.transcriptRevision(),
      });
  }
};

const loadSegments = async (store: SessionStore, chatId: string): Promise<E.Either<ChatStoreError, { session: Session; segments: ChatSegment[] }>> => {
  const loaded = await store.load(chatId);
  if (E.isLeft(loaded)) return loaded;
  return E.map((segments: ChatSegment[]) => ({ session: loaded.right, segments }))(chatSegments(loaded.right.messages));
};

/** Checks every message before a save writes anything. */
const storedAll = (messages: readonly UIMessage[]): E.Either<UnsupportedUIMessage, StoredUIMessage[]> => {
  if (!Array.isArray(messages)) return E.left({ _tag: 'UnsupportedUIMessage', reason: 'malformed', messageIndex: 0, message: 'saveChat: messages must be an array of UIMessage' });
  const out: StoredUIMessage[] = [];
  for (let i = 0; i < messages.length; i++) {
    const m = storedUIMessage(messages[i]!, i);
    if (E.isLeft(m)) return m;
    out.push(m.right);
  }
  return E.right(out);
};

/**
 * A chat store over `store` (see the module comment). Throws `InvalidArgument`
 * for a bad `actor`, `clock` or `newId` option.
 */
export const createChatStore = (store: SessionStore, opts: ChatStoreOptions = {}): ChatStore => {
  if (opts.actor !== undefined && (typeof opts.actor !== 'string' || opts.actor === '')) throw invalidArgument('actor', 'expected a non-empty string');
  if (opts.clock !== undefined && typeof opts.clock !== 'function') throw invalidArgument('clock', 'expected a function returning ms since epoch');
  if (opts.newId !== undefined && typeof opts.newId !== 'function') throw invalidArgument('newId', 'expected a function returning a chat id');
  const clock = opts.clock ?? Date.now;
  const newId = opts.newId ?? randomUUID;
  return {
    createChat: async () => orReject(await store.create({ id: newId() })).id,
    loadChat: async (chatId) => orReject(await loadSegments(store, chatId)).segments.map((s) => toUIMessage(s.message)),
    saveChat: async ({ chatId, messages }) => {
      const next = orReject(storedAll(messages));
      for (let attempt = 1; ; attempt++) {
        const { session, segments } = orReject(await loadSegments(store, chatId));
        const command = commandFor(session, planChatSave(segments, session.messageCount, next), clock(), opts.actor);
        if (command === undefined) return;
        const r = await store.append(chatId, [command], { expectedSeq: session.seq });
        if (E.isRight(r)) return;
        if (r.left._tag !== 'SeqConflict' || attempt >= CHAT_STORE_MAX_ATTEMPTS) throw r.left;
      }
    },
  };
};
