/**
 * OpenAI Agents SDK items (`AgentInputItem`, `@openai/agents-core`) ⇄ palimpsest
 * messages (pure), and the plans the agents session (`agentsSession.ts`) records.
 *
 * ## The contract
 *
 * For every list of items that are JSON values (plain objects, finite numbers,
 * well-formed strings; `undefined` members count as absent):
 *
 * - `itemsToMessages(items)` is a transcript that passes `validateTranscriptShape`
 *   in full (revisions.md §2) — it never ends in an unresolved tool use, so any
 *   rewrite of it is valid too;
 * - `messagesToItems(itemsToMessages(items))` deep-equals
 *   `items.map(normalizeAgentItem)`: nothing is dropped, nothing is invented.
 *
 * `normalizeAgentItem` is the only normalization, and the SDK treats both
 * spellings alike (the agents session exposes it as
 * `prepareHistoryItemsForPersistenceComparison`, the SDK's hook for this):
 * 1. the JSON round trip: `undefined` members vanish, `-0` becomes `0`;
 * 2. a `user` or `system` message item without `type` gets `type: 'message'`
 *    (what `run(agent, 'text')` itself writes);
 * 3. a `user` message whose `content` is one bare `input_text` part gets that
 *    text as a string `content` (the SDK's own form for text input).
 *
 * ## Native mapping (one item, one message, except tool calls)
 *
 * | item | palimpsest |
 * | --- | --- |
 * | `message` `user`, string `content` | `user` (`conversational`) with one text block |
 * | `message` `user`, `input_text` / `input_image` (a `data:` URL with canonical media type and base64) parts | `user` with text / inline image blocks |
 * | `message` `system` | `system` |
 * | `message` `assistant`, `output_text` / `refusal` parts | `assistant` (`end_turn`), one `text` block per part |
 * | `reasoning` | `assistant` (`end_turn`) with one `reasoning` block: `text` = the summary (`content`) texts joined with `"\n\n"`, else the `rawContent` texts; `providerData.encryptedContent` and `id` ride in its `signature` |
 * | consecutive `function_call`s, then the consecutive `function_call_result`s answering exactly them | ONE `assistant` (`tool_use`) with one `tool_use` block per call (`id` = `callId`, `args` = the parsed `arguments`, or the string itself when it is not JSON, model.md §3.2), then ONE `tool_results` with one result per output in item order (`toolUseId` = `callId`; `output` string / `{ type: 'text' }` / parts → text and inline image blocks; `isError: false`) |
 *
 * What the native form does not hold — `id`, `providerData`, `status` other than
 * `completed`, `phase`, `namespace`, `caller`, per-part `providerData`
 * (annotations), an `arguments` string that re-serializes differently
 * (`{"a": 1}` with a space), a result `name` that differs from its call's, an
 * output spelled as a string — is kept as a *residual* (the keys to set and to
 * unset over the native reconstruction) in the block's `signature`
 * (`openai-agents:` + canonical JSON of `{ item?, part?, output? }`) or, for a
 * tool result, in `details.openaiAgents`. `signature` and `details` are in the
 * revision digest (model.md §7.1), so the residual is part of the audited text.
 *
 * ## What stays an `agents_item` notice
 *
 * Every other item — hosted tool calls, computer / shell / apply-patch calls and
 * their results, tool search, programs, compaction, `unknown`, a user message
 * with files, audio, image URLs or file ids, `detail`, `providerData` or `id`
 * (a user or system message has no slot for a residual), an assistant message
 * with audio or image parts — becomes a `system_notice` of kind `agents_item`
 * whose `data` is the (normalized) item verbatim and whose `text` is a one-line
 * summary. So does every item of a tool-call group that is not complete:
 * function calls with no results after them (pending, or interrupted), results
 * with no call, a result set that does not resolve exactly the calls' ids, or a
 * duplicate id. Notices never sit inside a native group (the group is all
 * native or all notices), so the shape rule holds. When the missing results
 * arrive later, the agents session rewrites the notices into the native pair
 * (a recorded rewrite, see `planAgentsAddItems`).
 *
 * As a guard, every native conversion is converted back and compared with the
 * item (canonical JSON); anything that would not come back identical is kept as
 * notices instead. Losslessness therefore does not rest on this table alone.
 *
 * ## Messages written by others
 *
 * `messagesToItems` reads any transcript, best effort, for messages this module
 * did not write: a foreign signature is ignored, a blob image becomes the text
 * `[image: <mediaType>]`, structured data its canonical JSON, a spoken block an
 * `output_text` part, a failed tool result its `[tool error]`-prefixed text, a
 * notice of another kind a system message `[notice <kind>] <text>`, and a tool
 * result's name comes from its call.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { AgentInputItem } from '@openai/agents-core';
import { canonicalMediaType, isCanonicalBase64, type AssistantBlock, type ContentBlock, type ToolResult } from '../../model/content.ts';
import { assistantMessage, outputText, reasoning, systemMessage, systemNotice, toolResult, toolResults, toolUse, userMessage } from '../../model/constructors.ts';
import { isPlainObject } from '../../model/decode.ts';
import { transcriptDigest } from '../../model/digest.ts';
import { canonicalJsonUnsafe, isJson, jsonProblem, type Json } from '../../model/json.ts';
import { decodeMessageInput, type MessageInput } from '../../model/message.ts';
import { formatToolArguments, noticeText, parseToolArguments, toolResultText } from './common.ts';

// ---------------------------------------------------------------------------
// Constants and errors

/** `kind` of the notices that keep an item palimpsest cannot express natively. */
export const AGENTS_ITEM_NOTICE_KIND = 'agents_item';
/** Prefix of the `signature` of blocks that carry an item residual. */
export const AGENTS_SIGNATURE_PREFIX = 'openai-agents:';
/** Key of a tool result's `details` that carries an item residual. */
export const AGENTS_DETAILS_KEY = 'openaiAgents';

/**
 * An item that cannot be stored at all: not a plain object (`not_an_object`),
 * or not a JSON value (`not_json`: a `Uint8Array`, a non-finite number, a lone
 * surrogate, a cycle, …). `index` is the item's position in the list given,
 * `path` where the problem is (`$[2].output[0].image`).
 */
export interface UnsupportedAgentItem {
  readonly _tag: 'UnsupportedAgentItem';
  readonly index: number;
  readonly path: string;
  readonly reason: 'not_an_object' | 'not_json';
  readonly message: string;
}

/** Builds an `UnsupportedAgentItem`. */
export const unsupportedAgentItem = (index: number, path: string, reason: UnsupportedAgentItem['reason'], detail: string): UnsupportedAgentItem => ({
  _tag: 'UnsupportedAgentItem',
  index,
  path,
  reason,
  message: `agents item ${index} cannot be stored: ${detail} at ${path}`,
});

// ---------------------------------------------------------------------------
// JSON helpers

type JsonObject = { [key: string]: Json };

const isObj = (u: unknown): u is JsonObject => isPlainObject(u);
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
const jsonEqual = (a: Json, b: Json): boolean => a === b || canonicalJsonUnsafe(a) === canonicalJsonUnsafe(b);
/** Sets `o[k]` as an own data property (safe for a key named `__proto__`). */
const define = (o: JsonObject, k: string, v: Json): void => {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
};
/** The JSON round trip of a value known to be JSON: `undefined` members dropped, `-0` as `0`, fresh objects. */
const jsonClone = <A>(v: A): A => JSON.parse(JSON.stringify(v)) as A;
const asItem = (o: JsonObject): AgentInputItem => o as unknown as AgentInputItem;
const asJson = (i: AgentInputItem): JsonObject => i as unknown as JsonObject;

// ---------------------------------------------------------------------------
// Residuals: what the native form does not hold

/** Keys to set (verbatim values) and keys to remove over a native reconstruction. */
interface Residual {
  readonly set?: JsonObject;
  readonly unset?: string[];
}

/** What a block's signature (or a result's details) carries. */
interface Envelope {
  /** The item's residual (on the first block of the item). */
  readonly item?: Residual;
  /** The content part's residual (assistant message parts). */
  readonly part?: Residual;
  /** A function_call_result whose `output` was a plain string. */
  readonly output?: 'string';
}

/** The residual of `item` over `base`, ignoring `ignore`d keys; `undefined` when they agree. */
const residualOf = (item: JsonObject, base: JsonObject, ignore: readonly string[] = []): Residual | undefined => {
  const set: JsonObject = {};
  const unset: string[] = [];
  let any = false;
  for (const k of Object.keys(item)) {
    if (ignore.includes(k)) continue;
    const v = item[k]!;
    if (!hasOwn(base, k) || !jsonEqual(v, base[k]!)) {
      define(set, k, v);
      any = true;
    }
  }
  for (const k of Object.keys(base)) if (!ignore.includes(k) && !hasOwn(item, k)) unset.push(k);
  if (!any && unset.length === 0) return undefined;
  return { ...(any ? { set } : {}), ...(unset.length > 0 ? { unset } : {}) };
};

/** `base` with `r` applied: `unset` keys removed, `set` keys overwritten. */
const applyResidual = (base: JsonObject, r: Residual | undefined): JsonObject => {
  if (r === undefined) return base;
  const out: JsonObject = {};
  for (const k of Object.keys(base)) if (!(r.unset ?? []).includes(k)) define(out, k, base[k]!);
  for (const k of Object.keys(r.set ?? {})) define(out, k, r.set![k]!);
  return out;
};

const envelopeJson = (env: Envelope): JsonObject | undefined => {
  const o: JsonObject = {};
  if (env.item !== undefined) o.item = env.item as unknown as Json;
  if (env.part !== undefined) o.part = env.part as unknown as Json;
  if (env.output !== undefined) o.output = env.output;
  return Object.keys(o).length === 0 ? undefined : o;
};

const encodeSignature = (env: Envelope): string | undefined => {
  const o = envelopeJson(env);
  return o === undefined ? undefined : AGENTS_SIGNATURE_PREFIX + canonicalJsonUnsafe(o);
};

const parseResidual = (u: unknown): Residual | undefined | false => {
  if (u === undefined) return undefined;
  if (!isObj(u)) return false;
  for (const k of Object.keys(u)) if (k !== 'set' && k !== 'unset') return false;
  if (u.set !== undefined && !isObj(u.set)) return false;
  if (u.unset !== undefined && !(Array.isArray(u.unset) && u.unset.every((s) => typeof s === 'string'))) return false;
  return u as Residual;
};

/** Reads an envelope object; `undefined` when `u` is not one (a foreign value is ignored). */
const parseEnvelope = (u: unknown): Envelope | undefined => {
  if (!isObj(u)) return undefined;
  for (const k of Object.keys(u)) if (k !== 'item' && k !== 'part' && k !== 'output') return undefined;
  const item = parseResidual(u.item);
  const part = parseResidual(u.part);
  if (item === false || part === false) return undefined;
  if (u.output !== undefined && u.output !== 'string') return undefined;
  return { ...(item !== undefined ? { item } : {}), ...(part !== undefined ? { part } : {}), ...(u.output === 'string' ? { output: 'string' as const } : {}) };
};

const signatureEnvelope = (signature: string | undefined): Envelope | undefined => {
  if (signature === undefined || !signature.startsWith(AGENTS_SIGNATURE_PREFIX)) return undefined;
  try {
    return parseEnvelope(JSON.parse(signature.slice(AGENTS_SIGNATURE_PREFIX.length)));
  } catch {
    return undefined;
  }
};

/** The envelope in a tool result's `details` (a copy: stored messages are frozen, items must be fresh). */
const detailsEnvelope = (details: Json | undefined): Envelope | undefined =>
  isObj(details) && Object.keys(details).length === 1 && details[AGENTS_DETAILS_KEY] !== undefined ? parseEnvelope(jsonClone(details[AGENTS_DETAILS_KEY])) : undefined;

// ---------------------------------------------------------------------------
// Normalization

/**
 * The normalized spelling of an item (see the module comment): the JSON round
 * trip, `type: 'message'` on a user or system message without `type`, and a
 * user message with one bare `input_text` part as a string `content`. Idempotent.
 * An item that is not a JSON object is returned unchanged.
 */
export const normalizeAgentItem = (item: AgentInputItem): AgentInputItem => {
  if (!isObj(item) || !isJson(item)) return item;
  let out = jsonClone(asJson(item));
  if (!hasOwn(out, 'type') && (out.role === 'user' || out.role === 'system')) out = { type: 'message', ...out };
  if (out.type === 'message' && out.role === 'user' && Array.isArray(out.content) && out.content.length === 1) {
    const p = out.content[0];
    if (isObj(p) && p.type === 'input_text' && typeof p.text === 'string' && Object.keys(p).length === 2) out = { ...out, content: p.text };
  }
  return asItem(out);
};

// ---------------------------------------------------------------------------
// Items → native messages (each returns `undefined` when the item has no native form)

const DATA_URL = /^data:([^;,]*);base64,(.*)$/s;

/** A `data:<mediaType>;base64,<data>` URL as an inline image block, when both parts are canonical. */
const imageFromDataUrl = (url: string): ContentBlock | undefined => {
  const m = DATA_URL.exec(url);
  if (m === null) return undefined;
  const mediaType = m[1]!;
  const data = m[2]!;
  if (canonicalMediaType(mediaType) !== mediaType || !/^image\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(mediaType) || !isCanonicalBase64(data)) return undefined;
  return { type: 'image', mediaType, source: { type: 'inline', data } };
};

const onlyKeys = (o: JsonObject, keys: readonly string[]): boolean => Object.keys(o).every((k) => keys.includes(k));

/** A user `input_*` part as a content block (bare `input_text`, or `input_image` with a canonical data URL). */
const userPartBlock = (p: Json): ContentBlock | undefined => {
  if (!isObj(p)) return undefined;
  if (p.type === 'input_text' && typeof p.text === 'string' && onlyKeys(p, ['type', 'text'])) return { type: 'text', text: p.text };
  if (p.type === 'input_image' && typeof p.image === 'string' && onlyKeys(p, ['type', 'image'])) return imageFromDataUrl(p.image);
  return undefined;
};

const userToNative = (item: JsonObject): MessageInput[] | undefined => {
  if (!onlyKeys(item, ['type', 'role', 'content'])) return undefined;
  if (typeof item.content === 'string') return [userMessage([{ type: 'text', text: item.content }])];
  if (!Array.isArray(item.content) || item.content.length === 0) return undefined;
  const blocks: ContentBlock[] = [];
  for (const p of item.content) {
    const b = userPartBlock(p);
    if (b === undefined) return undefined;
    blocks.push(b);
  }
  return [userMessage(blocks)];
};

const systemToNative = (item: JsonObject): MessageInput[] | undefined =>
  onlyKeys(item, ['type', 'role', 'content']) && typeof item.content === 'string' ? [systemMessage(item.content)] : undefined;

const ASSISTANT_BASE: JsonObject = { type: 'message', role: 'assistant', status: 'completed' };

const assistantToNative = (item: JsonObject): MessageInput[] | undefined => {
  if (!Array.isArray(item.content)) return undefined;
  const itemResidual = residualOf(item, ASSISTANT_BASE, ['content']);
  const blocks: AssistantBlock[] = [];
  for (let i = 0; i < item.content.length; i++) {
    const p = item.content[i]!;
    if (!isObj(p)) return undefined;
    let text: string;
    if (p.type === 'output_text' && typeof p.text === 'string') text = p.text;
    else if (p.type === 'refusal' && typeof p.refusal === 'string') text = p.refusal;
    else return undefined;
    const part = residualOf(p, { type: 'output_text', text });
    blocks.push(outputText(text, encodeSignature({ ...(i === 0 && itemResidual !== undefined ? { item: itemResidual } : {}), ...(part !== undefined ? { part } : {}) })));
  }
  if (blocks.length === 0 && itemResidual !== undefined) return undefined;
  return [assistantMessage(blocks, 'end_turn')];
};

const partTexts = (u: Json | undefined): string[] | undefined => {
  if (!Array.isArray(u)) return undefined;
  const out: string[] = [];
  for (const p of u) {
    if (!isObj(p) || typeof p.text !== 'string') return undefined;
    out.push(p.text);
  }
  return out;
};

const reasoningBase = (text: string): JsonObject => ({ type: 'reasoning', content: text === '' ? [] : [{ type: 'input_text', text }] });

const reasoningToNative = (item: JsonObject): MessageInput[] => {
  const summary = partTexts(item.content) ?? [];
  const raw = partTexts(item.rawContent) ?? [];
  const text = (summary.length > 0 ? summary : raw).join('\n\n');
  const r = residualOf(item, reasoningBase(text));
  return [assistantMessage([reasoning(text, encodeSignature(r !== undefined ? { item: r } : {}))], 'end_turn')];
};

const callBase = (callId: string, name: string, args: Json): JsonObject => ({ type: 'function_call', callId, name, arguments: formatToolArguments(args), status: 'completed' });

const callToNative = (item: JsonObject): AssistantBlock | undefined => {
  const { callId, name, arguments: raw } = item;
  if (typeof callId !== 'string' || callId === '' || typeof name !== 'string' || name === '' || typeof raw !== 'string') return undefined;
  const args = parseToolArguments(raw);
  const r = residualOf(item, callBase(callId, name, args));
  return toolUse(callId, name, args, encodeSignature(r !== undefined ? { item: r } : {}));
};

/** A content block as a tool-output `input_*` part (the reverse of `resultPartBlock`, best effort for foreign blocks). */
const blockToInputPart = (b: ContentBlock): JsonObject => {
  switch (b.type) {
    case 'text':
      return { type: 'input_text', text: b.text };
    case 'image':
      return b.source.type === 'inline' ? { type: 'input_image', image: `data:${b.mediaType};base64,${b.source.data}` } : { type: 'input_text', text: `[image: ${b.mediaType}]` };
    case 'structured':
      return { type: 'input_text', text: canonicalJsonUnsafe(b.data) };
  }
};

/** The `output` a tool result's content reconstructs to: one text block → `{ type: 'text', text }`, else a list of parts. */
const defaultOutput = (content: readonly ContentBlock[]): Json => {
  const only = content.length === 1 ? content[0]! : undefined;
  if (only !== undefined && only.type === 'text') return { type: 'text', text: only.text };
  return content.map(blockToInputPart);
};

const resultBase = (name: string, callId: string, output: Json): JsonObject => ({ type: 'function_call_result', name, callId, status: 'completed', output });

/** Content blocks for a tool output; parts palimpsest cannot hold become a `[<type>]` text placeholder (the residual keeps the output verbatim). */
const outputBlocks = (output: Json | undefined): ContentBlock[] => {
  if (typeof output === 'string') return [{ type: 'text', text: output }];
  const parts = Array.isArray(output) ? output : output === undefined ? [] : [output];
  return parts.map((p): ContentBlock => {
    if (isObj(p) && (p.type === 'text' || p.type === 'input_text') && typeof p.text === 'string') return { type: 'text', text: p.text };
    if (isObj(p) && (p.type === 'image' || p.type === 'input_image') && typeof p.image === 'string') {
      const img = imageFromDataUrl(p.image);
      if (img !== undefined) return img;
    }
    return { type: 'text', text: `[${isObj(p) && typeof p.type === 'string' ? p.type : 'output'}]` };
  });
};

const resultToNative = (item: JsonObject, callName: string): ToolResult | undefined => {
  const callId = item.callId;
  if (typeof callId !== 'string' || callId === '') return undefined;
  const content = outputBlocks(item.output);
  const stringOutput = typeof item.output === 'string';
  const r = residualOf(item, resultBase(callName, callId, stringOutput ? item.output! : defaultOutput(content)));
  const env = envelopeJson({ ...(r !== undefined ? { item: r } : {}), ...(stringOutput ? { output: 'string' as const } : {}) });
  return toolResult(callId, content, env === undefined ? {} : { details: { [AGENTS_DETAILS_KEY]: env } });
};

/** A complete tool-call group as `[assistant (tool_use…), tool_results]`, or `undefined`. */
const groupToNative = (calls: readonly JsonObject[], results: readonly JsonObject[]): MessageInput[] | undefined => {
  if (calls.length === 0 || results.length === 0) return undefined;
  const names = new Map<string, string>();
  const blocks: AssistantBlock[] = [];
  for (const c of calls) {
    const b = callToNative(c);
    if (b === undefined || b.type !== 'tool_use' || names.has(b.id)) return undefined;
    names.set(b.id, b.name);
    blocks.push(b);
  }
  const seen = new Set<string>();
  const out: ToolResult[] = [];
  for (const r of results) {
    const callId = r.callId;
    if (typeof callId !== 'string' || seen.has(callId)) return undefined;
    const name = names.get(callId);
    if (name === undefined) return undefined;
    seen.add(callId);
    const tr = resultToNative(r, name);
    if (tr === undefined) return undefined;
    out.push(tr);
  }
  if (seen.size !== names.size) return undefined;
  return [assistantMessage(blocks, 'tool_use'), toolResults(out)];
};

// ---------------------------------------------------------------------------
// Notices

const messageItemText = (item: JsonObject): string => {
  if (typeof item.content === 'string') return item.content;
  const texts = partTexts(Array.isArray(item.content) ? item.content.filter((p) => isObj(p) && typeof p.text === 'string') : undefined);
  return texts === undefined ? '' : texts.join('\n');
};

/** One line saying what a notice keeps, e.g. `OpenAI Agents function_call get_weather (call_1), kept verbatim in data`. */
const describeItem = (item: JsonObject): string => {
  const parts = ['OpenAI Agents'];
  parts.push(typeof item.type === 'string' ? item.type : 'item');
  if (typeof item.role === 'string') parts.push(item.role);
  if (typeof item.name === 'string') parts.push(item.name);
  const callId = typeof item.callId === 'string' ? item.callId : undefined;
  const head = `${parts.join(' ')}${callId !== undefined ? ` (${callId})` : ''} item, kept verbatim in data`;
  const text = item.type === 'message' || typeof item.role === 'string' ? messageItemText(item) : '';
  return text === '' ? head : `${head}: ${text}`;
};

const noticeFor = (item: JsonObject): MessageInput => systemNotice(AGENTS_ITEM_NOTICE_KIND, describeItem(item), { data: item });

// ---------------------------------------------------------------------------
// Segments: one item, or one tool-call group (calls, then results)

type Segment = { readonly type: 'single'; readonly item: JsonObject } | { readonly type: 'group'; readonly calls: JsonObject[]; readonly results: JsonObject[] };

const isCall = (i: JsonObject): boolean => i.type === 'function_call';
const isResult = (i: JsonObject): boolean => i.type === 'function_call_result';

/**
 * Splits items into segments: a maximal run of function calls followed by the
 * maximal run of function call results after it is one group (either run may
 * be empty); every other item is a segment of its own.
 */
const segment = (items: readonly JsonObject[]): Segment[] => {
  const out: Segment[] = [];
  let group: { calls: JsonObject[]; results: JsonObject[] } | undefined;
  const close = (): void => {
    if (group !== undefined) out.push({ type: 'group', ...group });
    group = undefined;
  };
  for (const item of items) {
    if (isCall(item)) {
      if (group !== undefined && group.results.length > 0) close();
      group ??= { calls: [], results: [] };
      group.calls.push(item);
    } else if (isResult(item)) {
      group ??= { calls: [], results: [] };
      group.results.push(item);
    } else {
      close();
      out.push({ type: 'single', item });
    }
  }
  close();
  return out;
};

const segmentItems = (s: Segment): JsonObject[] => (s.type === 'single' ? [s.item] : [...s.calls, ...s.results]);

const singleToNative = (item: JsonObject): MessageInput[] | undefined => {
  if (item.type === 'reasoning') return reasoningToNative(item);
  const isMessage = item.type === 'message' || (!hasOwn(item, 'type') && item.role === 'assistant');
  if (!isMessage) return undefined;
  switch (item.role) {
    case 'user':
      return userToNative(item);
    case 'system':
      return systemToNative(item);
    case 'assistant':
      return assistantToNative(item);
    default:
      return undefined;
  }
};

/** Whether `native` decodes and converts back to exactly `items` (the losslessness guard). */
const roundTrips = (native: readonly MessageInput[], items: readonly JsonObject[]): boolean => {
  for (const m of native) if (E.isLeft(decodeMessageInput(m))) return false;
  const back = messagesToItems(native);
  return back.length === items.length && canonicalJsonUnsafe(back) === canonicalJsonUnsafe(items);
};

const convertSegment = (s: Segment): MessageInput[] => {
  const items = segmentItems(s);
  const native = s.type === 'single' ? singleToNative(s.item) : groupToNative(s.calls, s.results);
  if (native !== undefined && roundTrips(native, items)) return native;
  return items.map(noticeFor);
};

/** Validates and normalizes items: `Left` at the first that is not a JSON object. */
const checkItems = (items: readonly AgentInputItem[]): E.Either<UnsupportedAgentItem, JsonObject[]> => {
  if (!Array.isArray(items)) return E.left(unsupportedAgentItem(0, '$', 'not_an_object', 'expected an array of items'));
  const out: JsonObject[] = [];
  for (let i = 0; i < items.length; i++) {
    const item: unknown = items[i];
    if (!isObj(item)) return E.left(unsupportedAgentItem(i, `$[${i}]`, 'not_an_object', 'expected a plain object'));
    const problem = jsonProblem(item, `$[${i}]`);
    if (problem !== undefined) return E.left(unsupportedAgentItem(i, problem.path, 'not_json', `not JSON (${problem.what})`));
    out.push(asJson(normalizeAgentItem(item as unknown as AgentInputItem)));
  }
  return E.right(out);
};

const convertNormalized = (items: readonly JsonObject[]): MessageInput[] => segment(items).flatMap(convertSegment);

/**
 * Items → messages (no `createdAt`: the caller stamps them). Total on JSON
 * objects; `UnsupportedAgentItem` for anything else. The result passes
 * `validateTranscriptShape` in full and converts back to the normalized items.
 */
export const itemsToMessages = (items: readonly AgentInputItem[]): E.Either<UnsupportedAgentItem, MessageInput[]> =>
  E.map(convertNormalized)(checkItems(items));

// ---------------------------------------------------------------------------
// Messages → items

const toolUseName = (prev: MessageInput | undefined, id: string): string | undefined => {
  if (prev?.role !== 'assistant') return undefined;
  for (const b of prev.content) if (b.type === 'tool_use' && b.id === id) return b.name;
  return undefined;
};

const userItem = (content: readonly ContentBlock[]): JsonObject => {
  const only = content.length === 1 ? content[0]! : undefined;
  if (only !== undefined && only.type === 'text') return { type: 'message', role: 'user', content: only.text };
  return { type: 'message', role: 'user', content: content.map(blockToInputPart) };
};

const assistantItems = (content: readonly AssistantBlock[]): JsonObject[] => {
  if (content.length === 0) return [{ type: 'message', role: 'assistant', status: 'completed', content: [] }];
  const out: JsonObject[] = [];
  let run: Array<Extract<AssistantBlock, { type: 'text' | 'transcript' }>> = [];
  const flush = (): void => {
    if (run.length === 0) return;
    const first = run[0]!;
    const parts = run.map((b) => applyResidual({ type: 'output_text', text: b.text }, b.type === 'text' ? signatureEnvelope(b.signature)?.part : undefined));
    const itemResidual = first.type === 'text' ? signatureEnvelope(first.signature)?.item : undefined;
    out.push(applyResidual({ ...ASSISTANT_BASE, content: parts }, itemResidual));
    run = [];
  };
  for (const b of content) {
    switch (b.type) {
      case 'text':
      case 'transcript':
        run.push(b);
        break;
      case 'reasoning':
        flush();
        out.push(applyResidual(reasoningBase(b.text), signatureEnvelope(b.signature)?.item));
        break;
      case 'tool_use':
        flush();
        out.push(applyResidual(callBase(b.id, b.name, b.args), signatureEnvelope(b.signature)?.item));
        break;
    }
  }
  flush();
  return out;
};

const resultItem = (r: ToolResult, prev: MessageInput | undefined): JsonObject => {
  const env = detailsEnvelope(r.details);
  const name = toolUseName(prev, r.toolUseId) ?? r.toolUseId;
  let output: Json;
  const first = r.content[0];
  if (env?.output === 'string' && r.content.length === 1 && first?.type === 'text') output = first.text;
  else if (r.isError) output = { type: 'text', text: toolResultText(r) };
  else output = defaultOutput(r.content);
  return applyResidual(resultBase(name, r.toolUseId, output), env?.item);
};

/**
 * The items of one message; `prev` is the message before it (a tool result's
 * name is its call's). Every message gives at least one item.
 */
export const messageToAgentItems = (m: MessageInput, prev: MessageInput | undefined): AgentInputItem[] => {
  switch (m.role) {
    case 'system':
      return [asItem({ type: 'message', role: 'system', content: m.text })];
    case 'system_notice':
      if (m.kind === AGENTS_ITEM_NOTICE_KIND && isObj(m.data)) return [asItem(jsonClone(m.data))];
      return [asItem({ type: 'message', role: 'system', content: noticeText(m) })];
    case 'user':
      return [asItem(userItem(m.content))];
    case 'assistant':
      return assistantItems(m.content).map(asItem);
    case 'tool_results':
      return m.results.map((r) => asItem(resultItem(r, prev)));
  }
};

/** Messages → items, in order. The items are fresh objects (nothing shared with the frozen messages). */
export const messagesToItems = (messages: readonly MessageInput[]): AgentInputItem[] => messages.flatMap((m, i) => messageToAgentItems(m, i > 0 ? messages[i - 1] : undefined));

/**
 * The most recent `limit` items in order, converting messages from the end only
 * as far as needed. `limit` follows the SDK's `MemorySession.getItems`:
 * `undefined` gives all items, `limit <= 0` none.
 */
export const lastAgentItems = (messages: readonly MessageInput[], limit?: number): AgentInputItem[] => {
  // As MemorySession: `slice(max(length - limit, 0))`, which for NaN is everything.
  if (limit === undefined || Number.isNaN(limit)) return messagesToItems(messages);
  if (limit <= 0) return [];
  const chunks: AgentInputItem[][] = [];
  let count = 0;
  for (let i = messages.length - 1; i >= 0 && count < limit; i--) {
    const items = messageToAgentItems(messages[i]!, i > 0 ? messages[i - 1] : undefined);
    chunks.push(items);
    count += items.length;
  }
  const all = chunks.reverse().flat();
  return all.slice(Math.max(all.length - limit, 0));
};

// ---------------------------------------------------------------------------
// Plans: how a change of the item list becomes one transcript command

/** What to record: nothing, an append, or a rewrite of `[start, end)` (revisions.md §3). */
export type AgentsTranscriptPlan =
  | { readonly type: 'none' }
  | { readonly type: 'append'; readonly messages: MessageInput[] }
  | { readonly type: 'rewrite'; readonly start: number; readonly end: number; readonly replacement: MessageInput[] };

const isAgentsNotice = (m: MessageInput, type: string): boolean => m.role === 'system_notice' && m.kind === AGENTS_ITEM_NOTICE_KIND && isObj(m.data) && m.data.type === type;
/** A message holding only function calls (native `tool_use`s or a call notice). */
const isCallMessage = (m: MessageInput): boolean =>
  (m.role === 'assistant' && m.content.length > 0 && m.content.every((b) => b.type === 'tool_use')) || isAgentsNotice(m, 'function_call');
/** A message holding only function call results. */
const isResultMessage = (m: MessageInput): boolean => m.role === 'tool_results' || isAgentsNotice(m, 'function_call_result');
/** An assistant message ending in tool uses after other blocks (written by others). */
const endsInToolUse = (m: MessageInput): boolean => m.role === 'assistant' && m.content.length > 0 && m.content[m.content.length - 1]!.type === 'tool_use';

/**
 * Where the last tool-call group starts: walk back over result messages, then
 * call messages (then one assistant message ending in tool uses, as another
 * writer may leave one). `messages.length` when the transcript does not end in
 * a group. Only this group can change when items are added or popped: every
 * earlier segment is final.
 */
export const lastToolGroupStart = (messages: readonly MessageInput[]): number => {
  let i = messages.length;
  while (i > 0 && isResultMessage(messages[i - 1]!)) i--;
  while (i > 0 && isCallMessage(messages[i - 1]!)) i--;
  if (i > 0 && endsInToolUse(messages[i - 1]!)) i--;
  return i;
};

/** The items of `messages[start…]` (each tool result named after its call, even across `start`). */
const itemsFrom = (messages: readonly MessageInput[], start: number): AgentInputItem[] =>
  messages.slice(start).flatMap((m, i) => messageToAgentItems(m, start + i > 0 ? messages[start + i - 1] : undefined));

const sameMessage = (a: MessageInput, b: MessageInput): boolean => transcriptDigest([a]) === transcriptDigest([b]);

/** The plan turning `messages[start…]` into `tail`: keeps the common prefix, appends when nothing old changes, else rewrites from the first difference. */
const tailPlan = (messages: readonly MessageInput[], start: number, tail: readonly MessageInput[]): AgentsTranscriptPlan => {
  const n = messages.length;
  let p = 0;
  while (start + p < n && p < tail.length && sameMessage(messages[start + p]!, tail[p]!)) p++;
  if (start + p === n) return p === tail.length ? { type: 'none' } : { type: 'append', messages: tail.slice(p) };
  return { type: 'rewrite', start: start + p, end: n, replacement: tail.slice(p) };
};

/**
 * The plan for `addItems(items)` on a transcript: the new items' messages are
 * appended, unless the first new item continues the last tool-call group (a
 * result, or a call while the group has no result yet); then that group is
 * converted again with the new items and only what differs is rewritten (e.g.
 * the notices of pending calls become the native `tool_use` / `tool_results`
 * pair once their results arrive). Applying the plans of successive calls
 * gives the same transcript as `itemsToMessages` of all items at once.
 */
export const planAgentsAddItems = (messages: readonly MessageInput[], items: readonly AgentInputItem[]): E.Either<UnsupportedAgentItem, AgentsTranscriptPlan> => {
  const checked = checkItems(items);
  if (E.isLeft(checked)) return checked;
  const fresh = checked.right;
  if (fresh.length === 0) return E.right({ type: 'none' });
  const n = messages.length;
  const start = lastToolGroupStart(messages);
  const first = fresh[0]!;
  if (start < n) {
    const tail = itemsFrom(messages, start).map(asJson);
    const continues = isResult(first) || (isCall(first) && !tail.some(isResult));
    if (continues) return E.right(tailPlan(messages, start, convertNormalized([...tail, ...fresh])));
  }
  return E.right({ type: 'append', messages: convertNormalized(fresh) });
};

/**
 * The plan for `popItem()`: the most recent item and the rewrite that removes
 * it (the last group, or the last message, converted again without it).
 * `undefined` on an empty transcript.
 */
export const planAgentsPopItem = (messages: readonly MessageInput[]): { readonly item: AgentInputItem; readonly plan: AgentsTranscriptPlan } | undefined => {
  const n = messages.length;
  if (n === 0) return undefined;
  let start = lastToolGroupStart(messages);
  if (start === n) start = n - 1;
  const tail = itemsFrom(messages, start);
  const item = tail[tail.length - 1]!;
  const rest = tail.slice(0, -1).map(asJson);
  const plan = tailPlan(messages, start, convertNormalized(rest));
  // Removing an item always changes the transcript; a foreign message that
  // reconverts digest-equal would hide that, so rewrite the whole tail then.
  if (plan.type !== 'rewrite') return { item, plan: { type: 'rewrite', start, end: n, replacement: convertNormalized(rest) } };
  return { item, plan };
};

/** The plan for `clearSession()`: a rewrite of everything to `[]`, or nothing when already empty. */
export const planAgentsClear = (messages: readonly MessageInput[]): AgentsTranscriptPlan =>
  messages.length === 0 ? { type: 'none' } : { type: 'rewrite', start: 0, end: messages.length, replacement: [] };

/** Applies a plan to a message list (pure; for tests and previews). */
export const applyAgentsPlan = <M extends MessageInput>(messages: readonly M[], plan: AgentsTranscriptPlan): MessageInput[] => {
  switch (plan.type) {
    case 'none':
      return [...messages];
    case 'append':
      return [...messages, ...plan.messages];
    case 'rewrite':
      return [...messages.slice(0, plan.start), ...plan.replacement, ...messages.slice(plan.end)];
  }
};


/**
 * Whether a transcript may be cut before message `i` for re-conversion: the
 * items of `messages[i…]` convert alone to the same messages. Not inside a
 * tool-call group: not before a result message, not between two call messages.
 */
const cutsCleanly = (messages: readonly MessageInput[], i: number): boolean => {
  if (i === 0 || i >= messages.length) return true;
  const m = messages[i]!;
  if (isResultMessage(m)) return false;
  const prev = messages[i - 1]!;
  return !(isCallMessage(m) && (isCallMessage(prev) || endsInToolUse(prev)));
};

/** The last `expectedSuffix.length` items are not `expectedSuffix` (after `normalizeAgentItem` on both sides). */
export interface HistorySuffixMismatch {
  readonly _tag: 'HistorySuffixMismatch';
  /** Items expected at the end. */
  readonly expected: number;
  /** Items the session holds. */
  readonly stored: number;
  readonly message: string;
}

const suffixMismatch = (expected: number, stored: number, detail: string): HistorySuffixMismatch => ({
  _tag: 'HistorySuffixMismatch',
  expected,
  stored,
  message: `Session history suffix no longer matches the transaction precondition: ${detail}`,
});

/**
 * The plan for a `replace_suffix` transaction: when the last
 * `expectedSuffix.length` items equal `expectedSuffix` (normalized, compared as
 * canonical JSON), replace them with `replacement`. Only the tail is converted
 * again: from the earliest of the suffix's first message and the last tool-call
 * group, moved back to a clean cut, so the result equals converting the whole
 * new item list. `append_items` is `expectedSuffix = []`.
 */
export const planAgentsReplaceSuffix = (
  messages: readonly MessageInput[],
  expectedSuffix: readonly AgentInputItem[],
  replacement: readonly AgentInputItem[],
): E.Either<UnsupportedAgentItem | HistorySuffixMismatch, AgentsTranscriptPlan> => {
  const expected = checkItems(expectedSuffix);
  if (E.isLeft(expected)) return expected;
  const fresh = checkItems(replacement);
  if (E.isLeft(fresh)) return fresh;
  const k = expected.right.length;
  let start = messages.length;
  let count = 0;
  while (start > 0 && count < k) {
    start--;
    count += messageToAgentItems(messages[start]!, start > 0 ? messages[start - 1] : undefined).length;
  }
  start = Math.min(start, lastToolGroupStart(messages));
  while (!cutsCleanly(messages, start)) start--;
  const tail = itemsFrom(messages, start).map(asJson);
  if (tail.length < k) return E.left(suffixMismatch(k, tail.length, `${k} items expected, the session holds ${tail.length}`));
  const stored = tail.slice(tail.length - k);
  if (canonicalJsonUnsafe(stored) !== canonicalJsonUnsafe(expected.right)) return E.left(suffixMismatch(k, k, `the last ${k} items differ`));
  return E.right(tailPlan(messages, start, convertNormalized([...tail.slice(0, tail.length - k), ...fresh.right])));
};

/** The plan replacing the whole item list with `items`: a rewrite from the first message that changes (or nothing). */
export const planAgentsReplaceAll = (messages: readonly MessageInput[], items: readonly AgentInputItem[]): E.Either<UnsupportedAgentItem, AgentsTranscriptPlan> =>
  E.map((fresh: JsonObject[]) => tailPlan(messages, 0, convertNormalized(fresh)))(checkItems(items));
