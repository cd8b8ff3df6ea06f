/**
 * `runAgentTurn`: drives one agent turn against an OpenAI model (Chat Completions
 * or Responses, JSON or SSE) through the session engine, writing everything the
 * turn does to the session's log.
 *
 * One turn, in order (every write goes through the turn handle, so it is refused
 * once the turn was cancelled):
 *
 * 1. Take the turn slot (`TurnInProgress` when busy). A turn start left
 *    uncommitted by a crashed or failed run (`deferredTurn.lastStart`) is reverted
 *    first, so its inputs come back (machines.md §1.4).
 * 2. If the transcript ends in an assistant message whose tool uses have no
 *    results (a turn cut off mid-tools, or callback results staged for it):
 *    `turn_started`, then ONE atomic append of a `tool_results` message built from
 *    the staged results of those calls (a call without one gets an `isError`
 *    result saying it was interrupted), the staged initial prompt and the input.
 *    This must precede the first boundary, whose notice may not follow an
 *    unresolved tool use (tool-visibility.md §8).
 * 3. Each step (one model call): `system_context_boundary`, then the tool
 *    boundary (`tool_boundary_applied` + `tool_scope` notice, or failed closed);
 *    on the first step of a turn without pending calls, `turn_started` comes
 *    right after the boundaries (see "Turn start" below). The transcript, plus
 *    the opening messages not yet written (staged prompt, input), is converted
 *    (`toChatMessages` / `toResponsesInput`) and sent with ONLY the visible tools
 *    as function definitions.
 * 4. The reply is converted (`fromChatCompletion`, `fromResponse`, or the stream
 *    accumulators) and only a complete, valid reply is written: the opening
 *    messages (first step), the assistant message and `usage_recorded`, in one
 *    atomic append. A malformed response or stream is a typed error and writes
 *    nothing.
 * 5. Each tool use is checked and run: a name not offered for this call, a name
 *    without a handler, arguments that are not a JSON object, a handler that
 *    throws or returns invalid content each become an `isError: true` result
 *    saying why. All results go in ONE `tool_results` message
 *    (`appendToolResults`). Then the next step, until a reply has no tool use, or
 *    `maxSteps` model calls were made (`MaxStepsExceeded`, after the results of
 *    the last step were written).
 * 6. The slot is released on every path (`completed`, `failed`, `cancelled`).
 *
 * **Turn start.** `turn_started` consumes the deferred first-turn inputs; the
 * staged prompt becomes the turn's opening user message and staged tool results
 * with no pending call to answer are reported (`unmatchedToolResults`). The
 * opening messages are written together with the first assistant reply, so a
 * failure before that reply (a boundary error, a model error, a malformed reply,
 * a cancel) leaves no trace in the transcript: the runner appends
 * `turn_start_reverted` and the consumed inputs are staged again. The start is
 * recorded after the first boundary because a `tool_scope` notice is a message
 * append, and the first written message commits a turn start (reduce.ts), which
 * would make the revert impossible.
 *
 * No exception escapes: every failure is a `Left` of `TurnError`.
 *
 * Layering note: this module uses the OpenAI adapters and the `openai` client; it
 * sits above `adapters/` although it lives in `engine/`.
 */
import * as E from 'fp-ts/lib/Either.js';
import OpenAI, { APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionCreateParams, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { FunctionTool, ResponseCreateParams } from 'openai/resources/responses/responses';
import { decodeWith } from '../../model/decode.ts';
import { ToolResultCodec, type ContentBlock, type StopReason, type ToolResult, type ToolUseBlock } from '../../model/content.ts';
import { isJson, type Json } from '../../model/json.ts';
import { decodeMessageInput, stampMessage, type Message, type MessageInput } from '../../model/message.ts';
import { toolResult, toolResults, userMessage, userText } from '../../model/constructors.ts';
import { assistantVisibleText, toolUses } from '../../model/projections.ts';
import { addUsage, emptyUsage, type Usage } from '../../model/usage.ts';
import type { ConsumedTurnInputs } from '../../machines/deferredTurn.ts';
import type { ToolCatalog, ToolDefinition } from '../../machines/toolVisibility.ts';
import { hasUnmaterializedRealtimeItems } from '../../machines/realtime.ts';
import type { Session } from '../../session/session.ts';
import * as commands from '../../session/builders.ts';
import type { LogRecord } from '../../session/record.ts';
import type { SessionError } from '../../session/errors.ts';
import { invalidArgument } from '../../store/errors.ts';
import { accumulateChatStream, fromChatCompletion, toChatMessages } from './chat.ts';
import { accumulateResponseStream, fromResponse, toResponsesInput } from './responses.ts';
import { tryParseJson, type AssistantTurn } from './common.ts';
import {
  malformedResponse,
  malformedStreamEvent,
  type IncompleteStream,
  type MalformedResponse,
  type MalformedStreamEvent,
  type StreamFailed,
  type UnresolvedBlob,
} from './errors.ts';
import type { EngineError } from '../../engine/errors.ts';
import type { SessionEngine, TurnHandle, TurnOutcome } from '../../engine/engine.ts';

// ---------------------------------------------------------------------------
// Types

/** What a tool handler gets besides the arguments. */
export interface ToolCallContext {
  /** The turn's signal: aborted when the turn is cancelled. */
  readonly signal: AbortSignal;
  /** The model's id of this call (`call_…`). */
  readonly toolUseId: string;
  /** The tool's name. */
  readonly name: string;
}

/**
 * Runs one tool call. `args` is the parsed argument object. A string result is
 * one text block. A throw (or rejection) becomes an `isError: true` result with
 * the error's message; it never ends the turn.
 */
export type ToolHandler = (args: Json, ctx: ToolCallContext) => Promise<string | readonly ContentBlock[]> | string | readonly ContentBlock[];

/** Options of `runAgentTurn`. */
export interface AgentTurnOptions {
  /** The OpenAI client (any OpenAI-compatible `baseURL`). Its own `maxRetries` and `timeout` apply. */
  readonly client: OpenAI;
  /** The model name sent with every request. */
  readonly model: string;
  /** Which API to call: Chat Completions (default) or Responses. */
  readonly api?: 'chat' | 'responses';
  /** Stream the replies (SSE) and fold them with the stream accumulators. Default false. */
  readonly stream?: boolean;
  /** The runtime's catalog (tool-visibility.md §1), or a function returning it (asked once per step; a throw fails the boundary closed). */
  readonly tools: ToolCatalog | (() => Promise<ToolCatalog> | ToolCatalog);
  /** Handlers by tool name. */
  readonly handlers: Readonly<Record<string, ToolHandler>>;
  /** A user message for this turn (a string is one text block). */
  readonly input?: MessageInput | string;
  /** Most model calls in this turn (default 10). */
  readonly maxSteps?: number;
  /** Aborting it cancels the turn (like `engine.cancelTurn`). */
  readonly signal?: AbortSignal;
  /** The turn id (default a random UUID). */
  readonly turnId?: string;
  /** `origin.provider` of the assistant messages (default `'openai'`). */
  readonly provider?: string;
  /** Extra request body fields (`temperature`, `max_tokens`, `reasoning`, …), merged under the runner's own fields. */
  readonly params?: Readonly<Record<string, unknown>>;
}

/** One tool call the turn handled. */
export interface TurnToolCall {
  /** 1-based model call that produced it. */
  readonly step: number;
  readonly toolUseId: string;
  readonly name: string;
  readonly args: Json;
  /** Whether the recorded result is an error (not offered, no handler, bad arguments, the handler threw). */
  readonly isError: boolean;
  /** The recorded result content. */
  readonly content: readonly ContentBlock[];
}

/** What a completed turn did. */
export interface TurnReport {
  readonly sessionId: string;
  readonly turnId: string;
  /** Model calls made (and answered). */
  readonly steps: number;
  /** The assistant messages written, as stored. */
  readonly assistantMessages: readonly Message[];
  readonly toolCalls: readonly TurnToolCall[];
  /** Sum of the usage the provider reported for this turn's calls (also recorded with `usage_recorded`). */
  readonly usage: Usage;
  /** The visible text of the last assistant message. */
  readonly finalText: string;
  /** The last assistant message's stop reason. */
  readonly stopReason: StopReason;
  /** Staged tool results that answered no pending call (consumed by `turn_started`, not written). */
  readonly unmatchedToolResults: readonly ToolResult[];
  /** The seq of a stale uncommitted turn start this run reverted before starting, if any. */
  readonly revertedStaleStart?: number;
}

/** The model call failed: an HTTP error status, a connection failure, an error sent in the stream. */
export interface ModelCallFailed {
  readonly _tag: 'ModelCallFailed';
  /** HTTP status, when the server answered. */
  readonly status?: number;
  /** The provider's error code and type, when sent. */
  readonly code?: string;
  readonly type?: string;
  /** The provider's request id (`x-request-id`), when sent. */
  readonly requestId?: string;
  readonly message: string;
}

/** The turn was cancelled (`engine.cancelTurn`, the outer signal, or the engine closing). */
export interface TurnCancelled {
  readonly _tag: 'TurnCancelled';
  readonly sessionId: string;
  readonly turnId: string;
  readonly message: string;
}

/** The turn made `maxSteps` model calls and the last one still asked for tools; everything up to its tool results is written. */
export interface MaxStepsExceeded {
  readonly _tag: 'MaxStepsExceeded';
  readonly maxSteps: number;
  /** What the turn did. */
  readonly report: TurnReport;
  readonly message: string;
}

/** Every error of `runAgentTurn`. */
export type TurnError =
  | EngineError
  | ModelCallFailed
  | TurnCancelled
  | MaxStepsExceeded
  | MalformedResponse
  | MalformedStreamEvent
  | IncompleteStream
  | StreamFailed
  | UnresolvedBlob;

const DEFAULT_MAX_STEPS = 10;

// ---------------------------------------------------------------------------
// Tool definitions on the wire

const schemaObject = (schema: Json): Record<string, unknown> =>
  typeof schema === 'object' && schema !== null && !Array.isArray(schema) ? (schema as Record<string, unknown>) : { type: 'object', properties: {} };

/** Chat Completions `tools` entries for tool definitions (`parameters` = `inputSchema`). */
export const toChatTools = (defs: readonly ToolDefinition[]): ChatCompletionTool[] =>
  defs.map((d) => ({ type: 'function', function: { name: d.name, description: d.description, parameters: schemaObject(d.inputSchema) } }));

/** Responses `tools` entries for tool definitions (`parameters` = `inputSchema`, `strict: false`). */
export const toResponsesTools = (defs: readonly ToolDefinition[]): FunctionTool[] =>
  defs.map((d) => ({ type: 'function', name: d.name, description: d.description, parameters: schemaObject(d.inputSchema), strict: false }));

// ---------------------------------------------------------------------------
// Errors

/** `TurnCancelled`; the message is the abort reason (the caller's outer signal first, then the turn's). */
const turnCancelled = (sessionId: string, turnId: string, signal: AbortSignal, outer: AbortSignal | undefined): TurnCancelled => {
  const reason: unknown = outer?.aborted === true ? outer.reason : signal.reason;
  const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : `turn ${turnId} of session ${sessionId} was cancelled`;
  return { _tag: 'TurnCancelled', sessionId, turnId, message: why };
};

const errorText = (e: unknown): string => (e instanceof Error ? e.message : typeof e === 'string' ? e : String(e));

/** A thrown SDK error as a `ModelCallFailed` (optional fields only when known). */
const modelCallFailed = (e: unknown): ModelCallFailed => {
  if (e instanceof APIError) {
    return {
      _tag: 'ModelCallFailed',
      ...(typeof e.status === 'number' ? { status: e.status } : {}),
      ...(typeof e.code === 'string' ? { code: e.code } : {}),
      ...(typeof e.type === 'string' ? { type: e.type } : {}),
      ...(typeof e.requestID === 'string' ? { requestId: e.requestID } : {}),
      message: e.message,
    };
  }
  return { _tag: 'ModelCallFailed', message: errorText(e) };
};

// ---------------------------------------------------------------------------
// The model call

interface Tapped {
  readonly iterable: AsyncIterable<unknown>;
  readonly box: { error: unknown; failed: boolean; count: number };
}

/** Passes a stream through, remembering what it threw and how many items it gave. */
const tap = (source: AsyncIterable<unknown>): Tapped => {
  const box = { error: undefined as unknown, failed: false, count: 0 };
  async function* gen(): AsyncGenerator<unknown> {
    try {
      for await (const x of source) {
        box.count++;
        yield x;
      }
    } catch (e) {
      box.error = e;
      box.failed = true;
      throw e;
    }
  }
  return { iterable: gen(), box };
};

type ModelError = ModelCallFailed | MalformedResponse | MalformedStreamEvent | IncompleteStream | StreamFailed | 'cancelled';

/** A thrown value while calling or reading: cancelled, a body that is not JSON, or a failed call. */
const classifyThrow = (e: unknown, signal: AbortSignal, streamIndex?: number): ModelError => {
  if (signal.aborted || e instanceof APIUserAbortError) return 'cancelled';
  if (e instanceof SyntaxError) {
    return streamIndex === undefined
      ? malformedResponse('$', `the response body is not valid JSON: ${e.message}`)
      : malformedStreamEvent(streamIndex, '$', `the event data is not valid JSON: ${e.message}`);
  }
  return modelCallFailed(e);
};

interface CallArgs {
  readonly opts: AgentTurnOptions;
  readonly messages: readonly Message[];
  readonly offered: readonly ToolDefinition[];
  readonly signal: AbortSignal;
}

const callModel = async ({ opts, messages, offered, signal }: CallArgs): Promise<E.Either<ModelError | UnresolvedBlob, AssistantTurn>> => {
  const fromOpts = opts.provider !== undefined ? { provider: opts.provider } : undefined;
  const stream = opts.stream === true;
  const extra = opts.params ?? {};
  let response: unknown;
  try {
    if ((opts.api ?? 'chat') === 'chat') {
      const wire = toChatMessages(messages);
      if (E.isLeft(wire)) return wire;
      const body = { ...extra, model: opts.model, messages: wire.right, ...(offered.length > 0 ? { tools: toChatTools(offered) } : {}) } as ChatCompletionCreateParams;
      if (!stream) {
        response = await opts.client.chat.completions.create({ ...body, stream: false }, { signal });
        return fromChatCompletion(response, fromOpts);
      }
      const chunks = await opts.client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }, { signal });
      const t = tap(chunks);
      const r = await accumulateChatStream(t.iterable, fromOpts);
      if (E.isLeft(r) && t.box.failed) return E.left(classifyThrow(t.box.error, signal, t.box.count));
      if (E.isLeft(r) && signal.aborted) return E.left('cancelled');
      return r;
    }
    const input = toResponsesInput(messages);
    if (E.isLeft(input)) return input;
    const body = { ...extra, model: opts.model, input: input.right, ...(offered.length > 0 ? { tools: toResponsesTools(offered) } : {}) } as ResponseCreateParams;
    if (!stream) {
      response = await opts.client.responses.create({ ...body, stream: false }, { signal });
      return fromResponse(response, fromOpts);
    }
    const events = await opts.client.responses.create({ ...body, stream: true }, { signal });
    const t = tap(events);
    const r = await accumulateResponseStream(t.iterable, fromOpts);
    if (E.isLeft(r) && t.box.failed) return E.left(classifyThrow(t.box.error, signal, t.box.count));
    if (E.isLeft(r) && signal.aborted) return E.left('cancelled');
    return r;
  } catch (e) {
    return E.left(classifyThrow(e, signal));
  }
};

// ---------------------------------------------------------------------------
// Tool calls

const argsProblem = (name: string, args: Json): string | undefined => {
  if (typeof args === 'object' && args !== null && !Array.isArray(args)) return undefined;
  if (typeof args === 'string' && tryParseJson(args) === undefined) {
    const preview = args.length > 200 ? `${args.slice(0, 200)}…` : args;
    return `the arguments of tool "${name}" are not valid JSON: ${JSON.stringify(preview)}`;
  }
  const kind = args === null ? 'null' : Array.isArray(args) ? 'an array' : `a ${typeof args}`;
  return `the arguments of tool "${name}" must be a JSON object, got ${kind}`;
};

const errorResult = (toolUseId: string, text: string): ToolResult => toolResult(toolUseId, text, { isError: true });

/** Runs one tool use; never throws. */
const runToolUse = async (use: ToolUseBlock, offered: ReadonlySet<string>, handlers: Readonly<Record<string, ToolHandler>>, signal: AbortSignal): Promise<ToolResult> => {
  if (!offered.has(use.name)) return errorResult(use.id, `tool "${use.name}" is not available: it was not offered for this call`);
  const handler = Object.prototype.hasOwnProperty.call(handlers, use.name) ? handlers[use.name] : undefined;
  if (typeof handler !== 'function') return errorResult(use.id, `tool "${use.name}" has no handler in this runtime`);
  const bad = argsProblem(use.name, use.args);
  if (bad !== undefined) return errorResult(use.id, bad);
  let out: string | readonly ContentBlock[];
  try {
    out = await handler(use.args, { signal, toolUseId: use.id, name: use.name });
  } catch (e) {
    return errorResult(use.id, `tool "${use.name}" failed: ${errorText(e)}`);
  }
  const result = typeof out === 'string' ? toolResult(use.id, out) : toolResult(use.id, Array.isArray(out) ? [...out] : (out as never));
  const checked = decodeWith(ToolResultCodec, result);
  if (E.isLeft(checked)) return errorResult(use.id, `tool "${use.name}" returned invalid content: ${checked.left.message}`);
  return checked.right;
};

// ---------------------------------------------------------------------------
// Pure helpers over the session

/** The tool-use ids of the last message when it is an assistant message awaiting results. */
const pendingToolUseIds = (s: Session): string[] => {
  const n = s.messageCount;
  if (n === 0) return [];
  const last = s.messages[n - 1]!;
  return last.role === 'assistant' ? toolUses(last).map((u) => u.id) : [];
};

/**
 * The `tool_results` answering `pending` from staged batches (first result per id,
 * in call order; a call without one gets an "interrupted" error result), and the
 * staged results that answer none of them.
 */
const answerPending = (pending: readonly string[], consumed: ConsumedTurnInputs): { results: ToolResult[]; unmatched: ToolResult[] } => {
  const want = new Set(pending);
  const found = new Map<string, ToolResult>();
  const unmatched: ToolResult[] = [];
  for (const batch of consumed.toolResults) {
    for (const r of batch.results) {
      if (want.has(r.toolUseId) && !found.has(r.toolUseId)) found.set(r.toolUseId, r);
      else unmatched.push(r);
    }
  }
  const results = pending.map(
    (id) => found.get(id) ?? errorResult(id, 'the tool call was interrupted before its result was recorded (the turn that made it ended early)'),
  );
  return { results, unmatched };
};

const allStaged = (consumed: ConsumedTurnInputs): ToolResult[] => consumed.toolResults.flatMap((b) => b.results);

/** The messages of the records (in order). */
const messagesOf = (records: readonly LogRecord[]): Message[] =>
  records.flatMap((r) => (r.command.type === 'messages_appended' ? r.command.messages : []));

/** `pushBatch(messages)`, then a realtime flush when tool results were pushed and realtime items are unmaterialized (as `appendToolResults`). */
const pushOpening = (s: Session, messages: readonly MessageInput[]): E.Either<SessionError, Session> => {
  const pushed = s.pushBatch(messages);
  if (E.isLeft(pushed)) return pushed;
  if (!messages.some((m) => m.role === 'tool_results') || !hasUnmaterializedRealtimeItems(pushed.right.realtime)) return pushed;
  const f = pushed.right.flushRealtimeTranscript();
  return E.isLeft(f) ? f : E.right(f.right.session);
};

// ---------------------------------------------------------------------------
// Validation

const validate = (sessionId: string, opts: AgentTurnOptions): E.Either<EngineError, MessageInput | undefined> => {
  if (typeof sessionId !== 'string' || sessionId.length === 0) return E.left(invalidArgument('sessionId', 'expected a non-empty string'));
  if (typeof opts !== 'object' || opts === null) return E.left(invalidArgument('options', 'expected an options object'));
  if (!(opts.client instanceof OpenAI) && (typeof opts.client !== 'object' || opts.client === null)) return E.left(invalidArgument('client', 'expected an OpenAI client'));
  if (typeof opts.model !== 'string' || opts.model.length === 0) return E.left(invalidArgument('model', 'expected a non-empty string'));
  if (opts.api !== undefined && opts.api !== 'chat' && opts.api !== 'responses') return E.left(invalidArgument('api', "expected 'chat' or 'responses'"));
  const max = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1) return E.left(invalidArgument('maxSteps', 'expected a positive integer'));
  if (typeof opts.tools !== 'function' && (typeof opts.tools !== 'object' || opts.tools === null)) return E.left(invalidArgument('tools', 'expected a catalog or a function returning one'));
  if (typeof opts.handlers !== 'object' || opts.handlers === null) return E.left(invalidArgument('handlers', 'expected an object of handlers by tool name'));
  if (opts.params !== undefined && (typeof opts.params !== 'object' || opts.params === null || !isJson(opts.params as Json))) {
    return E.left(invalidArgument('params', 'expected an object of JSON request fields'));
  }
  if (opts.input === undefined) return E.right(undefined);
  const raw = typeof opts.input === 'string' ? userText(opts.input) : opts.input;
  const decoded = decodeMessageInput(raw);
  if (E.isLeft(decoded)) return E.left(invalidArgument('input', decoded.left.message));
  if (decoded.right.role !== 'user') return E.left(invalidArgument('input', `expected a user message, got role ${decoded.right.role}`));
  return E.right(decoded.right);
};

// ---------------------------------------------------------------------------
// The turn

/**
 * Runs one agent turn on `sessionId` (module doc). `Right` with the report when
 * the model ended without asking for tools; `Left` with a typed error otherwise.
 * The turn slot is released on every path.
 */
export const runAgentTurn = async (engine: SessionEngine, sessionId: string, opts: AgentTurnOptions): Promise<E.Either<TurnError, TurnReport>> => {
  const input = validate(sessionId, opts);
  if (E.isLeft(input)) return input;
  const started = await engine.startTurn(sessionId, {
    ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    ...(opts.turnId !== undefined ? { turnId: opts.turnId } : {}),
  });
  if (E.isLeft(started)) return started;
  const turn = started.right;
  let outcome: TurnOutcome = 'failed';
  let result: E.Either<TurnError, TurnReport> | undefined;
  try {
    result = await drive(engine, turn, opts, input.right);
    outcome = turn.signal.aborted ? 'cancelled' : E.isRight(result) ? 'completed' : 'failed';
  } finally {
    if (turn.signal.aborted) outcome = 'cancelled';
    const released = await turn.release(outcome);
    // A cleanup failure after a successful turn is reported; an earlier error wins.
    if (result !== undefined && E.isRight(result) && E.isLeft(released)) result = released;
  }
  return result;
};

const drive = async (engine: SessionEngine, turn: TurnHandle, opts: AgentTurnOptions, input: MessageInput | undefined): Promise<E.Either<TurnError, TurnReport>> => {
  const sid = turn.sessionId;
  const signal = turn.signal;
  const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  const catalog = (): Promise<ToolCatalog> | ToolCatalog => (typeof opts.tools === 'function' ? opts.tools() : opts.tools);

  /** The revertible start, while no message of this turn is written. */
  let startSeq: number | undefined;
  let revertedStaleStart: number | undefined;
  let opening: MessageInput[] = [];
  let unmatched: ToolResult[] = [];
  const assistantMessages: Message[] = [];
  const toolCalls: TurnToolCall[] = [];
  let usage: Usage = emptyUsage;
  let steps = 0;

  const cancelled = (): TurnCancelled => turnCancelled(sid, turn.turnId, signal, opts.signal);

  /** Ends the turn with `e`: puts the consumed inputs back when nothing of the turn was written. */
  const fail = async (e: TurnError | 'cancelled'): Promise<E.Either<TurnError, TurnReport>> => {
    const err = e === 'cancelled' || signal.aborted ? cancelled() : e;
    if (startSeq !== undefined) {
      const revert = [commands.turnStartReverted(startSeq)];
      // After a cancel the handle refuses writes; the revert's own guard (lastStart.seq === startSeq) keeps it safe.
      const r = turn.active ? await turn.append(revert) : await engine.append(sid, revert);
      if (E.isRight(r)) startSeq = undefined;
    }
    return E.left(err);
  };

  const check = <A>(r: E.Either<EngineError, A>): E.Either<TurnError | 'cancelled', A> => (E.isLeft(r) && signal.aborted ? E.left('cancelled') : r);

  /** `turn_started`: its seq and what it consumed. */
  const startTurn = async (): Promise<E.Either<TurnError | 'cancelled', ConsumedTurnInputs>> => {
    const r = check(await turn.append([commands.turnStarted()]));
    if (E.isLeft(r)) return r;
    const [consumed] = r.right.results;
    startSeq = consumed.startSeq;
    return E.right(consumed);
  };

  const promptMessages = (consumed: ConsumedTurnInputs): MessageInput[] => [
    ...(consumed.initialPrompt !== undefined ? [userMessage(consumed.initialPrompt.prompt)] : []),
    ...(input !== undefined ? [input] : []),
  ];

  // 1. A stale uncommitted start (a run that crashed or could not revert): put its inputs back.
  const first = check(await engine.store.load(sid));
  if (E.isLeft(first)) return fail(first.left);
  let session: Session = first.right;
  const stale = session.deferredTurn.lastStart;
  if (stale !== undefined) {
    const r = check(await turn.append([commands.turnStartReverted(stale.seq)]));
    if (E.isLeft(r)) return fail(r.left);
    revertedStaleStart = stale.seq;
    session = r.right.session;
  }

  // 2. Pending tool calls are answered before any boundary.
  const pending = pendingToolUseIds(session);
  let turnStarted = false;
  if (pending.length > 0) {
    const consumed = await startTurn();
    if (E.isLeft(consumed)) return fail(consumed.left);
    turnStarted = true;
    const answered = answerPending(pending, consumed.right);
    unmatched = answered.unmatched;
    const msgs = [toolResults(answered.results), ...promptMessages(consumed.right)];
    const w = check(await turn.execute<SessionError>((s) => pushOpening(s, msgs)));
    if (E.isLeft(w)) return fail(w.left);
    startSeq = undefined; // committed: the consumed inputs are in the transcript
  }

  for (;;) {
    if (signal.aborted) return fail('cancelled');
    // 3. The LLM boundary.
    const sc = check(await turn.applySystemContextBoundary());
    if (E.isLeft(sc)) return fail(sc.left);
    const tb = check(await turn.applyToolBoundary<ToolDefinition>(catalog));
    if (E.isLeft(tb)) return fail(tb.left);
    const offered = tb.right.tools;
    session = tb.right.session;
    if (!turnStarted) {
      const consumed = await startTurn();
      if (E.isLeft(consumed)) return fail(consumed.left);
      turnStarted = true;
      opening = promptMessages(consumed.right);
      unmatched = allStaged(consumed.right);
    }

    // 4. The model call; only a complete reply is written.
    const now = Date.now();
    const transcript = session.readMessages();
    if (E.isLeft(transcript)) return fail(transcript.left);
    const reply = await callModel({ opts, messages: [...transcript.right, ...opening.map((m) => stampMessage(m, now))], offered, signal });
    if (E.isLeft(reply)) return fail(reply.left);
    if (signal.aborted) return fail('cancelled');
    const turnReply = reply.right;
    const uses = toolUses(turnReply.message);
    const ids = uses.map((u) => u.id);
    if (new Set(ids).size !== ids.length) {
      return fail(malformedResponse('$', `the reply repeats a tool call id: ${ids.join(', ')}`));
    }
    const toWrite = [...opening, turnReply.message];
    const w = check(
      await turn.execute<SessionError>((s) => {
        const pushed = s.pushBatch(toWrite);
        if (E.isLeft(pushed) || turnReply.usage === undefined) return pushed;
        return pushed.right.recordUsage(turnReply.usage);
      }),
    );
    if (E.isLeft(w)) return fail(w.left);
    steps++;
    startSeq = undefined;
    opening = [];
    const written = messagesOf(w.right.records);
    const assistant = written[written.length - 1]!;
    assistantMessages.push(assistant);
    if (turnReply.usage !== undefined) usage = addUsage(usage, turnReply.usage);

    const report = (): TurnReport => ({
      sessionId: sid,
      turnId: turn.turnId,
      steps,
      assistantMessages: [...assistantMessages],
      toolCalls: [...toolCalls],
      usage,
      finalText: assistant.role === 'assistant' ? assistantVisibleText(assistant) : '',
      stopReason: turnReply.stopReason,
      unmatchedToolResults: unmatched,
      ...(revertedStaleStart !== undefined ? { revertedStaleStart } : {}),
    });
    if (uses.length === 0) return E.right(report());

    // 5. The tool calls: one tool_results message.
    const offeredNames = new Set(offered.map((t) => t.name));
    const results: ToolResult[] = [];
    for (const use of uses) {
      if (signal.aborted) return fail('cancelled');
      const r = await runToolUse(use, offeredNames, opts.handlers, signal);
      results.push(r);
      toolCalls.push({ step: steps, toolUseId: use.id, name: use.name, args: use.args, isError: r.isError, content: r.content });
    }
    if (signal.aborted) return fail('cancelled');
    const tr = check(await turn.appendToolResults(toolResults(results)));
    if (E.isLeft(tr)) return fail(tr.left);
    if (steps >= maxSteps) {
      return fail({
        _tag: 'MaxStepsExceeded',
        maxSteps,
        report: report(),
        message: `the turn made ${maxSteps} model call(s) and the last one still asked for tools; its results are recorded`,
      });
    }
  }
};
