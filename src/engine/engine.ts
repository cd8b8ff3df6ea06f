/**
 * `SessionEngine`: the runtime-facing shell over a `SessionStore` (README §1).
 *
 * - **One serialized writer per session.** Every engine write is one
 *   `store.update`: inside the store's writer lock for the session (the keyed
 *   mutex the store's own writes take), the plan runs on the latest session,
 *   each command reduced once, and its records are written in one batch. Engine
 *   writers never lose an update, and neither do writers that go straight to
 *   `engine.store` (same lock); a `SeqConflict` a shared backend reports at
 *   commit is retried on fresh state.
 * - **A turn slot per session.** At most one turn runs per session; the slot is
 *   claimed synchronously (so concurrent starts cannot both win) and released on
 *   every exit path. Releasing it discards unapplied active-turn context, removes
 *   transient steer blocks (machines.md §2.4, §2.6) and clears the tool turn
 *   overlay (tool-visibility.md §8), in one atomic append; starting a turn after
 *   one that never ended (a crash or a close mid-turn: an overlay, active-turn
 *   context or an applied steer is left) runs that same cleanup first.
 * - **The LLM boundaries**: `applyToolBoundary` (tool-visibility.md §8, both
 *   records in one append), `applySystemContextBoundary` (machines.md §2.5), and
 *   `appendToolResults`, which flushes the realtime transcript in the same append
 *   (realtime.md §4.5).
 * - **Subscriptions**: every committed record of a session in seq order, catch-up
 *   from the store then live, no gap, no duplicate (`subscription.ts`).
 *
 * A plain object of closures over per-instance state; no global state.
 */
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { Session } from '../session/session.ts';
import type { Applied, Clock, ToolBoundaryOutcome } from '../session/session.ts';
import * as commands from '../session/builders.ts';
import type { ResultsOf } from '../session/results.ts';
import type { LogRecord } from '../session/record.ts';
import type { SessionError } from '../session/errors.ts';
import type { MessageInput } from '../model/message.ts';
import { visibleTools, type CatalogLike, type Provenance, type ToolCatalog, type ToolDefinition } from '../machines/toolVisibility.ts';
import type { SystemContextAppend, SystemContextDisposition } from '../machines/systemContext.ts';
import { hasUnmaterializedRealtimeItems, type RealtimeApplyOutcome } from '../machines/realtime.ts';
import { SessionStore, type AppendResult, type SessionStoreOptions, type StoreCreateOptions, type UpdatePlan, type UpdateResult } from '../store/store.ts';
import { invalidArgument, type StoreError } from '../store/errors.ts';
import { catalogUnavailable, engineClosed, type CatalogUnavailable, turnInProgress, turnNotActive, type EngineError } from './errors.ts';
import { makeSubscription, type StoredPage, type SubscribeOptions, type Subscription, type SubscriptionControl } from './subscription.ts';

/** Options of `SessionEngine.open`: the store's options (`clock`, `snapshotEvery`, `cacheSize`, `sync`) plus the engine's. */
export interface SessionEngineOptions extends SessionStoreOptions {
  /** Live records a subscription holds for a slow consumer before it re-reads them from the store. Default 1024. */
  readonly subscriptionBuffer?: number;
  /** Records read from the store per catch-up page. Default 256. */
  readonly subscriptionPageSize?: number;
  /** How often a write is retried on `SeqConflict` caused by a writer around the engine. Default 3. */
  readonly conflictRetries?: number;
}

/**
 * What a read-modify-write step returns: the commands to append (each applied
 * once), or a `Session` derived from the one it was given through its methods
 * (the records it added are written as they are). Either may be wrapped in an
 * `Either`; a `Left` appends nothing and is returned as is.
 */
export type Plan = readonly unknown[] | Session;

/** A read-modify-write step for `execute`. It must be pure: it may run again on fresh state after a conflict. */
export type PlanFn<Err> = (session: Session) => Plan | E.Either<Err, Plan>;

/** How a turn ended (`release` argument). */
export type TurnOutcome = 'completed' | 'failed' | 'cancelled';

/** Options of `startTurn` / `runTurn`. */
export interface TurnOptions {
  /** An outer signal; aborting it cancels the turn (like `cancelTurn`). */
  readonly signal?: AbortSignal;
  /** The turn id; default a random UUID. */
  readonly turnId?: string;
}

/** What releasing a turn did (the cleanup records are in `records`, empty when everything was already clean). */
export interface TurnEndReport {
  readonly sessionId: string;
  readonly turnId: string;
  readonly outcome: TurnOutcome;
  /** The records the cleanup appended (one atomic append). */
  readonly records: readonly LogRecord[];
  /** A tool turn overlay was set and is now cleared. */
  readonly overlayCleared: boolean;
  /** Unapplied active-turn system-context appends that were discarded (machines.md §2.4). */
  readonly activeTurnContextDiscarded: number;
  /** Result of `runtime_steer_context_discarded` (machines.md §2.6). */
  readonly steer: { readonly promptBlocksRemoved: number; readonly entriesRemoved: number };
  /** The session is archived: nothing could be cleaned up (a revived session is cleaned at its next turn start). */
  readonly skippedArchived: boolean;
}

/** A tool definition the engine can filter: anything with a name and an optional provenance. */
export type ToolLike = { readonly name: string; readonly provenance?: Provenance };

/** Result of `applyToolBoundary` (tool-visibility.md §8). */
export interface ToolBoundaryResult<T extends ToolLike = ToolDefinition> {
  /** `applied` with the `BoundaryReport`, or `failed_closed` with the error tag and message. */
  readonly outcome: ToolBoundaryOutcome;
  /** The tools to offer the LLM call, in catalog order (the caller's objects); `[]` when failed closed. */
  readonly tools: readonly T[];
  /** The records appended (0, 1 or 2, in one atomic append). */
  readonly records: readonly LogRecord[];
  /** The session after the boundary. */
  readonly session: Session;
}

/** Result of `applySystemContextBoundary` (machines.md §2.5). */
export interface SystemContextBoundaryResult {
  readonly dispositions: readonly SystemContextDisposition[];
  /** The pending appends the boundary applied. */
  readonly appends: readonly SystemContextAppend[];
  readonly records: readonly LogRecord[];
  readonly session: Session;
}

/** Result of `appendToolResults`. */
export interface ToolResultsAppended {
  readonly records: readonly LogRecord[];
  readonly session: Session;
  /** The realtime flush outcome when a flush ran (some realtime item was unmaterialized), else `undefined`. */
  readonly flushed: RealtimeApplyOutcome | undefined;
}

/** The catalog source of a tool boundary: a function returning the runtime's current catalog. */
export type CatalogSource<T extends ToolLike> = () => Promise<CatalogLike<T>> | CatalogLike<T>;

/** The writes a turn makes through its handle; each is refused with `TurnNotActive` once the turn was released. */
export interface TurnWrites {
  /** `engine.append`, scoped to this turn. */
  append<const Cs extends readonly unknown[]>(commands: Cs): Promise<E.Either<EngineError, AppendResult<ResultsOf<Cs>>>>;
  /** `engine.execute`, scoped to this turn. */
  execute<Err = never>(f: PlanFn<Err>): Promise<E.Either<EngineError | Err, AppendResult>>;
  /** `engine.applyToolBoundary`, scoped to this turn. */
  applyToolBoundary<T extends ToolLike = ToolDefinition>(getCatalog: CatalogSource<T>): Promise<E.Either<EngineError, ToolBoundaryResult<T>>>;
  /** `engine.applySystemContextBoundary`, scoped to this turn. */
  applySystemContextBoundary(): Promise<E.Either<EngineError, SystemContextBoundaryResult>>;
  /** `engine.appendToolResults`, scoped to this turn. */
  appendToolResults(message: MessageInput): Promise<E.Either<EngineError, ToolResultsAppended>>;
}

/** The holder of a session's turn slot. */
export interface TurnHandle extends TurnWrites {
  readonly sessionId: string;
  readonly turnId: string;
  /** Aborted by `cancelTurn`, by the outer signal, and when the engine closes. */
  readonly signal: AbortSignal;
  /** When the turn started (engine clock, ms). */
  readonly startedAt: number;
  /** Whether the turn still holds the slot. */
  readonly active: boolean;
  /**
   * Frees the slot (at once) and runs the turn-end cleanup (queued after every
   * write already queued for the session). Idempotent: later calls return the
   * first call's result. After `close()`, `EngineClosed` (no cleanup is written;
   * the next turn start clears the overlay).
   */
  release(outcome: TurnOutcome): Promise<E.Either<EngineError, TurnEndReport>>;
}

/** An open engine. Every async function returns `Either`; see `EngineError`. */
export interface SessionEngine {
  /** The store directory (absolute). */
  readonly path: string;
  /** The underlying store (reads are safe; writes made here bypass the engine's queue and live subscriptions). */
  readonly store: SessionStore;
  /** Creates a session (`store.create`) and feeds its genesis record to subscribers. */
  create(opts?: StoreCreateOptions): Promise<E.Either<EngineError, Session>>;
  /**
   * Appends `commands` in one atomic batch after the session's current last
   * record, each applied once; typed commands (`commands.*` builders) have
   * typed results (`ResultsOf`).
   */
  append<const Cs extends readonly unknown[]>(sessionId: string, commands: Cs): Promise<E.Either<EngineError, AppendResult<ResultsOf<Cs>>>>;
  /**
   * Read-modify-write: `f` gets the latest session and returns what to append
   * (see `Plan`). `results` holds one result per command of an array plan; a
   * `Session` plan's results are what its methods returned to it (`results` is empty).
   */
  execute<Err = never>(sessionId: string, f: PlanFn<Err>): Promise<E.Either<EngineError | Err, AppendResult>>;
  /**
   * Claims the session's turn slot (`TurnInProgress` when taken), then clears a
   * tool turn overlay left by a turn that never ended. If that fails the slot is
   * freed and the error returned.
   */
  startTurn(sessionId: string, opts?: TurnOptions): Promise<E.Either<EngineError, TurnHandle>>;
  /**
   * `startTurn`, run `f`, release in every case: `completed` when `f` returns,
   * `failed` when it throws (the exception is re-thrown after the release),
   * `cancelled` when the turn's signal was aborted. A failed cleanup is `Left`.
   */
  runTurn<A>(sessionId: string, f: (turn: TurnHandle) => Promise<A> | A, opts?: TurnOptions): Promise<E.Either<EngineError, A>>;
  /**
   * Aborts the running turn's signal and releases its slot (`cancelled`); `false`
   * when no turn runs. Idempotent. The slot is free even when the cleanup write fails (`Left`).
   */
  cancelTurn(sessionId: string): Promise<E.Either<EngineError, boolean>>;
  /** The id of the turn holding the slot, if any. */
  activeTurn(sessionId: string): string | undefined;
  /**
   * The tool boundary before an LLM call (tool-visibility.md §8): get the
   * catalog (a throw, a rejection or a malformed value is `CatalogUnavailable`),
   * apply it, and append `tool_boundary_applied` + `tool_scope` notice or
   * `tool_boundary_failed` + `tool_scope_warning` notice in one atomic append.
   * A failure is a `Right` with `outcome.type === 'failed_closed'` and no tools;
   * a lifecycle error (`SessionArchived`) is `Left`.
   */
  applyToolBoundary<T extends ToolLike = ToolDefinition>(sessionId: string, getCatalog: CatalogSource<T>): Promise<E.Either<EngineError, ToolBoundaryResult<T>>>;
  /** `system_context_boundary` (machines.md §2.5): render pending context and mark it applied, one record. */
  applySystemContextBoundary(sessionId: string): Promise<E.Either<EngineError, SystemContextBoundaryResult>>;
  /**
   * Appends a `tool_results` message and, when some realtime item is
   * unmaterialized, `realtime_transcript_flush` in the same append (realtime.md §4.5).
   */
  appendToolResults(sessionId: string, message: MessageInput): Promise<E.Either<EngineError, ToolResultsAppended>>;
  /** Follows a session's log (see `Subscription`). Never throws; problems end it with `error` set. */
  subscribe(sessionId: string, opts?: SubscribeOptions): Subscription;
  /**
   * Refuses new work (`EngineClosed`), waits for every queued write, aborts the
   * running turns (no cleanup written: they are resumed like a crash), ends the
   * subscriptions and closes the store. Idempotent.
   */
  close(): Promise<E.Either<EngineError, void>>;
}

const DEFAULT_SUBSCRIPTION_BUFFER = 1024;
const DEFAULT_PAGE_SIZE = 256;
const DEFAULT_CONFLICT_RETRIES = 3;

const positiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;

const isEither = <L, R>(u: R | E.Either<L, R>): u is E.Either<L, R> =>
  typeof u === 'object' && u !== null && !Array.isArray(u) && !(u instanceof Session) && ((u as { _tag?: unknown })._tag === 'Left' || (u as { _tag?: unknown })._tag === 'Right');

const isSeqConflict = (e: unknown): boolean => typeof e === 'object' && e !== null && (e as { _tag?: unknown })._tag === 'SeqConflict';

/** An `update`'s outcome as `append` reports it. */
const appendResult = <R extends readonly unknown[]>(u: UpdateResult<R>): AppendResult<R> => ({ records: u.records, session: u.session, results: u.result });

/**
 * `execute`'s plan as a store plan: run `f` on the latest session; commands are
 * applied once each (`Session.applyAll`, one result per command), a `Session`
 * derived through its methods is taken as it is (its records are written; no
 * results), a `Left` is returned as is.
 */
const planOf =
  <Err>(f: PlanFn<Err>): UpdatePlan<readonly unknown[], Err | SessionError | StoreError> =>
  (base) => {
    const planned = f(base);
    let p: Plan;
    if (isEither(planned)) {
      if (E.isLeft(planned)) return planned;
      p = planned.right;
    } else p = planned;
    if (Array.isArray(p)) return base.applyAll(p);
    if (p instanceof Session) return E.right({ session: p, result: [] });
    return E.left(invalidArgument('plan', 'expected an array of commands or a Session derived from the one given'));
  };

/**
 * The tool boundary on `s` (tool-visibility.md §8): without a catalog, the
 * failure and its warning notice; else `applyToolBoundary`. The result is the outcome.
 */
const toolBoundaryPlan = (s: Session, catalog: CatalogLike<ToolLike> | undefined, unavailable: CatalogUnavailable | undefined): E.Either<SessionError, Applied<ToolBoundaryOutcome>> => {
  if (catalog === undefined) {
    const u = unavailable ?? catalogUnavailable('no catalog');
    const outcome: ToolBoundaryOutcome = { type: 'failed_closed', errorTag: u._tag, message: u.message };
    return E.map((session: Session) => ({ session, result: outcome }))(s.failToolBoundary(u._tag, u.message));
  }
  return E.map((a: Applied<{ outcome: ToolBoundaryOutcome }>) => ({ session: a.session, result: a.result.outcome }))(s.applyToolBoundary(catalog as unknown as ToolCatalog));
};

/** A `tool_results` message, then `realtime_transcript_flush` when some realtime item waits (realtime.md §4.5); the result is the flush outcome, if one ran. */
const toolResultsPlan = (s: Session, message: MessageInput): E.Either<SessionError, Applied<RealtimeApplyOutcome | undefined>> => {
  const pushed = s.push(message);
  if (E.isLeft(pushed)) return pushed;
  if (!hasUnmaterializedRealtimeItems(pushed.right.realtime)) return E.right({ session: pushed.right, result: undefined });
  const f = pushed.right.flushRealtimeTranscript();
  if (E.isLeft(f)) return f;
  return E.right({ session: f.right.session, result: f.right.outcome });
};

/** What the turn-end cleanup did (the `TurnEndReport` figures). */
type TurnEndFigures = Pick<TurnEndReport, 'overlayCleared' | 'activeTurnContextDiscarded' | 'steer' | 'skippedArchived'>;

/** The turn-end cleanup (`commands.turnEndCleanup`) on `s`; nothing on an archived session. */
const turnEndPlan = (s: Session): E.Either<SessionError, Applied<TurnEndFigures>> => {
  if (s.lifecycle.status === 'archived') {
    return E.right({ session: s, result: { overlayCleared: false, activeTurnContextDiscarded: 0, steer: { promptBlocksRemoved: 0, entriesRemoved: 0 }, skippedArchived: true } });
  }
  const overlay = s.toolVisibility.turnOverlay !== undefined;
  return E.map((a: Applied<ResultsOf<ReturnType<typeof commands.turnEndCleanup>>>) => ({
    session: a.session,
    result: { overlayCleared: overlay, activeTurnContextDiscarded: a.result[0].length, steer: a.result[1], skippedArchived: false },
  }))(s.applyAll(commands.turnEndCleanup()));
};

/**
 * Whether `s` holds what only a running turn leaves behind: a tool turn
 * overlay, active-turn context not yet applied, or a transient steer rendered
 * into the prompt. At a turn start that means the previous turn never ended.
 */
const hasTurnLeftovers = (s: Session): boolean => {
  const sc = s.state.systemContext;
  return s.toolVisibility.turnOverlay !== undefined || sc.activeTurnPendingKeys.length > 0 || sc.applied.some((a) => a.sourceKind === 'runtime_steer');
};

/**
 * At a turn start: the whole turn-end cleanup, recorded, when a turn never
 * ended (a crash, a close mid-turn), before anything of the new turn
 * (machines.md §2.1, §2.4; tool-visibility.md §8).
 */
const resumePlan = (s: Session): E.Either<SessionError, Applied<undefined>> =>
  s.lifecycle.status === 'active' && hasTurnLeftovers(s)
    ? E.map((a: Applied<unknown>) => ({ session: a.session, result: undefined }))(s.applyAll(commands.turnEndCleanup()))
    : E.right({ session: s, result: undefined });

/** Why a value is not a usable catalog, or `undefined`. */
const catalogShapeProblem = (c: unknown): string | undefined => {
  if (typeof c !== 'object' || c === null) return 'expected { tools, controlNames, deferredNames }';
  const x = c as { tools?: unknown; controlNames?: unknown; deferredNames?: unknown };
  if (!Array.isArray(x.tools)) return 'tools is not an array';
  for (const t of x.tools) {
    if (typeof t !== 'object' || t === null || typeof (t as { name?: unknown }).name !== 'string') return 'a tool has no string name';
  }
  for (const k of ['controlNames', 'deferredNames'] as const) {
    const v = x[k];
    if (!Array.isArray(v) || v.some((n) => typeof n !== 'string')) return `${k} is not an array of strings`;
  }
  return undefined;
};

interface TurnSlot {
  readonly sessionId: string;
  readonly turnId: string;
  readonly controller: AbortController;
  readonly startedAt: number;
  released: boolean;
  releasing: Promise<E.Either<EngineError, TurnEndReport>> | undefined;
  unlink: (() => void) | undefined;
}

/** An operation's turn guard: refuses the write when the turn that issued it has ended. */
type Guard = (() => EngineError | undefined) | undefined;

const makeEngine = (store: SessionStore, cfg: { readonly clock: Clock; readonly subscriptionBuffer: number; readonly pageSize: number; readonly retries: number }): SessionEngine => {
  const path = store.path;
  let closed = false;
  let closing: Promise<E.Either<EngineError, void>> | undefined;

  // ---- writes in flight (for close) ----------------------------------------------------

  const inflight = new Set<Promise<unknown>>();
  const track = <A>(p: Promise<A>): Promise<A> => {
    inflight.add(p);
    void p.then(
      () => inflight.delete(p),
      () => inflight.delete(p),
    );
    return p;
  };

  // ---- subscriptions ------------------------------------------------------------------

  const subs = new Map<string, Set<SubscriptionControl>>();
  const feed = (sid: string, records: readonly LogRecord[]): void => {
    if (records.length === 0) return;
    const set = subs.get(sid);
    if (set === undefined) return;
    for (const c of [...set]) c.push(records);
  };

  /** Up to `max` stored records from `from`; `reachedHead` when the page ends at the last record. */
  const readPage = async (sid: string, from: number, max: number): Promise<E.Either<EngineError, StoredPage>> => {
    const first = await store.log(sid, { fromSeq: from, toSeq: from + max - 1 });
    if (E.isRight(first)) return E.right({ records: first.right, reachedHead: first.right.length < max });
    if (first.left._tag !== 'SeqOutOfRange') return first;
    const last = first.left.lastSeq;
    if (from > last) return E.right({ records: [], reachedHead: true });
    const rest = await store.log(sid, { fromSeq: from, toSeq: last });
    return E.isLeft(rest) ? rest : E.right({ records: rest.right, reachedHead: true });
  };

  // ---- the write path -------------------------------------------------------------------

  /**
   * One read-modify-write inside the store's writer lock for `sid`
   * (`store.update`: the one keyed mutex the store's own writers take too): the
   * turn guard, then `plan` on the latest session (each command reduced once),
   * then the batch; subscribers are fed the records. Retries on `SeqConflict`
   * (a backend shared with other processes reports it at commit).
   */
  const commitPlan = async <A, Err>(sid: string, plan: UpdatePlan<A, Err>, guard: Guard): Promise<E.Either<EngineError | Err, UpdateResult<A>>> => {
    const guarded: UpdatePlan<A, Err | EngineError> = (s) => {
      const refused = guard?.();
      return refused !== undefined ? E.left(refused) : plan(s);
    };
    for (let attempt = 0; ; attempt++) {
      const r = await store.update(sid, guarded);
      if (E.isLeft(r)) {
        if (isSeqConflict(r.left) && attempt < cfg.retries) continue;
        return r;
      }
      feed(sid, r.right.records);
      return r;
    }
  };

  /** Checks `closed` and tracks `task` until it settles (`close` waits for it). */
  const write = <A, Err = never>(task: () => Promise<E.Either<EngineError | Err, A>>): Promise<E.Either<EngineError | Err, A>> => {
    if (closed) return Promise.resolve(E.left(engineClosed(path)));
    return track(task());
  };

  const doAppend = <const Cs extends readonly unknown[]>(sid: string, commands: Cs, guard: Guard): Promise<E.Either<EngineError, AppendResult<ResultsOf<Cs>>>> => {
    if (!Array.isArray(commands)) return Promise.resolve(E.left(invalidArgument('commands', 'expected an array of commands')));
    const copy = [...commands] as unknown as Cs;
    return write(async () => {
      const r = await commitPlan(sid, (s) => s.applyAll(copy), guard);
      return E.isLeft(r) ? r : E.right(appendResult(r.right));
    });
  };

  const doExecute = <Err>(sid: string, f: PlanFn<Err>, guard: Guard): Promise<E.Either<EngineError | Err, AppendResult>> =>
    write(async () => {
      const r = await commitPlan(sid, planOf(f), guard);
      return E.isLeft(r) ? r : E.right(appendResult(r.right));
    });

  const doToolBoundary = async <T extends ToolLike>(sid: string, getCatalog: CatalogSource<T>, guard: Guard): Promise<E.Either<EngineError, ToolBoundaryResult<T>>> => {
    if (closed) return E.left(engineClosed(path));
    let catalog: CatalogLike<T> | undefined;
    let unavailable: ReturnType<typeof catalogUnavailable> | undefined;
    try {
      const c: unknown = await getCatalog();
      const problem = catalogShapeProblem(c);
      if (problem === undefined) catalog = c as CatalogLike<T>;
      else unavailable = catalogUnavailable(`malformed catalog: ${problem}`);
    } catch (e) {
      unavailable = catalogUnavailable(e);
    }
    return write(async () => {
      const r = await commitPlan(sid, (s) => toolBoundaryPlan(s, catalog, unavailable), guard);
      if (E.isLeft(r)) return r;
      const outcome = r.right.result;
      let tools: readonly T[] = [];
      if (outcome.type === 'applied' && catalog !== undefined) {
        const v = visibleTools(r.right.session.state.toolVisibility, catalog);
        if (E.isLeft(v)) return v;
        tools = v.right;
      }
      return E.right({ outcome, tools, records: r.right.records, session: r.right.session });
    });
  };

  const doSystemContextBoundary = (sid: string, guard: Guard): Promise<E.Either<EngineError, SystemContextBoundaryResult>> =>
    write(async () => {
      const r = await commitPlan(sid, (s) => s.apply(commands.systemContextBoundary()), guard);
      if (E.isLeft(r)) return r;
      const { dispositions, appends } = r.right.result;
      return E.right({ dispositions, appends, records: r.right.records, session: r.right.session });
    });

  const doToolResults = (sid: string, message: MessageInput, guard: Guard): Promise<E.Either<EngineError, ToolResultsAppended>> => {
    if (typeof message !== 'object' || message === null || (message as { role?: unknown }).role !== 'tool_results') {
      return Promise.resolve(E.left(invalidArgument('message', 'expected a tool_results message')));
    }
    return write(async () => {
      const r = await commitPlan(sid, (s) => toolResultsPlan(s, message), guard);
      if (E.isLeft(r)) return r;
      return E.right({ records: r.right.records, session: r.right.session, flushed: r.right.result });
    });
  };

  // ---- turns -----------------------------------------------------------------------------

  const turns = new Map<string, TurnSlot>();

  const release = (slot: TurnSlot, outcome: TurnOutcome): Promise<E.Either<EngineError, TurnEndReport>> => {
    if (slot.releasing !== undefined) return slot.releasing;
    slot.released = true;
    slot.unlink?.();
    slot.unlink = undefined;
    if (turns.get(slot.sessionId) === slot) turns.delete(slot.sessionId);
    const sid = slot.sessionId;
    const base = { sessionId: sid, turnId: slot.turnId, outcome };
    slot.releasing = write(async () => {
      const r = await commitPlan(sid, turnEndPlan, undefined);
      if (E.isLeft(r)) return r;
      return E.right({ ...base, records: r.right.records, ...r.right.result });
    });
    return slot.releasing;
  };

  const cancel = (slot: TurnSlot): Promise<E.Either<EngineError, TurnEndReport>> => {
    if (!slot.controller.signal.aborted) slot.controller.abort(new Error(`turn ${slot.turnId} of session ${slot.sessionId} was cancelled`));
    return release(slot, 'cancelled');
  };

  const handleOf = (slot: TurnSlot): TurnHandle => {
    const guard: Guard = () => (slot.released ? turnNotActive(slot.sessionId, slot.turnId) : undefined);
    const sid = slot.sessionId;
    const refuse = <A>(): Promise<E.Either<EngineError, A>> => Promise.resolve(E.left(turnNotActive(sid, slot.turnId)));
    return {
      sessionId: sid,
      turnId: slot.turnId,
      signal: slot.controller.signal,
      startedAt: slot.startedAt,
      get active() {
        return !slot.released;
      },
      release: (outcome) => release(slot, outcome),
      append: (commands) => (slot.released ? refuse() : doAppend(sid, commands, guard)),
      execute: (f) => (slot.released ? refuse() : doExecute(sid, f, guard)),
      applyToolBoundary: (getCatalog) => (slot.released ? refuse() : doToolBoundary(sid, getCatalog, guard)),
      applySystemContextBoundary: () => (slot.released ? refuse() : doSystemContextBoundary(sid, guard)),
      appendToolResults: (message) => (slot.released ? refuse() : doToolResults(sid, message, guard)),
    };
  };

  const startTurn = async (sid: string, opts: TurnOptions = {}): Promise<E.Either<EngineError, TurnHandle>> => {
    if (closed) return E.left(engineClosed(path));
    const taken = turns.get(sid);
    if (taken !== undefined) return E.left(turnInProgress(sid, taken.turnId));
    if (opts.turnId !== undefined && (typeof opts.turnId !== 'string' || opts.turnId.length === 0)) return E.left(invalidArgument('turnId', 'expected a non-empty string'));
    const slot: TurnSlot = {
      sessionId: sid,
      turnId: opts.turnId ?? randomUUID(),
      controller: new AbortController(),
      startedAt: cfg.clock(),
      released: false,
      releasing: undefined,
      unlink: undefined,
    };
    turns.set(sid, slot); // claimed synchronously: a concurrent start sees it
    // Resume: leftovers of a turn that never ended (a crash, a close mid-turn) get the whole
    // turn-end cleanup, recorded, before anything of this turn (machines.md §2.1, §2.4; tool-visibility.md §8).
    const resumed = await write(() => commitPlan(sid, resumePlan, undefined));
    if (E.isLeft(resumed)) {
      slot.released = true;
      slot.releasing = Promise.resolve(E.left(resumed.left));
      if (turns.get(sid) === slot) turns.delete(sid);
      return resumed;
    }
    const outer = opts.signal;
    if (outer !== undefined) {
      const onAbort = (): void => void cancel(slot);
      if (outer.aborted) onAbort();
      else {
        outer.addEventListener('abort', onAbort, { once: true });
        slot.unlink = () => outer.removeEventListener('abort', onAbort);
      }
    }
    return E.right(handleOf(slot));
  };

  const runTurn = async <A>(sid: string, f: (turn: TurnHandle) => Promise<A> | A, opts?: TurnOptions): Promise<E.Either<EngineError, A>> => {
    const started = await startTurn(sid, opts);
    if (E.isLeft(started)) return started;
    const turn = started.right;
    let value: A;
    try {
      value = await f(turn);
    } catch (e) {
      await turn.release(turn.signal.aborted ? 'cancelled' : 'failed');
      throw e;
    }
    const released = await turn.release(turn.signal.aborted ? 'cancelled' : 'completed');
    return E.isLeft(released) ? released : E.right(value);
  };

  // ---- the engine ----------------------------------------------------------------------

  const engine: SessionEngine = {
    path,
    store,

    create: async (opts = {}) => {
      if (closed) return E.left(engineClosed(path));
      const id = opts.id ?? randomUUID();
      return write(async () => {
        const c = await store.create({ ...opts, id });
        if (E.isRight(c)) feed(id, c.right.log);
        return c;
      });
    },

    append: (sessionId, commands) => doAppend(sessionId, commands, undefined),
    execute: (sessionId, f) => doExecute(sessionId, f, undefined),
    startTurn,
    runTurn,

    cancelTurn: async (sessionId) => {
      const slot = turns.get(sessionId);
      if (slot === undefined) return E.right(false);
      const r = await cancel(slot);
      return E.isLeft(r) ? r : E.right(true);
    },

    activeTurn: (sessionId) => turns.get(sessionId)?.turnId,

    applyToolBoundary: (sessionId, getCatalog) => doToolBoundary(sessionId, getCatalog, undefined),
    applySystemContextBoundary: (sessionId) => doSystemContextBoundary(sessionId, undefined),
    appendToolResults: (sessionId, message) => doToolResults(sessionId, message, undefined),

    subscribe: (sessionId, opts = {}) => {
      const bufferSize = opts.bufferSize ?? cfg.subscriptionBuffer;
      let problem: EngineError | undefined;
      if (closed) problem = engineClosed(path);
      else if (opts.fromSeq !== undefined && !positiveInt(opts.fromSeq)) problem = invalidArgument('fromSeq', 'expected a positive integer');
      else if (!positiveInt(bufferSize)) problem = invalidArgument('bufferSize', 'expected a positive integer');
      const fromSeq = opts.fromSeq;
      const ctl: SubscriptionControl = makeSubscription({
        sessionId,
        bufferSize: positiveInt(bufferSize) ? bufferSize : 1,
        pageSize: cfg.pageSize,
        ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
        start: () => {
          if (problem !== undefined) return Promise.resolve(E.left(problem));
          if (fromSeq !== undefined) return Promise.resolve(E.right(fromSeq));
          // "Only new records": the head after every write queued before this call.
          return store.update(sessionId, (s) => E.right({ session: s, result: s.seq + 1 })).then(E.map((u) => u.result));
        },
        read: (from, max) => readPage(sessionId, from, max),
        onEnd: () => {
          const set = subs.get(sessionId);
          if (set === undefined) return;
          set.delete(ctl);
          if (set.size === 0) subs.delete(sessionId);
        },
      });
      if (problem === undefined && !ctl.subscription.closed) {
        let set = subs.get(sessionId);
        if (set === undefined) subs.set(sessionId, (set = new Set()));
        set.add(ctl);
      }
      return ctl.subscription;
    },

    close: () => {
      if (closing !== undefined) return closing;
      closed = true;
      closing = (async () => {
        while (inflight.size > 0) await Promise.all([...inflight]);
        for (const slot of [...turns.values()]) {
          slot.released = true;
          slot.releasing = Promise.resolve(E.left(engineClosed(path)));
          slot.unlink?.();
          slot.unlink = undefined;
          slot.controller.abort(new Error(`the session engine on ${path} closed`));
        }
        turns.clear();
        for (const set of [...subs.values()]) for (const c of [...set]) c.end();
        subs.clear();
        return store.close();
      })();
      return closing;
    },
  };
  return engine;
};

/**
 * Opens the store in `path` (`SessionStore.open` with the store options) and
 * returns an engine over it. Errors: every error of `SessionStore.open`
 * (`StoreLocked`, `StoreIoError`, `UnsupportedVersion`, `InvalidArgument`), and
 * `InvalidArgument` for a bad engine option.
 */
const open = async (path: string, opts: SessionEngineOptions = {}): Promise<E.Either<EngineError, SessionEngine>> => {
  const { subscriptionBuffer = DEFAULT_SUBSCRIPTION_BUFFER, subscriptionPageSize = DEFAULT_PAGE_SIZE, conflictRetries = DEFAULT_CONFLICT_RETRIES, ...storeOpts } = opts;
  if (!positiveInt(subscriptionBuffer)) return E.left(invalidArgument('subscriptionBuffer', 'expected a positive integer'));
  if (!positiveInt(subscriptionPageSize)) return E.left(invalidArgument('subscriptionPageSize', 'expected a positive integer'));
  if (typeof conflictRetries !== 'number' || !Number.isSafeInteger(conflictRetries) || conflictRetries < 0) {
    return E.left(invalidArgument('conflictRetries', 'expected a non-negative integer'));
  }
  const store = await SessionStore.open(path, storeOpts);
  if (E.isLeft(store)) return store;
  return E.right(makeEngine(store.right, { clock: opts.clock ?? Date.now, subscriptionBuffer, pageSize: subscriptionPageSize, retries: conflictRetries }));
};

/** The session engine: `SessionEngine.open(path, opts)`. */
export const SessionEngine = { open } as const;
