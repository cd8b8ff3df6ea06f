/**
 * The OpenAI Agents SDK `Session` interface (`@openai/agents-core`) backed by a
 * palimpsest session in a `SessionStore`:
 *
 * ```ts
 * const opened = await SessionStore.open('./.palimpsest');
 * if (E.isLeft(opened)) throw new Error(opened.left.message);
 * const session = await createPalimpsestAgentsSession(opened.right, { sessionId: 'chat-42' });
 * await run(agent, 'What is the weather in Paris?', { session });
 * ```
 *
 * The item list the SDK sees is `messagesToItems(transcript)` (`agentsItems.ts`
 * gives the mapping and its round-trip contract). Every change is one store
 * append holding one command, so it is atomic, hash-chained and replayable:
 *
 * | call | recorded |
 * | --- | --- |
 * | `addItems(items)` | `messages_appended` with the items' messages; when the first item continues the last tool-call group (the results of calls recorded earlier), `transcript_rewritten` of that group from the first message that changes, reason `{ kind: 'agents_add_items' }` (e.g. pending-call notices become the native `tool_use` / `tool_results` pair); nothing for `[]` |
 * | `popItem()` | `transcript_rewritten` of the last message (or the last tool-call group) to what remains without the item, reason `{ kind: 'agents_pop_item' }`; nothing on an empty session (returns `undefined`) |
 * | `clearSession()` | `transcript_rewritten` of `[0, length)` to `[]`, reason `{ kind: 'agents_clear_session' }`; nothing when already empty |
 *
 * Rewrites carry `actor` (when given) and `expectedParentRevision`, and are
 * validated commits (revisions.md §3): every earlier revision stays readable
 * through `store.revisions` / `store.revisionMessages`, and `store.verify`
 * replays them. Messages get `createdAt` from the `clock` option; a rewritten
 * message keeps the `createdAt` of the message it replaces at its position.
 *
 * `getItems(limit)` behaves as the SDK's `MemorySession`: `undefined` gives
 * every item in order, `limit <= 0` none, else the most recent `limit` items in
 * order (fresh objects each call).
 *
 * Concurrency: calls on one instance run one at a time, in call order (a
 * promise queue; reads wait for earlier writes). Each write reads the session,
 * plans the command, and appends with `expectedSeq`; if another writer got in
 * between (`SeqConflict`), it plans again from the new state (at most
 * `AGENTS_SESSION_MAX_ATTEMPTS` times, then the `SeqConflict` is the rejection).
 *
 * Errors: the SDK interface is promise-based, so a failure is a rejected
 * promise whose reason is the typed error object itself (`{ _tag, …, message }`,
 * not an `Error`): a `StoreError` or `SessionError` from the store (e.g.
 * `SessionArchived`, `StoreClosed`, `InvalidTranscriptShape` when the
 * transcript was left by another writer with tool calls this adapter cannot
 * extend), or `UnsupportedAgentItem` for an item that is not a JSON object.
 * Nothing is recorded by a failed call.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { AgentInputItem, Session as AgentsSession } from '@openai/agents-core';
import type { Message, MessageInput } from '../../model/message.ts';
import { invalidArgument, type StoreError } from '../../store/errors.ts';
import type { SessionStore } from '../../store/store.ts';
import type { Session as PalimpsestSession } from '../../session/session.ts';
import { lastAgentItems, normalizeAgentItem, planAgentsAddItems, planAgentsClear, planAgentsPopItem, type AgentsTranscriptPlan, type UnsupportedAgentItem } from './agentsItems.ts';

/** Everything a call of the agents session can reject with (the rejection value). */
export type AgentsSessionError = StoreError | UnsupportedAgentItem;

/** Options of `createPalimpsestAgentsSession`. */
export interface PalimpsestAgentsSessionOptions {
  /** The palimpsest session to use: created when absent, used as is when present. Default: a new session with a random id. */
  readonly sessionId?: string;
  /** Recorded as `actor` on every rewrite this session commits (non-empty). */
  readonly actor?: string;
  /** Stamps `createdAt` of new messages (ms since epoch). Default `Date.now`. */
  readonly clock?: () => number;
}

/** Rewrite reasons (`TranscriptRewriteReason.kind`) recorded by the agents session. */
export const AGENTS_REWRITE_REASONS = {
  addItems: 'agents_add_items',
  popItem: 'agents_pop_item',
  clearSession: 'agents_clear_session',
} as const;

/** How many times a write is planned again after a `SeqConflict` before it gives up. */
export const AGENTS_SESSION_MAX_ATTEMPTS = 5;

type Outcome<A> = E.Either<AgentsSessionError, { readonly plan: AgentsTranscriptPlan; readonly value: A }>;

/** Rejects with the typed error itself (see the module comment). */
const orReject = <A>(e: E.Either<AgentsSessionError, A>): A => {
  if (E.isLeft(e)) throw e.left;
  return e.right;
};

/**
 * An Agents SDK `Session` stored in palimpsest. Create it with
 * `createPalimpsestAgentsSession`; `sessionId` is the palimpsest session id.
 */
export class PalimpsestAgentsSession implements AgentsSession {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    /** The store holding the session. */
    readonly store: SessionStore,
    /** The palimpsest session id (also what `getSessionId()` returns). */
    readonly sessionId: string,
    private readonly opts: { readonly actor?: string; readonly clock: () => number },
  ) {}

  /** The palimpsest session id. */
  getSessionId(): Promise<string> {
    return Promise.resolve(this.sessionId);
  }

  /** The most recent `limit` items in order; every item when `limit` is `undefined`, none when `limit <= 0`. */
  getItems(limit?: number): Promise<AgentInputItem[]> {
    return this.serialized(async () => {
      const s = orReject(await this.store.load(this.sessionId));
      return lastAgentItems(s.messages, limit);
    });
  }

  /** Appends items: one store append (see the module comment). */
  addItems(items: AgentInputItem[]): Promise<void> {
    return this.serialized(async () => {
      await this.write(AGENTS_REWRITE_REASONS.addItems, (messages) => E.map((plan: AgentsTranscriptPlan) => ({ plan, value: undefined }))(planAgentsAddItems(messages, items)));
    });
  }

  /** Removes and returns the most recent item (a recorded rewrite); `undefined`, recording nothing, when there is none. */
  popItem(): Promise<AgentInputItem | undefined> {
    return this.serialized(() =>
      this.write<AgentInputItem | undefined>(AGENTS_REWRITE_REASONS.popItem, (messages) => {
        const popped = planAgentsPopItem(messages);
        return E.right(popped === undefined ? { plan: { type: 'none' }, value: undefined } : { plan: popped.plan, value: popped.item });
      }),
    );
  }

  /** Removes every item (a recorded rewrite to `[]`); records nothing when the session is already empty. */
  clearSession(): Promise<void> {
    return this.serialized(async () => {
      await this.write(AGENTS_REWRITE_REASONS.clearSession, (messages) => E.right({ plan: planAgentsClear(messages), value: undefined }));
    });
  }

  /**
   * The SDK's hook for comparing stored and expected history: both sides in the
   * normalized spelling `getItems()` returns (`normalizeAgentItem`).
   */
  prepareHistoryItemsForPersistenceComparison(items: AgentInputItem[]): AgentInputItem[] {
    return items.map(normalizeAgentItem);
  }

  private serialized<A>(f: () => Promise<A>): Promise<A> {
    const run = this.queue.then(f, f);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Reads the session, plans, appends with `expectedSeq`; plans again after a `SeqConflict`. */
  private async write<A>(reason: string, plan: (messages: readonly Message[]) => Outcome<A>): Promise<A> {
    for (let attempt = 1; ; attempt++) {
      const session = orReject(await this.store.load(this.sessionId));
      const messages = session.messages;
      const planned = orReject(plan(messages));
      const command = this.commandFor(session, messages, planned.plan, reason);
      if (command === undefined) return planned.value;
      const r = await this.store.append(this.sessionId, [command], { expectedSeq: session.seq });
      if (E.isRight(r)) return planned.value;
      if (r.left._tag !== 'SeqConflict' || attempt >= AGENTS_SESSION_MAX_ATTEMPTS) throw r.left;
    }
  }

  private commandFor(session: PalimpsestSession, old: readonly Message[], plan: AgentsTranscriptPlan, reason: string): unknown {
    const now = this.opts.clock();
    const stampNew = (m: MessageInput): Message => ({ ...m, createdAt: m.createdAt ?? now }) as Message;
    switch (plan.type) {
      case 'none':
        return undefined;
      case 'append':
        return { type: 'messages_appended', messages: plan.messages.map(stampNew) };
      case 'rewrite': {
        const replacement = plan.replacement.map((m, j): Message => {
          const replaced = plan.start + j < plan.end ? old[plan.start + j] : undefined;
          return { ...m, createdAt: m.createdAt ?? replaced?.createdAt ?? now } as Message;
        });
        return {
          type: 'transcript_rewritten',
          selection: { type: 'message_range', start: plan.start, end: plan.end },
          replacement,
          reason: { kind: reason },
          ...(this.opts.actor !== undefined ? { actor: this.opts.actor } : {}),
          expectedParentRevision: session.transcriptRevision(),
        };
      }
    }
  }
}

/**
 * An Agents SDK `Session` over palimpsest session `opts.sessionId` in `store`
 * (created when absent; a new random id when not given). Rejects with the typed
 * error: `InvalidArgument` (bad `actor` or `clock`), `InvalidSessionId`, or any
 * `StoreError` of `load` / `create`.
 */
export const createPalimpsestAgentsSession = async (store: SessionStore, opts: PalimpsestAgentsSessionOptions = {}): Promise<PalimpsestAgentsSession> => {
  if (opts.actor !== undefined && (typeof opts.actor !== 'string' || opts.actor.length === 0)) throw invalidArgument('actor', 'expected a non-empty string');
  if (opts.clock !== undefined && typeof opts.clock !== 'function') throw invalidArgument('clock', 'expected a function returning ms since epoch');
  const config = { ...(opts.actor !== undefined ? { actor: opts.actor } : {}), clock: opts.clock ?? Date.now };
  if (opts.sessionId === undefined) {
    const created = orReject(await store.create());
    return new PalimpsestAgentsSession(store, created.id, config);
  }
  const id = opts.sessionId;
  const loaded = await store.load(id);
  if (E.isRight(loaded)) return new PalimpsestAgentsSession(store, id, config);
  if (loaded.left._tag !== 'SessionNotFound') throw loaded.left;
  const created = await store.create({ id });
  // Another caller may have created it in between: then use it.
  if (E.isLeft(created) && created.left._tag !== 'SessionExists') throw created.left;
  return new PalimpsestAgentsSession(store, id, config);
};
