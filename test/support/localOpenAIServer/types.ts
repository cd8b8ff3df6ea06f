/**
 * Shapes shared by the local OpenAI-compatible test server (`../localServer.ts`)
 * and its wire builders (`chat.ts`, `responses.ts`).
 */

/** Token counts reported for a scripted reply (whole tokens, non-negative integers). `cachedTokens` is the cached part of `inputTokens` (default 0). */
export type ScriptedUsage = { inputTokens: number; outputTokens: number; cachedTokens?: number };

/** One scripted tool call: `id` is the provider call id (e.g. `call_abc`), `arguments` the raw JSON text of the arguments. */
export type ScriptedToolCall = { id: string; name: string; arguments: string };

/**
 * One scripted answer of the local server, consumed by one request.
 *
 * - `text`: an assistant message (`finish_reason: 'stop'`, Responses `status: 'completed'`).
 * - `tool_calls`: function calls (optionally preceded by assistant `text`); `finish_reason: 'tool_calls'`.
 * - `error`: an OpenAI-style error body `{ error: { message, type, param: null, code: null } }`
 *   with HTTP `status`; `type` defaults from the status (`invalid_request_error`, `authentication_error`,
 *   `rate_limit_error`, `server_error`, ...).
 * - `malformed`: `body` with status 200 — verbatim as `application/json` for a non-streaming request;
 *   for a streaming one as a `text/event-stream` of exactly one event whose data is `body` (each line a
 *   `data:` field), no `[DONE]`. A body that is not JSON thus makes the SDK throw a `SyntaxError` in
 *   both modes (a streaming call throws on the first iteration step, not on `create`).
 * - `malformed_stream`: a 200 `text/event-stream` whose events are `data: <chunk>` for each raw chunk,
 *   in order, and nothing else (no `[DONE]` unless a chunk is `[DONE]`); sent as SSE even to a
 *   non-streaming request.
 *
 * `usage` omitted: input tokens ≈ ceil(JSON length of the request's `messages`/`input` ÷ 4),
 * output tokens ≈ ceil(output characters ÷ 4), at least 1 each.
 */
export type ScriptedReply =
  | { kind: 'text'; text: string; usage?: ScriptedUsage }
  | { kind: 'tool_calls'; calls: ScriptedToolCall[]; text?: string; usage?: ScriptedUsage }
  | { kind: 'error'; status: number; message: string; type?: string }
  | { kind: 'malformed'; body: string }
  | { kind: 'malformed_stream'; chunks: string[] };

/** A scripted reply that produces a well-formed completion (what the wire builders accept). */
export type ScriptedCompletion = Extract<ScriptedReply, { kind: 'text' | 'tool_calls' }>;

/**
 * One request the server received on a known route, recorded before it is answered.
 *
 * `body` is the parsed JSON body, or the raw body text when it was not a JSON object (that request
 * was answered 400 and consumed no scripted reply). `stream` is `body.stream === true`.
 * `receivedAt` is `Date.now()` (ms since the epoch) when the body had been read.
 */
export interface RecordedRequest {
  readonly api: 'chat' | 'responses';
  readonly path: string;
  readonly body: unknown;
  readonly stream: boolean;
  readonly receivedAt: number;
}

/** Per-reply values the wire builders stamp into every object they build. */
export interface WireContext {
  /** Model name reported in the reply. */
  readonly model: string;
  /** Creation time, whole seconds since the epoch. */
  readonly created: number;
  /** A fresh random id with the given prefix (`chatcmpl-`, `resp_`, `msg_`, `fc_`). */
  readonly newId: (prefix: string) => string;
}
