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
 * | `clearSession()` | `transcript_rewritten` of `[0, length)` to `[]`, reason `{ kind: 'agents_clear_session' }`, and `metadata_removed` of every `agents.operation:*` key; nothing when there is nothing to remove |
 * | `applyHistoryTransaction({ operationId, transaction })` | `append_items`: as `addItems`; `replace_suffix`: `transcript_rewritten` from the first changed message, reason `agents_replace_suffix` (or an append when nothing old changes); then `metadata_set` of `agents.operation:<operationId>` = `{ type, digest }`; nothing for a retried operation |
 * | `replaceHistoryWithCompaction(items)` | one `transcript_rewritten` from the first changed message, reason `{ kind: 'compaction' }`; nothing when the items are already the history |
 * | `applyHistoryMutations({ mutations })` | one `transcript_rewritten` from the first changed message, reason `agents_history_mutation` |
 *
 * Run context (`@openai/agents-core` ≥ 0.20, `RunContextAwareSession`): the
 * session declares `acceptsRunContext`, so the runner passes the run's
 * `RunContext` (the same instance for every history call of one run) as the
 * last argument. Each write then records who made it: `runAttribution(runContext)`
 * gives `{ runId, actor? }` (default `defaultRunAttribution`: `context.runId` /
 * `context.actor` of the object the caller gave `run(…, { context })` when they
 * are non-empty strings, else a run id minted once per `RunContext` instance by
 * `newRunId`). When it differs from the session's `agents.run` metadata, the
 * write's batch starts with `metadata_set agents.run = { runId, actor? }`, so
 * `palimpsest log` shows where each run's writes begin and every later record
 * until the next such line belongs to that run; a rewrite's `actor` is the
 * run's actor when it has one, else the `actor` option. A call without a run
 * context (SDK < 0.20, or a direct call) records no run. Reads record nothing.
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
 * extend), `UnsupportedAgentItem` for an item that is not a JSON object,
 * `InvalidHistoryTransaction`, `HistoryOperationReused`,
 * `HistorySuffixMismatch` (the SDK's conflict outcome) or
 * `InvalidHistoryMutation`.
 * Nothing is recorded by a failed call.
 */
import * as E from 'fp-ts/lib/Either.js';
import { randomUUID } from 'node:crypto';
import type {
  AgentInputItem,
  RunContext,
  Session as AgentsSession,
  SessionHistoryRewriteArgs,
  SessionHistoryRewriteAwareSession,
  SessionHistoryTransactionArgs,
  SessionHistoryTransactionAwareSession,
} from '@openai/agents-core';
import type { Json } from '../../model/json.ts';
import type { Message } from '../../model/message.ts';
import { invalidArgument, type StoreError } from '../../store/errors.ts';
import type { SessionStore } from '../../store/store.ts';
import type { SessionCommand } from '../../session/commands.ts';
import * as commands from '../../session/builders.ts';
import type { CommandInputOf } from '../../session/builders.ts';
import type { Session as PalimpsestSession } from '../../session/session.ts';
import { withMember } from '../../model/objects.ts';
import {
  lastAgentItems,
  messagesToItems,
  normalizeAgentItem,
  planAgentsAddItems,
  planAgentsClear,
  planAgentsPopItem,
  planAgentsReplaceAll,
  planAgentsReplaceSuffix,
  type AgentsTranscriptPlan,
  type HistorySuffixMismatch,
  type UnsupportedAgentItem,
} from './agentsItems.ts';
import {
  AGENTS_OPERATION_KEY_PREFIX,
  applyHistoryMutations,
  decodeHistoryTransaction,
  operationKey,
  operationRecord,
  type HistoryOperationReused,
  type InvalidHistoryMutation,
  type InvalidHistoryTransaction,
} from './agentsHistory.ts';

/** Everything a call of the agents session can reject with (the rejection value). */
export type AgentsSessionError =
  | StoreError
  | UnsupportedAgentItem
  | HistorySuffixMismatch
  | InvalidHistoryTransaction
  | HistoryOperationReused
  | InvalidHistoryMutation;

/** Options of `createPalimpsestAgentsSession`. */
export interface PalimpsestAgentsSessionOptions {
  /** The palimpsest session to use: created when absent, used as is when present. Default: a new session with a random id. */
  readonly sessionId?: string;
  /** Recorded as `actor` on every rewrite this session commits (non-empty). */
  readonly actor?: string;
  /** Stamps `createdAt` of new messages (ms since epoch). Default `Date.now`. */
  readonly clock?: () => number;
  /**
   * Who made a write, from the run context the SDK passes (≥ 0.20): `{ runId, actor? }`,
   * or `undefined` to record no run. Default `defaultRunAttribution`.
   */
  readonly runAttribution?: (runContext: RunContext<unknown>, mintRunId: () => string) => RunAttribution | undefined;
  /** Mints a run id for a `RunContext` whose context names none. Default `crypto.randomUUID`. */
  readonly newRunId?: () => string;
}

/** The run a write belongs to, recorded as metadata `agents.run` (both non-empty strings). */
export interface RunAttribution {
  readonly runId: string;
  readonly actor?: string;
}

/** The metadata key holding the run of the latest writes (`RunAttribution`). */
export const AGENTS_RUN_KEY = 'agents.run';

const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * The default `runAttribution`: `runId` and `actor` of the run's context object
 * (`run(agent, input, { context: { runId, actor } })`) when they are non-empty
 * strings; a missing `runId` is `mintRunId()` (called once per `RunContext`
 * instance by the session, so every write of one run shares it).
 */
export const defaultRunAttribution = (runContext: RunContext<unknown>, mintRunId: () => string): RunAttribution => {
  const c = runContext.context;
  const field = (k: 'runId' | 'actor'): string | undefined => {
    if (typeof c !== 'object' || c === null) return undefined;
    const v = (c as Record<string, unknown>)[k];
    return nonEmptyString(v) ? v : undefined;
  };
  const actor = field('actor');
  return { runId: field('runId') ?? mintRunId(), ...(actor !== undefined ? { actor } : {}) };
};

/** Whether the session's recorded run (`agents.run`) is `run`. */
const isCurrentRun = (recorded: Json | undefined, run: RunAttribution): boolean => {
  if (typeof recorded !== 'object' || recorded === null || Array.isArray(recorded)) return false;
  return recorded.runId === run.runId && recorded.actor === run.actor;
};

/** `metadata_set agents.run` when `run` is not the session's recorded run. */
const runCommands = (session: PalimpsestSession, run: RunAttribution | undefined): SessionCommand[] =>
  run === undefined || isCurrentRun(session.metadata[AGENTS_RUN_KEY], run)
    ? []
    : [{ type: 'metadata_set', key: AGENTS_RUN_KEY, value: { runId: run.runId, ...(run.actor !== undefined ? { actor: run.actor } : {}) } }];

/** Rewrite reasons (`TranscriptRewriteReason.kind`) recorded by the agents session. */
export const AGENTS_REWRITE_REASONS = {
  addItems: 'agents_add_items',
  popItem: 'agents_pop_item',
  clearSession: 'agents_clear_session',
  replaceSuffix: 'agents_replace_suffix',
  compaction: 'compaction',
  historyMutation: 'agents_history_mutation',
} as const;

/** How many times a write is planned again after a `SeqConflict` before it gives up. */
export const AGENTS_SESSION_MAX_ATTEMPTS = 5;

/** What one write records: the transcript change (with its rewrite reason) and further commands in the same batch. */
interface Planned<A> {
  readonly plan: AgentsTranscriptPlan;
  readonly reason: string;
  readonly value: A;
  readonly extra?: readonly SessionCommand[];
}

type Outcome<A> = E.Either<AgentsSessionError, Planned<A>>;

/** The transcript command a write records (typed builders). */
type TranscriptCommand = CommandInputOf<'messages_appended'> | CommandInputOf<'transcript_rewritten'>;

/** The resolved options a `PalimpsestAgentsSession` works with. */
interface AgentsSessionConfig {
  readonly actor?: string;
  readonly clock: () => number;
  readonly runAttribution: (runContext: RunContext<unknown>, mintRunId: () => string) => RunAttribution | undefined;
  readonly newRunId: () => string;
}

/** `attribution` whose result is checked: a `runId` or `actor` that is not a non-empty string rejects with `InvalidArgument` (nothing recorded). */
const checkedAttribution =
  (attribution: AgentsSessionConfig['runAttribution']): AgentsSessionConfig['runAttribution'] =>
  (runContext, mint) => {
    const run = attribution(runContext, mint);
    if (run === undefined) return undefined;
    if (!nonEmptyString(run.runId)) throw invalidArgument('runAttribution', `runId must be a non-empty string, got ${JSON.stringify(run.runId)}`);
    if (run.actor !== undefined && !nonEmptyString(run.actor)) throw invalidArgument('runAttribution', `actor must be a non-empty string, got ${JSON.stringify(run.actor)}`);
    return run;
  };

/** Rejects with the typed error itself (see the module comment). */
const orReject = <A>(e: E.Either<AgentsSessionError, A>): A => {
  if (E.isLeft(e)) throw e.left;
  return e.right;
};

const withReason =
  (reason: string) =>
  (plan: AgentsTranscriptPlan): Planned<undefined> => ({ plan, reason, value: undefined });

/** An append as a rewrite that inserts at the end (so a compaction is always one rewrite commit). */
const asRewrite = (messages: readonly Message[], plan: AgentsTranscriptPlan): AgentsTranscriptPlan =>
  plan.type === 'append' ? { type: 'rewrite', start: messages.length, end: messages.length, replacement: plan.messages } : plan;

/** `metadata_removed` for every applied-operation key (what `clearSession` forgets, as `MemorySession` does). */
const forgetOperations = (session: PalimpsestSession): SessionCommand[] =>
  Object.keys(session.metadata)
    .filter((k) => k.startsWith(AGENTS_OPERATION_KEY_PREFIX))
    .map((key): SessionCommand => ({ type: 'metadata_removed', key }));

/**
 * An Agents SDK `Session` stored in palimpsest, with the optional history
 * capabilities (`applyHistoryTransaction`, `replaceHistoryWithCompaction`,
 * `applyHistoryMutations`). Create it with `createPalimpsestAgentsSession`;
 * `sessionId` is the palimpsest session id.
 */
export class PalimpsestAgentsSession implements AgentsSession, SessionHistoryTransactionAwareSession, SessionHistoryRewriteAwareSession {
  /** Tells the SDK (≥ 0.20) to pass the run's `RunContext` to every history call (see the module comment). */
  readonly acceptsRunContext = true as const;
  private queue: Promise<unknown> = Promise.resolve();
  /** The attribution of each run context seen, so one run keeps one minted run id. */
  private readonly runs = new WeakMap<object, RunAttribution | undefined>();

  constructor(
    /** The store holding the session. */
    readonly store: SessionStore,
    /** The palimpsest session id (also what `getSessionId()` returns). */
    readonly sessionId: string,
    private readonly opts: AgentsSessionConfig,
  ) {}

  /** The palimpsest session id. */
  getSessionId(): Promise<string> {
    return Promise.resolve(this.sessionId);
  }

  /** The most recent `limit` items in order; every item when `limit` is `undefined`, none when `limit <= 0`. */
  getItems(limit?: number, _runContext?: RunContext<unknown>): Promise<AgentInputItem[]> {
    return this.serialized(async () => {
      const s = orReject(await this.store.load(this.sessionId));
      return lastAgentItems(orReject(s.readMessages()), limit);
    });
  }

  /** Appends items: one store append (see the module comment). */
  addItems(items: AgentInputItem[], runContext?: RunContext<unknown>): Promise<void> {
    return this.serialized(() => this.write(runContext, (s) => E.map(withReason(AGENTS_REWRITE_REASONS.addItems))(planAgentsAddItems(s.messages, items))));
  }

  /** Removes and returns the most recent item (a recorded rewrite); `undefined`, recording nothing, when there is none. */
  popItem(runContext?: RunContext<unknown>): Promise<AgentInputItem | undefined> {
    return this.serialized(() =>
      this.write<AgentInputItem | undefined>(runContext, (s) => {
        const popped = planAgentsPopItem(s.messages);
        return E.right({ plan: popped?.plan ?? { type: 'none' }, reason: AGENTS_REWRITE_REASONS.popItem, value: popped?.item });
      }),
    );
  }

  /** Removes every item (a recorded rewrite to `[]`) and forgets applied operation ids; records nothing when there is nothing to forget. */
  clearSession(runContext?: RunContext<unknown>): Promise<void> {
    return this.serialized(() => this.write(runContext, (s) => E.right({ ...withReason(AGENTS_REWRITE_REASONS.clearSession)(planAgentsClear(s.messages)), extra: forgetOperations(s) })));
  }

  /**
   * The SDK's atomic, idempotent history change. One store append holds the
   * change and `metadata_set` of `agents.operation:<operationId>` =
   * `{ type, digest }` (`transactionDigest`). A repeated `operationId` with the
   * same transaction records nothing and resolves; with another transaction it
   * rejects with `HistoryOperationReused`. `append_items` records as `addItems`;
   * `replace_suffix` checks that the stored items end with `expectedSuffix`
   * (else `HistorySuffixMismatch`) and records a rewrite from the first changed
   * message, reason `agents_replace_suffix`. Bad arguments:
   * `InvalidHistoryTransaction`. A rejection records nothing.
   */
  applyHistoryTransaction(args: SessionHistoryTransactionArgs, runContext?: RunContext<unknown>): Promise<void> {
    return this.serialized(async () => {
      const { operationId, transaction } = orReject(decodeHistoryTransaction(args));
      const record = operationRecord(transaction);
      await this.write(runContext, (s): Outcome<undefined> => {
        const applied = s.metadata[operationKey(operationId)];
        if (applied !== undefined) {
          const same = (applied as { digest?: Json }).digest === record.digest;
          return same
            ? E.right({ plan: { type: 'none' }, reason: AGENTS_REWRITE_REASONS.replaceSuffix, value: undefined })
            : E.left({ _tag: 'HistoryOperationReused', operationId, message: `Session history operation ${JSON.stringify(operationId)} was already applied with a different transaction.` });
        }
        const extra: SessionCommand[] = [{ type: 'metadata_set', key: operationKey(operationId), value: record }];
        if (transaction.type === 'append_items') return E.map((p: AgentsTranscriptPlan) => ({ ...withReason(AGENTS_REWRITE_REASONS.addItems)(p), extra }))(planAgentsAddItems(s.messages, transaction.items));
        return E.map((p: AgentsTranscriptPlan) => ({ ...withReason(AGENTS_REWRITE_REASONS.replaceSuffix)(p), extra }))(
          planAgentsReplaceSuffix(s.messages, transaction.expectedSuffix, transaction.replacement),
        );
      });
    });
  }

  /**
   * Replaces the history with `items` (a compaction item and the retained
   * suffix) as ONE validated rewrite, reason `compaction`, from the first
   * message that changes; every earlier revision stays readable. Records
   * nothing when the items are already the history.
   */
  replaceHistoryWithCompaction(items: AgentInputItem[], runContext?: RunContext<unknown>): Promise<void> {
    return this.serialized(() =>
      this.write(runContext, (s) => E.map((p: AgentsTranscriptPlan) => withReason(AGENTS_REWRITE_REASONS.compaction)(asRewrite(s.messages, p)))(planAgentsReplaceAll(s.messages, items))),
    );
  }

  /**
   * Applies `replace_function_call` mutations (the SDK's semantics) as one
   * validated rewrite, reason `agents_history_mutation`. A mutation naming an
   * unknown call id, of another type, or whose replacement is not a
   * `function_call` rejects with `InvalidHistoryMutation` and records nothing
   * (the SDK's `MemorySession` silently ignores an unknown id).
   */
  applyHistoryMutations(args: SessionHistoryRewriteArgs, runContext?: RunContext<unknown>): Promise<void> {
    return this.serialized(() =>
      this.write(runContext, (s): Outcome<undefined> => {
        const mutations = Array.isArray(args?.mutations) ? args.mutations : [];
        if (mutations.length === 0) return E.right({ plan: { type: 'none' }, reason: AGENTS_REWRITE_REASONS.historyMutation, value: undefined });
        const mutated = applyHistoryMutations(messagesToItems(s.messages), mutations);
        if (E.isLeft(mutated)) return mutated;
        return E.map(withReason(AGENTS_REWRITE_REASONS.historyMutation))(planAgentsReplaceAll(s.messages, mutated.right));
      }),
    );
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

  /** The run a call with `runContext` belongs to (one attribution per `RunContext` instance). */
  private runOf(runContext: RunContext<unknown> | undefined): RunAttribution | undefined {
    if (runContext === undefined || runContext === null) return undefined;
    if (!this.runs.has(runContext)) this.runs.set(runContext, this.opts.runAttribution(runContext, this.opts.newRunId));
    return this.runs.get(runContext);
  }

  /**
   * Reads the session, plans, appends the commands in one batch with
   * `expectedSeq` (preceded by the run's `agents.run` when it changed); plans
   * again after a `SeqConflict`.
   */
  private async write<A>(runContext: RunContext<unknown> | undefined, plan: (session: PalimpsestSession) => Outcome<A>): Promise<A> {
    const run = this.runOf(runContext);
    for (let attempt = 1; ; attempt++) {
      const session = orReject(await this.store.load(this.sessionId));
      const planned = orReject(plan(session));
      const transcript = this.commandFor(session, planned.plan, planned.reason, run?.actor ?? this.opts.actor);
      const changes = [...(transcript === undefined ? [] : [transcript]), ...(planned.extra ?? [])];
      if (changes.length === 0) return planned.value;
      const commands = [...runCommands(session, run), ...changes];
      const r = await this.store.append(this.sessionId, commands, { expectedSeq: session.seq });
      if (E.isRight(r)) return planned.value;
      if (r.left._tag !== 'SeqConflict' || attempt >= AGENTS_SESSION_MAX_ATTEMPTS) throw r.left;
    }
  }

  private commandFor(session: PalimpsestSession, plan: AgentsTranscriptPlan, reason: string, actor: string | undefined): TranscriptCommand | undefined {
    const old = session.messages;
    const now = this.opts.clock();
    switch (plan.type) {
      case 'none':
        return undefined;
      case 'append':
        return commands.messagesAppended(plan.messages.map((m) => withMember(m, 'createdAt', m.createdAt ?? now)));
      case 'rewrite':
        return commands.transcriptRewritten({
          selection: { type: 'message_range', start: plan.start, end: plan.end },
          // a rewritten message keeps the createdAt of the message it replaces at its position
          replacement: plan.replacement.map((m, j) => withMember(m, 'createdAt', m.createdAt ?? (plan.start + j < plan.end ? old[plan.start + j]?.createdAt : undefined) ?? now)),
          reason: { kind: reason },
          ...(actor !== undefined ? { actor } : {}),
          expectedParentRevision: session.transcriptRevision(),
        });
    }
  }
}

/**
 * An Agents SDK `Session` over palimpsest session `opts.sessionId` in `store`
 * (created when absent; a new random id when not given). Rejects with the typed
 * error: `InvalidArgument` (bad `actor`, `clock`, `runAttribution` or
 * `newRunId`), `InvalidSessionId`, or any `StoreError` of `load` / `create`.
 */
export const createPalimpsestAgentsSession = async (store: SessionStore, opts: PalimpsestAgentsSessionOptions = {}): Promise<PalimpsestAgentsSession> => {
  if (opts.actor !== undefined && !nonEmptyString(opts.actor)) throw invalidArgument('actor', 'expected a non-empty string');
  if (opts.clock !== undefined && typeof opts.clock !== 'function') throw invalidArgument('clock', 'expected a function returning ms since epoch');
  if (opts.runAttribution !== undefined && typeof opts.runAttribution !== 'function') throw invalidArgument('runAttribution', 'expected a function (runContext, mintRunId) => { runId, actor? } | undefined');
  if (opts.newRunId !== undefined && typeof opts.newRunId !== 'function') throw invalidArgument('newRunId', 'expected a function returning a run id');
  const config: AgentsSessionConfig = {
    ...(opts.actor !== undefined ? { actor: opts.actor } : {}),
    clock: opts.clock ?? Date.now,
    runAttribution: checkedAttribution(opts.runAttribution ?? defaultRunAttribution),
    newRunId: opts.newRunId ?? randomUUID,
  };
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
