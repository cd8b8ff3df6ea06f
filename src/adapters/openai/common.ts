/**
 * Pieces shared by the OpenAI conversions (Chat Completions, Responses) and the
 * Realtime mapper: lenient wire codecs, tool-argument JSON, image URLs, the
 * text conventions for notices and failed tool results, and usage.
 *
 * Wire values are read with the project's codec toolkit (`src/model/decode.ts`)
 * but with `loose` objects: provider objects carry many fields palimpsest does
 * not use and gain new ones over time, so unknown keys are ignored (the
 * opposite of the stored-value rule of model.md §8, which is about our own
 * records). What is read is checked: strings must be well-formed (model.md §8
 * rule 4), counts non-negative safe integers, and `null` is accepted only where
 * the OpenAI SDK types allow it (`orNull`).
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { at, codec, decodeWith, fail, keyPath, nat, type Codec, type StrictOf } from '../../model/decode.ts';
import type { ContentBlock, StopReason, ToolResult } from '../../model/content.ts';
import { isJson, type Json } from '../../model/json.ts';
import type { MessageInput, SystemNotice } from '../../model/message.ts';
import { textContent } from '../../model/projections.ts';
import type { Usage } from '../../model/usage.ts';
import { unresolvedBlob, type UnresolvedBlob } from './errors.ts';

// ---------------------------------------------------------------------------
// Lenient wire codecs

type Props = Record<string, t.Mixed>;

/** Whether `u` is a non-array object (wire objects may come from JSON.parse or from SDK instances). */
export const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

/**
 * A wire object: the `required` keys must be present (not `undefined`) and
 * decode, the `optional` keys decode when present, every other key is ignored.
 * The output holds only the listed keys (absent optional keys stay absent).
 */
export const loose = <R extends Props, O extends Props = Record<never, t.Mixed>>(name: string, required: R, optional?: O): Codec<StrictOf<R, O>> => {
  const req = Object.entries(required as Props);
  const opt = Object.entries((optional ?? {}) as Props);
  return codec(name, (u, c) => {
    if (!isObject(u)) return fail(u, c, 'wrong_type', name);
    const out: Record<string, unknown> = {};
    for (const [k, field] of req) {
      const v = u[k];
      if (v === undefined) return fail(undefined, at(c, keyPath(k), field, undefined), 'missing_field', name, `missing field "${k}" in ${name}`);
      const r = field.validate(v, at(c, keyPath(k), field, v));
      if (E.isLeft(r)) return r;
      out[k] = r.right;
    }
    for (const [k, field] of opt) {
      const v = u[k];
      if (v === undefined) continue;
      const r = field.validate(v, at(c, keyPath(k), field, v));
      if (E.isLeft(r)) return r;
      out[k] = r.right;
    }
    return t.success(out as StrictOf<R, O>);
  });
};

/** `inner` or `null` (a wire field the SDK types as `T | null`). */
export const orNull = <A>(inner: Codec<A>): Codec<A | null> =>
  codec(`${inner.name} | null`, (u, c) => (u === null ? t.success(null) : inner.validate(u, c)));

/** `inner` with its decoded value mapped by `f` (same name, same failures). */
export const mapCodec = <A, B>(inner: Codec<A>, f: (a: A) => B): Codec<B> =>
  codec(inner.name, (u, c) => {
    const r = inner.validate(u, c);
    return E.isLeft(r) ? r : t.success(f(r.right));
  });

/**
 * Any string, well-formed or not: for stream deltas, which may split a surrogate
 * pair across two chunks; the assembled text is checked for well-formedness.
 */
export const deltaStr: Codec<string> = codec('string', (u, c) => (typeof u === 'string' ? t.success(u) : fail(u, c, 'wrong_type', 'string')));

/** Any object (fields ignored). */
export const anyObject: Codec<Record<string, unknown>> = codec('object', (u, c) => (isObject(u) ? t.success(u) : fail(u, c, 'wrong_type', 'object')));

/**
 * A non-empty array of which only the first element is decoded with `first`
 * (Chat Completions `choices`: palimpsest reads choice 0 and ignores the rest).
 */
export const firstOf = <A>(first: Codec<A>, name: string): Codec<A> =>
  codec(name, (u, c) => {
    if (!Array.isArray(u)) return fail(u, c, 'wrong_type', name);
    if (u.length === 0) return fail(u, c, 'invalid_value', name, `expected at least one element in ${name}`);
    const v: unknown = u[0];
    return first.validate(v, at(c, '[0]', first, v));
  });

/** A wire value failed its codec: the `$`-rooted path and a readable message. */
export interface WireProblem {
  readonly path: string;
  readonly message: string;
}

/** Decodes a wire value; a failure is a `WireProblem` (path from `$`). */
export const decodeWire = <A>(c: Codec<A>, u: unknown): E.Either<WireProblem, A> => {
  const r = decodeWith(c, u);
  return E.isRight(r) ? r : E.left({ path: r.left.path, message: r.left.message });
};

/** Re-roots a `$`-path under `prefix` (`$.x` under `$.response` is `$.response.x`). */
export const underPath = (prefix: string, path: string): string => prefix + path.slice(1);

// ---------------------------------------------------------------------------
// Tool-call arguments (model.md §3.2)

/** `JSON.parse(raw)` when it parses to a valid `Json` value (finite numbers, well-formed strings), else `undefined`. */
export const tryParseJson = (raw: string): Json | undefined => {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  return isJson(v) ? v : undefined;
};

/**
 * Wire `arguments` (a string) to `tool_use.args`: the parsed JSON value, or the
 * raw string itself when it is not valid JSON (model.md §3.2: "an argument string
 * that is not valid JSON is stored as a JSON string").
 */
export const parseToolArguments = (raw: string): Json => {
  const parsed = tryParseJson(raw);
  return parsed === undefined ? raw : parsed;
};

/**
 * `tool_use.args` to wire `arguments`: `JSON.stringify(args)` (the stored key
 * order, which is the order the model produced), except that a string that is not
 * valid JSON is sent as itself, so `parseToolArguments(formatToolArguments(a))`
 * equals `a` for every `Json` value `a`.
 */
export const formatToolArguments = (args: Json): string =>
  typeof args === 'string' && tryParseJson(args) === undefined ? args : JSON.stringify(args);

// ---------------------------------------------------------------------------
// Images

/**
 * Turns a stored image blob into a URL the provider can fetch or decode: an
 * `https:` URL, or a `data:<mediaType>;base64,<data>` URL built from the blob's
 * bytes. `undefined` means "cannot resolve" (`UnresolvedBlob`). Synchronous, so
 * conversions stay pure functions: load the blobs the transcript names first.
 */
export type ResolveBlob = (blobId: string, mediaType: string) => string | undefined;

/** Options shared by the message → wire conversions. */
export interface ToWireOptions {
  /** Resolves `blob` image sources to URLs; without it a blob image is `UnresolvedBlob`. */
  readonly resolveBlob?: ResolveBlob;
}

/** The URL of an image block: inline → `data:<mediaType>;base64,<data>`; blob → `resolveBlob`, else `UnresolvedBlob` at `path`. */
export const imageUrl = (block: Extract<ContentBlock, { type: 'image' }>, path: string, opts: ToWireOptions | undefined): E.Either<UnresolvedBlob, string> => {
  if (block.source.type === 'inline') return E.right(`data:${block.mediaType};base64,${block.source.data}`);
  const url = opts?.resolveBlob?.(block.source.blobId, block.mediaType);
  return url === undefined ? E.left(unresolvedBlob(block.source.blobId, path)) : E.right(url);
};

// ---------------------------------------------------------------------------
// Text conventions

/**
 * A `system_notice` as the text of a system (or developer) message:
 * `[notice <kind>] <text>`, e.g. `[notice tool_scope] The tools changed: …`.
 * The bracketed prefix tells the model the message is a runtime notice, not the
 * application's instructions; `data` is machine data and is not sent.
 */
export const noticeText = (m: Pick<SystemNotice, 'kind' | 'text'>): string => `[notice ${m.kind}] ${m.text}`;

/** The prefix that marks a failed tool result (`isError: true`) on wires that have no error flag. */
export const TOOL_ERROR_PREFIX = '[tool error]';

/**
 * A tool result as one text (Chat `tool` messages, Responses `function_call_output`
 * strings): the model.md §5 `textContent` projection of its content (text verbatim,
 * structured data as canonical JSON, an image as `[image: <mediaType>]`, non-empty
 * parts joined with `"\n"`); when `isError`, prefixed with `[tool error] ` (or just
 * `[tool error]` for empty content). `details` is never sent (model.md §3.3).
 */
export const toolResultText = (r: ToolResult): string => {
  const text = textContent(r.content);
  if (!r.isError) return text;
  return text === '' ? TOOL_ERROR_PREFIX : `${TOOL_ERROR_PREFIX} ${text}`;
};

// ---------------------------------------------------------------------------
// Usage and origin

/** An `assistant` `MessageInput`. */
export type AssistantMessageInput = Extract<MessageInput, { role: 'assistant' }>;

/** What every OpenAI response conversion returns. */
export interface AssistantTurn {
  /** The assistant message (no `createdAt`: the session stamps it). Carries `origin` and, when reported, `usage`. */
  readonly message: AssistantMessageInput;
  /** The call's token usage, when the provider reported it (also on `message.usage`). */
  readonly usage?: Usage;
  /** Why the turn ended (also `message.stopReason`). */
  readonly stopReason: StopReason;
}

/** Options of the response → message conversions. */
export interface FromWireOptions {
  /** `origin.provider` (default `'openai'`); set it for OpenAI-compatible servers (`'azure'`, `'openrouter'`, …). */
  readonly provider?: string;
}

/**
 * Builds a `Usage` from OpenAI counts: `input` (every input token, cached or not),
 * `output`, and `cached` (a subset of `input`) as `cacheReadTokens`. A `cached`
 * count above `input` breaks model.md §4 and is reported as a string problem.
 */
export const openAIUsage = (input: number, output: number, cached: number | null | undefined): E.Either<string, Usage> => {
  if (cached === null || cached === undefined) return E.right({ inputTokens: input, outputTokens: output });
  if (cached > input) return E.left(`cached tokens (${cached}) exceed input tokens (${input})`);
  return E.right({ inputTokens: input, outputTokens: output, cacheReadTokens: cached });
};

/** A count codec: a non-negative safe integer. */
export const count = nat;

