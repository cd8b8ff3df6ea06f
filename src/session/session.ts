/**
 * The immutable `Session` value (README §3).
 *
 * Every method that changes a session returns a new `Session` (the old one stays
 * valid: forks and what-if edits are free) inside an fp-ts `Either`. All of them
 * are builders over the one write primitive `apply` (`apply.ts`): the method
 * builds its command (`builders.ts`), the record time comes from the session
 * clock, and `apply` decodes, reduces and — unless the outcome is inert — seals
 * a hash-chained record, which goes onto the in-memory log.
 *
 * `Session` is the one class in the pure layers: the API is method-style by
 * design; reads are getters over `SessionState`, writes delegate to `apply`,
 * replay and verification to `replay.ts`.
 *
 * A `Session` built by `create`, `replay` or a fork holds its whole log. One
 * loaded from a store snapshot holds the records after the snapshot (`log`), and
 * its `verify()` checks those against the snapshot; the store's `verify` covers
 * the whole log.
 */
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { canonicalJsonUnsafe, type Json } from '../model/json.ts';
import type { Message, MessageInput } from '../model/message.ts';
import type { ContentBlock, ToolResult } from '../model/content.ts';
import type { Digest } from '../model/scalars.ts';
import { systemNotice } from '../model/constructors.ts';
import { totalTokens, type Usage } from '../model/usage.ts';
import {
  emptyVec,
  transcriptLength,
  transcriptMessageAt,
  transcriptMessages,
  transcriptRevision,
  transcriptSlice,
  readLazily,
  LazyReadFailure,
  vecFrom,
  vecGet,
  vecIter,
  vecPush,
  vecSize,
  vecToArray,
  type LazyReadError,
  type PVec,
  type TranscriptHistoryState,
  type TranscriptReplacement,
  type TranscriptRewriteCommit,
  type TranscriptRewriteRequest,
} from '../transcript/index.ts';
import { firstTurnOverridesAllowed, type ConsumedTurnInputs, type DeferredTurnState } from '../machines/deferredTurn.ts';
import type { SystemContextAppend, SystemContextAppendRequest, SystemContextState } from '../machines/systemContext.ts';
import {
  isToolVisibilityError,
  toolScopeNoticeData,
  toolScopeNoticeText,
  toolScopeWarningText,
  visibleTools,
  type BoundaryReport,
  type ToolCatalog,
  type ToolDefinition,
  type ToolFilter,
  type ToolVisibilityIntent,
  type ToolVisibilityState,
  type WitnessEntry,
  type Provenance,
} from '../machines/toolVisibility.ts';
import { decodeRealtimeEvent, type RealtimeApplyOutcome, type RealtimeState } from '../machines/realtime.ts';
import type { LifecycleState } from '../machines/lifecycle.ts';
import type { CommandOf } from './commands.ts';
import type { SessionError, TranscriptEditError } from './errors.ts';
import { changesMetadata, metadataDraft, metadataSealed, type Metadata } from './metadata.ts';
import type { LogRecord } from './record.ts';
import { apply as applyCommand, type CommandOutcome } from './apply.ts';
import type { CommandInput, ResultOfInput, ResultsOf } from './results.ts';
import * as build from './builders.ts';
import { replayRecords } from './replay.ts';
import { blankState, type SessionState } from './state.ts';

/** A source of time in ms since the epoch. */
export type Clock = () => number;

/** Options of `Session.create`. */
export interface CreateOptions {
  /** Session id; default a random UUID. */
  readonly id?: string;
  /** Time source (ms); default `Date.now`. */
  readonly clock?: Clock;
  /** Initial user metadata; a reserved key throws `ReservedMetadataKey` (a caller bug). */
  readonly metadata?: Readonly<Record<string, Json>>;
}

/** Options of the fork methods. */
export interface ForkOptions {
  /** Child id; default a random UUID. */
  readonly id?: string;
  /** Child clock; default the parent's. */
  readonly clock?: Clock;
}

/** What `verify()` found on a clean log. */
export interface VerifyReport {
  readonly sessionId: string;
  /** Records checked (the in-memory log). */
  readonly records: number;
  /** Distinct head revisions seen. */
  readonly revisions: number;
  /** The last record's hash. */
  readonly head: Digest;
  /** The transcript revision after the last record. */
  readonly revision: Digest;
}

/** `verify()` failure: a broken chain, a bad hash, a replay divergence, or a state that does not match replay. */
export type VerifyError = SessionError | { readonly _tag: 'StateMismatch'; readonly sessionId: string; readonly message: string };

/** `{ session, result }` of a method that also reports something. */
export interface Applied<R> {
  readonly session: Session;
  readonly result: R;
}

/** Outcome of `applyToolBoundary` (tool-visibility.md §5, §8). */
export type ToolBoundaryOutcome =
  | { readonly type: 'applied'; readonly report: BoundaryReport }
  | { readonly type: 'failed_closed'; readonly errorTag: string; readonly message: string };


/** How many of `commands` are metadata changes (`metadata_set`, `metadata_removed`, `metadata_backfilled`), by their `type`. */
const metadataChanges = (commands: readonly unknown[]): number => {
  let n = 0;
  for (const c of commands) if (typeof c === 'object' && c !== null && changesMetadata((c as { readonly type?: unknown }).type)) n++;
  return n;
};

/** The immutable session value. Construct with `Session.create`, `Session.replay` or `Session.fromState`. */
export class Session {
  private constructor(
    /** The reduced state after the last record. */
    readonly state: SessionState,
    private readonly records: PVec<LogRecord>,
    /** The state the in-memory log starts from (blank for a root, the parent's for a fork, a snapshot's when loaded). */
    private readonly base: SessionState,
    private readonly clock: Clock,
    private readonly parentAtFork: SessionState | undefined,
  ) {}

  /**
   * A new empty session with a `session_created` genesis record.
   * Throws the `ReservedMetadataKey` error object if `opts.metadata` has a reserved key.
   */
  static create(opts: CreateOptions = {}): Session {
    const id = opts.id ?? randomUUID();
    const clock = opts.clock ?? Date.now;
    const blank = blankState(id);
    const seed = new Session(blank, emptyVec(), blank, clock, undefined);
    const r = seed.apply({ type: 'session_created', metadata: opts.metadata ?? {} });
    if (E.isLeft(r)) throw r.left;
    return r.right.session;
  }

  /**
   * Rebuilds a session from its log. A fork's log starts with `session_forked`:
   * pass `opts.parent`, the parent session (or state) at the fork point.
   * Errors: `BrokenLog`, `ReplayDivergence`, any reducer error.
   */
  static replay(records: readonly LogRecord[], opts: { readonly clock?: Clock; readonly parent?: Session | SessionState } = {}): E.Either<SessionError, Session> {
    const first = records[0];
    if (first === undefined) return E.left({ _tag: 'BrokenLog', sessionId: '', seq: 1, reason: 'empty log', message: 'cannot replay an empty log' });
    const parent = opts.parent instanceof Session ? opts.parent.state : opts.parent;
    const blank = blankState(first.sessionId);
    const r = replayRecords(records, { base: blank, ...(parent !== undefined ? { parent } : {}) });
    if (E.isLeft(r)) return r;
    return E.right(new Session(r.right ?? blank, vecFrom(records), blank, opts.clock ?? Date.now, parent));
  }

  /**
   * A session from a reduced state (a store snapshot) plus the records after it.
   * The records are replayed onto `state`. Errors as `replay`.
   */
  static fromState(state: SessionState, tail: readonly LogRecord[] = [], opts: { readonly clock?: Clock } = {}): E.Either<SessionError, Session> {
    const r = replayRecords(tail, { base: state });
    if (E.isLeft(r)) return r;
    return E.right(new Session(r.right ?? state, vecFrom(tail), state, opts.clock ?? Date.now, undefined));
  }

  /**
   * This session's state with an empty in-memory log (the log's base becomes
   * this state): what a cache or a long-running writer keeps so its memory does
   * not grow with the log. Same as `fromState(state, [])`, which cannot fail.
   * `clock` replaces the session's clock when given.
   */
  withoutLog(clock?: Clock): Session {
    return new Session(this.state, emptyVec(), this.state, clock ?? this.clock, undefined);
  }

  // ---- reads -------------------------------------------------------------

  /** Session id. */
  get id(): string {
    return this.state.id;
  }
  /** Session format version. */
  get version(): 1 {
    return this.state.version;
  }
  /** Creation time, ms since epoch. */
  get createdAt(): number {
    return this.state.createdAt;
  }
  /** Last update time, ms since epoch. */
  get updatedAt(): number {
    return this.state.updatedAt;
  }
  /** The seq of the last record. */
  get seq(): number {
    return this.state.seq;
  }
  /** The hash of the last record. */
  get head(): Digest {
    return this.state.head;
  }
  /**
   * The transcript (a fresh array each call; messages are frozen). On a session
   * loaded from a store, messages below the last chunk are read on first use;
   * use `readMessages()` there, which returns a failed read (a chunk missing or
   * altered on disk, a closed store) as `Left` — this getter, spec-normative
   * and typed `Message[]`, can only throw it (`LazyReadFailure`).
   */
  get messages(): readonly Message[] {
    return transcriptMessages(this.state.transcript);
  }
  /**
   * Messages `[start, end)` (default: all; clamped to the transcript, NaN as the default), a fresh
   * frozen-message array. `Left(LazyReadError)` when a lazily loaded chunk they
   * need cannot be read: `CorruptRecord { sessionId, seq }` of the snapshot the
   * chunk belongs to, `StoreClosed`, `StoreIoError`. Never throws for that.
   */
  readMessages(start = 0, end: number = this.messageCount): E.Either<LazyReadError, readonly Message[]> {
    const n = this.messageCount;
    const clamp = (x: number, fallback: number): number => (Number.isNaN(x) ? fallback : Math.max(0, Math.min(n, Math.floor(x))));
    const from = clamp(start, 0);
    const to = Math.max(from, clamp(end, n));
    return readLazily(() => (from === 0 && to === n ? transcriptMessages(this.state.transcript) : transcriptSlice(this.state.transcript, from, to)));
  }
  /** The message at `index` (`Right(undefined)` outside the transcript); lazy read failures as in `readMessages`. */
  readMessage(index: number): E.Either<LazyReadError, Message | undefined> {
    return readLazily(() => transcriptMessageAt(this.state.transcript, index));
  }
  /** Number of messages, without copying them. */
  get messageCount(): number {
    return transcriptLength(this.state.transcript);
  }
  /** User metadata (reserved keys never appear). */
  get metadata(): Metadata {
    return this.state.metadata;
  }
  /** Cumulative usage (tokens). */
  get usage(): Usage {
    return this.state.usage;
  }
  /** The in-memory log (a fork's starts at its genesis; a loaded session's after its snapshot). */
  get log(): readonly LogRecord[] {
    return vecToArray(this.records);
  }
  /** Deferred-first-turn state (machines.md §1). */
  get deferredTurn(): DeferredTurnState {
    return this.state.deferredTurn;
  }
  /** System-context staging state (machines.md §2). */
  get systemContext(): SystemContextState {
    return this.state.systemContext;
  }
  /** Tool-visibility state (tool-visibility.md). */
  get toolVisibility(): ToolVisibilityState {
    return this.state.toolVisibility;
  }
  /** Realtime transcript state (realtime.md). */
  get realtime(): RealtimeState {
    return this.state.realtime;
  }
  /** Lifecycle state (machines.md §3). */
  get lifecycle(): LifecycleState {
    return this.state.lifecycle;
  }
  /** `inputTokens + outputTokens` of the cumulative usage. */
  totalTokens(): number {
    return totalTokens(this.state.usage);
  }
  /** The current head revision. */
  transcriptRevision(): Digest {
    return transcriptRevision(this.state.transcript);
  }
  /**
   * `{ head, commits, revisions }`, or `undefined` until the first rewrite commit.
   * On a stored session whose lazily loaded lists cannot be read it throws
   * `LazyReadFailure`; `readTranscriptHistory()` returns that as `Left`.
   */
  transcriptHistory(): TranscriptHistoryState | undefined {
    const r = this.readTranscriptHistory();
    if (E.isLeft(r)) throw new LazyReadFailure(r.left);
    return r.right;
  }
  /** `transcriptHistory` with lazy read failures (see `readMessages`) returned as `Left` instead of thrown. */
  readTranscriptHistory(): E.Either<LazyReadError, TranscriptHistoryState | undefined> {
    if (vecSize(this.state.commits) === 0) return E.right(undefined);
    return readLazily(() => ({ head: this.transcriptRevision(), commits: vecToArray(this.state.commits), revisions: vecToArray(this.state.revisions) }));
  }
  /**
   * The messages of any revision this session has had as head since its genesis
   * (rebuilt by replaying the in-memory log up to the record that produced it);
   * `undefined` for a revision it never had. Throws `LazyReadFailure` where
   * `readTranscriptRevisionMessages` returns `Left`.
   */
  transcriptRevisionMessages(revision: Digest): Message[] | undefined {
    const r = this.readTranscriptRevisionMessages(revision);
    if (E.isLeft(r)) throw new LazyReadFailure(r.left);
    return r.right;
  }
  /**
   * `transcriptRevisionMessages` with lazy read failures (see `readMessages`)
   * returned as `Left` instead of thrown.
   */
  readTranscriptRevisionMessages(revision: Digest): E.Either<LazyReadError, Message[] | undefined> {
    return readLazily(() => this.revisionMessages(revision));
  }
  private revisionMessages(revision: Digest): Message[] | undefined {
    if (transcriptRevision(this.base.transcript) === revision && this.base.seq > 0) return [...transcriptMessages(this.base.transcript)];
    let upTo = -1;
    let i = 0;
    for (const r of vecIter(this.records)) {
      if (r.revision === revision) {
        upTo = i;
        break;
      }
      i++;
    }
    if (upTo === -1) return undefined;
    const r = replayRecords(vecToArray(this.records).slice(0, upTo + 1), {
      base: this.base,
      ...(this.parentAtFork !== undefined ? { parent: this.parentAtFork } : {}),
    });
    if (E.isLeft(r) || r.right === undefined) return undefined;
    return [...transcriptMessages(r.right.transcript)];
  }
  /** Whether creation-time-only settings may still be applied (`deferredTurn.phase === 'pending'`). */
  firstTurnOverridesAllowed(): boolean {
    return firstTurnOverridesAllowed(this.state.deferredTurn);
  }
  /** The tools of `catalog` offered to the model now (tool-visibility.md §7). */
  visibleTools(catalog: ToolCatalog): E.Either<SessionError, readonly ToolDefinition[]> {
    return visibleTools(this.state.toolVisibility, catalog);
  }

  // ---- the primitive -----------------------------------------------------

  /**
   * Applies one command through `apply` (`apply.ts`): stamp messages without
   * `createdAt` with the record time, decode (`InvalidCommand`), lifecycle guard
   * (`SessionArchived`), reduce, seal. An inert outcome returns this very session
   * and records nothing; otherwise one record is appended. A typed command
   * (`builders.ts`) gets its typed result (`ResultOf`); a value of unknown
   * shape is decoded all the same and its result is `unknown`.
   */
  apply<const C>(command: C): E.Either<SessionError, Applied<ResultOfInput<C>>> {
    const ctx = { at: this.nextAt(), ...(this.parentAtFork !== undefined ? { parent: this.parentAtFork } : {}) };
    const read = readLazily(() => applyCommand(this.state, command, ctx));
    const r = E.isLeft(read) ? read : read.right;
    if (E.isLeft(r)) return r;
    return E.right({ session: this.advancedBy(r.right), result: r.right.result });
  }

  /**
   * Applies `commands` in order, each once (`apply`), in memory: the session
   * after the last one and one result per command. The first refusal is
   * returned and nothing of this call is kept. When two or more of them
   * change metadata, the run works on one draft copy of the metadata
   * (`metadataDraft`, changed in place, sealed before it returns) rather than
   * a copy per command: the records, digests and the session returned are the
   * same, as no intermediate state leaves this method.
   */
  applyAll<const Cs extends readonly unknown[]>(commands: Cs): E.Either<SessionError, Applied<ResultsOf<Cs>>> {
    const drafted = metadataChanges(commands) >= 2;
    let session: Session = drafted ? this.withState({ ...this.state, metadata: metadataDraft(this.state.metadata) }) : this;
    const results: unknown[] = [];
    for (const c of commands) {
      const r = session.apply(c);
      if (E.isLeft(r)) return r;
      results.push(r.right.result);
      session = r.right.session;
    }
    if (drafted) metadataSealed(session.state.metadata);
    return E.right({ session: vecSize(session.records) === vecSize(this.records) ? this : session, result: results as unknown as ResultsOf<Cs> });
  }

  /**
   * The records this session added to `earlier` when it was built from it by
   * applying commands (its methods, `apply`): `[]` for `earlier` itself,
   * `undefined` when it was not built from `earlier` (another session, another
   * base state, an older session). Decided by identity of the states and
   * records, which only `apply` makes, so a caller cannot forge a derivation.
   */
  recordsSince(earlier: Session): readonly LogRecord[] | undefined {
    if (this === earlier) return [];
    if (this.base !== earlier.base || this.parentAtFork !== earlier.parentAtFork) return undefined;
    const n = vecSize(earlier.records);
    const size = vecSize(this.records);
    if (size < n || (n > 0 && vecGet(this.records, n - 1) !== vecGet(earlier.records, n - 1))) return undefined;
    const added: LogRecord[] = [];
    for (let i = n; i < size; i++) added.push(vecGet(this.records, i)!);
    return added;
  }

  /** The record time of the next command: `max(clock(), last record's at)`. */
  private nextAt(): number {
    const now = this.clock();
    const last = vecGet(this.records, vecSize(this.records) - 1)?.at ?? 0;
    return Math.max(now, last);
  }

  /** This session with `state` in place of its state (same log, base, clock and fork parent). */
  private withState(state: SessionState): Session {
    return new Session(state, this.records, this.base, this.clock, this.parentAtFork);
  }

  /** This session after an outcome of `apply` on its state: itself when inert. */
  private advancedBy(o: CommandOutcome<unknown>): Session {
    return o.record === undefined ? this : new Session(o.state, vecPush(this.records, o.record), this.base, this.clock, this.parentAtFork);
  }

  /** `apply`, keeping only the session. */
  private applied(command: CommandInput): E.Either<SessionError, Session> {
    return E.map((a: Applied<unknown>) => a.session)(this.apply(command));
  }

  // ---- transcript --------------------------------------------------------

  /** Appends one message (stamped with the record time if it has no `createdAt`). One record. */
  push(message: MessageInput): E.Either<SessionError, Session> {
    return this.applied(build.messagesAppended([message]));
  }
  /** Appends messages in one record. An empty batch is inert. */
  pushBatch(messages: readonly MessageInput[]): E.Either<SessionError, Session> {
    if (messages.length === 0) return E.right(this);
    return this.applied(build.messagesAppended(messages));
  }
  /** Records a `session_touched`: new `updatedAt`, nothing else. */
  touch(): E.Either<SessionError, Session> {
    return this.applied(build.sessionTouched());
  }
  /** Adds `usage` to the cumulative usage (`InvalidUsage` on a bad value or overflow; all-zero is inert). */
  recordUsage(usage: Usage): E.Either<SessionError, Session> {
    return this.applied(build.usageRecorded(usage));
  }
  /**
   * Commits a validated rewrite of `req.selection` (revisions.md §3). Errors:
   * `RevisionConflict`, `InvalidRewriteRange`, `InvalidTranscriptShape`,
   * `NoOpRewrite`, `SessionArchived`, `InvalidCommand`.
   */
  commitTranscriptRewrite(req: TranscriptRewriteRequest): E.Either<TranscriptEditError, { readonly session: Session; readonly commit: TranscriptRewriteCommit }> {
    const r = this.apply(build.transcriptRewritten(req));
    return E.map((a: Applied<TranscriptRewriteCommit>) => ({ session: a.session, commit: a.result }))(r as E.Either<TranscriptEditError, Applied<TranscriptRewriteCommit>>);
  }
  /** Sets or inserts the leading system message; the same text is inert. */
  setSystemPrompt(prompt: string): E.Either<SessionError, Session> {
    return this.applied(build.systemPromptSet(prompt));
  }
  /** Replaces every notice of `kind` with `replacements` appended at the end (machines.md §5). */
  replaceSyntheticNotices(kind: string, replacements: readonly MessageInput[]): E.Either<TranscriptEditError, Session> {
    return this.applied(build.syntheticNoticesReplaced(kind, replacements)) as E.Either<TranscriptEditError, Session>;
  }

  // ---- metadata ----------------------------------------------------------

  /** Sets a user metadata key (`ReservedMetadataKey` for reserved keys; unchanged canonical JSON is inert). `value` is deep-frozen in place once set, like an appended message. */
  setMetadata(key: string, value: Json): E.Either<SessionError, Session> {
    return this.applied(build.metadataSet(key, value));
  }
  /** Removes a user metadata key (inert if absent). */
  removeMetadata(key: string): E.Either<SessionError, Session> {
    return this.applied(build.metadataRemoved(key));
  }
  /** Writes `key` only if absent (result `true` when written); never moves `updatedAt`. */
  backfillMetadataIfAbsent(key: string, value: Json): E.Either<SessionError, Applied<boolean>> {
    return this.apply(build.metadataBackfilled(key, value));
  }

  // ---- lifecycle ---------------------------------------------------------

  /** Archives the session (read-only until `revive`); archiving again is inert with `already_archived`. */
  archive(reason?: string): E.Either<SessionError, Applied<'archived' | 'already_archived'>> {
    return this.apply(build.sessionArchived(reason));
  }
  /** Revives an archived session (`SessionNotArchived` otherwise). */
  revive(): E.Either<SessionError, Session> {
    return this.applied(build.sessionRevived());
  }

  // ---- forks -------------------------------------------------------------

  private forkWith(mode: CommandOf<'session_forked'>['mode'], extra: { index?: number; replacement?: TranscriptReplacement }, opts: ForkOptions): E.Either<SessionError, Session> {
    const id = opts.id ?? randomUUID();
    const blank = blankState(id);
    const child = new Session(blank, emptyVec(), blank, opts.clock ?? this.clock, this.state);
    const from = { sessionId: this.state.id, seq: this.state.seq, hash: this.state.head };
    return child.applied({ type: 'session_forked', from, mode, ...extra });
  }
  /** A child with all of this session's messages (shared, not copied), user metadata and usage; machines reset. */
  fork(opts: ForkOptions = {}): Session {
    const r = this.forkWith('full', {}, opts);
    if (E.isLeft(r)) throw r.left;
    return r.right;
  }
  /** A child with the first `min(index, length)` messages. */
  forkAt(index: number, opts: ForkOptions = {}): Session {
    const r = this.forkWith('at', { index: Math.max(0, Math.min(Math.floor(index), this.messageCount)) }, opts);
    if (E.isLeft(r)) throw r.left;
    return r.right;
  }
  /**
   * A child with the first `index` messages, then the edited message at `index`.
   * Errors: `MessageIndexOutOfBounds`, `MessageRoleMismatch`, `BlockIndexOutOfBounds`, `InvalidTranscriptShape`, `InvalidCommand`.
   */
  forkReplacing(index: number, replacement: TranscriptReplacement, opts: ForkOptions = {}): E.Either<SessionError, Session> {
    return this.forkWith('replacing', { index, replacement }, opts);
  }

  // ---- deferred first turn (machines.md §1) -------------------------------

  /** `first_turn_deferred`. */
  deferFirstTurn(): E.Either<SessionError, Applied<undefined>> {
    return this.apply(build.firstTurnDeferred());
  }
  /** `initial_prompt_staged`; result `'stored'` or `'cleared'`. */
  stageInitialPrompt(prompt: readonly ContentBlock[]): E.Either<SessionError, Applied<'stored' | 'cleared'>> {
    return this.apply(build.initialPromptStaged(prompt));
  }
  /** `tool_results_staged`; result `{ accepted }`. */
  stageToolResults(results: readonly ToolResult[]): E.Either<SessionError, Applied<{ accepted: number }>> {
    return this.apply(build.toolResultsStaged(results));
  }
  /** `turn_started`; result: the consumed inputs. */
  startTurn(): E.Either<SessionError, Applied<ConsumedTurnInputs>> {
    return this.apply(build.turnStarted());
  }
  /** `turn_start_reverted`; result: the inputs put back. */
  revertTurnStart(startSeq: number): E.Either<SessionError, Applied<ConsumedTurnInputs>> {
    return this.apply(build.turnStartReverted(startSeq));
  }

  // ---- system context (machines.md §2) ------------------------------------

  /** `system_context_staged`; result one `'staged' | 'duplicate'` per request. */
  stageSystemContext(appends: readonly SystemContextAppendRequest[], opts: { readonly activeTurn?: boolean } = {}): E.Either<SessionError, Applied<Array<'staged' | 'duplicate'>>> {
    return this.apply(build.systemContextStaged(appends, opts));
  }
  /** `system_context_marked_applied`; result: the former pending list. */
  markSystemContextApplied(): E.Either<SessionError, Applied<SystemContextAppend[]>> {
    return this.apply(build.systemContextMarkedApplied());
  }
  /** `system_context_active_turn_discarded`; result: the discarded appends. */
  discardActiveTurnSystemContext(keys?: readonly string[]): E.Either<SessionError, Applied<SystemContextAppend[]>> {
    return this.apply(build.systemContextActiveTurnDiscarded(keys));
  }
  /** `system_context_blocks_appended`; result: one disposition per append. */
  appendSystemContextBlocks(appends: readonly SystemContextAppend[]): E.Either<SessionError, Applied<unknown>> {
    return this.apply(build.systemContextBlocksAppended(appends));
  }
  /** `system_context_boundary`: render pending context and mark it applied in one record. */
  applySystemContextAtBoundary(): E.Either<SessionError, Applied<unknown>> {
    return this.apply(build.systemContextBoundary());
  }
  /** `runtime_steer_context_discarded`; result `{ promptBlocksRemoved, entriesRemoved }`. */
  discardTransientRuntimeSteerContext(): E.Either<SessionError, Applied<{ promptBlocksRemoved: number; entriesRemoved: number }>> {
    return this.apply(build.runtimeSteerContextDiscarded());
  }

  // ---- tool visibility (tool-visibility.md §5) ----------------------------

  /** `tool_filter_staged`; result: the new `stagedRevision`. */
  stageToolFilter(filter: ToolFilter, catalog: ToolCatalog): E.Either<SessionError, Applied<number>> {
    return this.apply(build.toolFilterStaged(filter, catalog));
  }
  /** `tool_inherited_filter_set`. */
  setInheritedToolFilter(filter: ToolFilter, witnesses: readonly WitnessEntry[]): E.Either<SessionError, Session> {
    return this.applied(build.toolInheritedFilterSet(filter, witnesses));
  }
  /** `tool_deferred_requested`; result: the new `stagedRevision`. */
  requestDeferredTools(requests: ReadonlyArray<{ readonly name: string; readonly provenance?: Provenance }>, catalog: ToolCatalog): E.Either<SessionError, Applied<number>> {
    return this.apply(build.toolDeferredRequested(requests, catalog));
  }
  /** `tool_deferred_requests_cleared`; result: the new `stagedRevision`. */
  clearDeferredToolRequests(): E.Either<SessionError, Applied<number>> {
    return this.apply(build.toolDeferredRequestsCleared());
  }
  /** `tool_capability_set`. */
  setImageToolResults(accepted: boolean): E.Either<SessionError, Session> {
    return this.applied(build.toolCapabilitySet(accepted));
  }
  /** `tool_turn_overlay_set`. */
  setTurnToolOverlay(
    overlay: { readonly allow?: readonly string[]; readonly deny: readonly string[]; readonly activate: ReadonlyArray<{ readonly name: string; readonly provenance?: Provenance }> },
    catalog: ToolCatalog,
  ): E.Either<SessionError, Session> {
    return this.applied(build.toolTurnOverlaySet(overlay, catalog));
  }
  /** `tool_turn_overlay_cleared`. */
  clearTurnToolOverlay(): E.Either<SessionError, Session> {
    return this.applied(build.toolTurnOverlayCleared());
  }
  /** `tool_visibility_intent_restored`; result `{ activeRevision, stagedRevision }`. */
  restoreToolVisibilityIntent(intent: ToolVisibilityIntent): E.Either<SessionError, Applied<{ activeRevision: number; stagedRevision: number }>> {
    return this.apply(build.toolVisibilityIntentRestored(intent));
  }
  /**
   * `tool_boundary_failed` plus a `tool_scope_warning` notice (two records). The same
   * failure (tag and message) again, directly after its own warning, records nothing.
   */
  failToolBoundary(errorTag: string, message: string): E.Either<SessionError, Session> {
    const failed = this.applied(build.toolBoundaryFailed(errorTag, message));
    if (E.isLeft(failed)) return failed;
    // The same failure again, right after its own warning, adds nothing: an outage does not grow the transcript.
    const last = failed.right === this ? transcriptMessageAt(this.state.transcript, this.messageCount - 1) : undefined;
    if (last?.role === 'system_notice' && last.kind === 'tool_scope_warning' && canonicalJsonUnsafe(last.data) === canonicalJsonUnsafe({ errorTag, message })) return failed;
    return failed.right.push(systemNotice('tool_scope_warning', toolScopeWarningText(errorTag, message), { data: { errorTag, message } }));
  }
  /**
   * The LLM-boundary step of tool visibility (tool-visibility.md §8): applies the
   * staged lanes against `catalog` and appends a `tool_scope` notice when the
   * visible set changed; on a tool-visibility error records the failure and a
   * warning notice and offers no tools. Result `{ outcome, tools }`.
   */
  applyToolBoundary(catalog: ToolCatalog): E.Either<SessionError, Applied<{ outcome: ToolBoundaryOutcome; tools: readonly ToolDefinition[] }>> {
    const applied = this.apply(build.toolBoundaryApplied(catalog));
    if (E.isLeft(applied)) {
      const e = applied.left;
      // Lifecycle errors (SessionArchived) and corrupt machine state are returned as is (tool-visibility.md §8 step 4).
      if (!isToolVisibilityError(e) || e._tag === 'MachineStateInvalid') return applied;
      const failed = this.failToolBoundary(e._tag, e.message);
      if (E.isLeft(failed)) return failed;
      return E.right({ session: failed.right, result: { outcome: { type: 'failed_closed', errorTag: e._tag, message: e.message }, tools: [] } });
    }
    const report = applied.right.result;
    let session = applied.right.session;
    if (report.visibleChanged) {
      const pushed = session.push(systemNotice('tool_scope', toolScopeNoticeText(report), { data: toolScopeNoticeData(report) }));
      if (E.isLeft(pushed)) return pushed;
      session = pushed.right;
    }
    const tools = visibleTools(session.state.toolVisibility, catalog);
    if (E.isLeft(tools)) return tools;
    return E.right({ session, result: { outcome: { type: 'applied', report }, tools: tools.right } });
  }

  // ---- realtime (realtime.md) ---------------------------------------------

  /** Records one realtime event (`InvalidRealtimeEvent` when it does not decode); result: the outcome. */
  appendRealtimeTranscriptEvent(event: unknown): E.Either<SessionError, { readonly session: Session; readonly outcome: RealtimeApplyOutcome }> {
    const decoded = decodeRealtimeEvent(event);
    if (E.isLeft(decoded)) return decoded;
    const r = this.apply(build.realtimeTranscriptEvent(decoded.right));
    return E.map((a: Applied<RealtimeApplyOutcome>) => ({ session: a.session, outcome: a.result }))(r);
  }
  /** Runs the materializer (after tool results arrive); records only if it committed something. */
  flushRealtimeTranscript(): E.Either<SessionError, { readonly session: Session; readonly outcome: RealtimeApplyOutcome }> {
    const r = this.apply(build.realtimeTranscriptFlush());
    return E.map((a: Applied<RealtimeApplyOutcome>) => ({ session: a.session, outcome: a.result }))(r);
  }

  // ---- audit -------------------------------------------------------------

  /**
   * Replays the in-memory log from its base and checks the hash chain, every
   * record hash, every recorded revision, and that the result equals this state.
   * A lazily loaded chunk that cannot be read is `Left(LazyReadError)`.
   */
  verify(): E.Either<VerifyError, VerifyReport> {
    const checked = readLazily(() => this.replayCheck());
    return E.isLeft(checked) ? checked : checked.right;
  }
  private replayCheck(): E.Either<VerifyError, VerifyReport> {
    const records = vecToArray(this.records);
    const r = replayRecords(records, { base: this.base, ...(this.parentAtFork !== undefined ? { parent: this.parentAtFork } : {}) });
    if (E.isLeft(r)) return r;
    const replayed = r.right ?? this.base;
    if (replayed.head !== this.state.head || transcriptRevision(replayed.transcript) !== this.transcriptRevision() || replayed.seq !== this.state.seq) {
      return E.left({ _tag: 'StateMismatch', sessionId: this.id, message: `replaying the log of ${this.id} does not reproduce its state` });
    }
    return E.right({ sessionId: this.id, records: records.length, revisions: vecSize(this.state.revisions), head: this.state.head, revision: this.transcriptRevision() });
  }
}

