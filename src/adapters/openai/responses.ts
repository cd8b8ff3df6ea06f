/**
 * OpenAI Responses API ⇄ palimpsest messages (pure).
 *
 * Continuity tokens (`signature`, model.md §3.2) carry what replaying a turn
 * through the Responses API needs, losslessly:
 *
 * | block | `signature` |
 * | --- | --- |
 * | `text` | the id of the output `message` item it came from (`msg_…`); the parts of one item share it |
 * | `reasoning` | `JSON.stringify` of the whole `reasoning` output item as received (`{ id, type, summary, encrypted_content?, content?, status? }`), so `id` and `encrypted_content` (and the summary) go back byte for byte |
 * | `tool_use` | the id of the `function_call` item (`fc_…`), when it had one |
 *
 * Signatures are interpreted only on assistant messages whose `origin.api` is
 * `'openai-responses'`; other providers' signatures (an Anthropic thinking
 * signature, a pi text signature) are never sent as OpenAI ids.
 *
 * With `store: false` (the option mirrors the request's `store` field) the server
 * kept none of the earlier items, and an input item naming an id it does not hold
 * is refused ("Item with id 'rs_…' not found. Items are not persisted when `store`
 * is set to false"). Then: a reasoning item without `encrypted_content` is dropped
 * (it only points at server state), one with `encrypted_content` is sent (the
 * stateless way to carry reasoning forward; request `include:
 * ['reasoning.encrypted_content']`), signed text goes as plain assistant messages
 * without the `msg_…` id, and `function_call` items go without their `fc_…` id
 * (`call_id` stays, so outputs still pair with calls).
 *
 * Messages → input items (`toResponsesInput`):
 *
 * | palimpsest | Responses input |
 * | --- | --- |
 * | `system` | `{ type: 'message', role: 'developer', content: text }` (`systemRole: 'system'` to send `system`): the Responses API's role for application instructions |
 * | `system_notice` | the same role, `content: "[notice <kind>] <text>"`; `data` is not sent |
 * | `user` with exactly one text block | `{ type: 'message', role: 'user', content: text }` |
 * | other `user` | `content` parts: text → `input_text`; image → `input_image { detail: 'auto', image_url }` (inline → `data:` URL, blob → `resolveBlob`, else `UnresolvedBlob`); structured → `input_text` with canonical JSON |
 * | `assistant` `text` blocks with a signature | consecutive blocks with the same signature → one output `message` item `{ id: signature, role: 'assistant', status: 'completed', content: output_text parts }` |
 * | other `text`, `transcript` blocks | `{ type: 'message', role: 'assistant', content: text }`, one per non-empty block |
 * | `reasoning` with a reasoning-item signature | that item, verbatim |
 * | other `reasoning` | dropped (the API takes reasoning only as its own items) |
 * | `tool_use` | `{ type: 'function_call', call_id: id, name, arguments: formatToolArguments(args), id?: signature }` |
 * | `tool_results` | one `{ type: 'function_call_output', call_id, output }` per result: `output` = `toolResultText` (text, canonical JSON, `[tool error] ` prefix when `isError`), or, when the result holds images, a list of `input_text` / `input_image` parts (the error prefix as a leading `input_text`); `details` is not sent |
 *
 * Response → message (`fromResponse`, `accumulateResponseStream`), output items in order:
 *
 * | Responses output | palimpsest |
 * | --- | --- |
 * | `message` `output_text` / `refusal` parts | `text` blocks (`signature` = item id) |
 * | `reasoning` | `reasoning { text, signature }`: `text` = the `reasoning_text` contents joined with `"\n\n"`, or else the summary texts joined with `"\n\n"` (`''` for encrypted-only reasoning) |
 * | `function_call` | `tool_use { id: call_id, name, args: parseToolArguments(arguments), signature?: id }` |
 * | `custom_tool_call` | `tool_use { id: call_id, name, args: input }` (sent back as a `function_call`) |
 * | hosted tool items (`web_search_call`, `file_search_call`, `mcp_call`, …) | dropped: the server ran them and the following text carries their outcome |
 * | `status` `completed` | `tool_use` if the output holds a `function_call` or `custom_tool_call`, else `end_turn` |
 * | `status` `incomplete` | `incomplete_details.reason` `max_output_tokens` → `max_tokens`, `content_filter` → `content_filter`, else `end_turn` (as realtime.md §8) |
 * | `status` `failed` | `error`, `errorMessage` = `error.message` (or `response failed`) |
 * | `status` `cancelled` | `cancelled` |
 * | `status` `in_progress`, `queued` | `MalformedResponse` at `$.status` (not finished) |
 * | no `status` | `failed` if `error` is set, `incomplete` if `incomplete_details` is set, else `completed` |
 * | `usage.input_tokens` / `output_tokens` / `input_tokens_details.cached_tokens` | `inputTokens` / `outputTokens` / `cacheReadTokens` |
 * | `id`, `model` | `origin { provider: 'openai', model, api: 'openai-responses', responseId: id }` |
 *
 * Sources: the wire shapes are the `openai@6.49` SDK types
 * (`resources/responses/responses`); `args` ⇄ `arguments` follows model.md §3.2,
 * `signature` model.md §3.2, usage model.md §4, the `incomplete` mapping
 * realtime.md §8. Palimpsest decisions (not in the spec): the signature
 * conventions above and their `origin.api` guard, `developer` as the default
 * role, `failed` → `error` (a Responses call that failed is an error turn; the
 * realtime machine's `cancelled` is about not committing partial speech), the
 * status inference when `status` is absent, and dropping hosted tool items.
 */
import * as E from 'fp-ts/lib/Either.js';
import type {
  EasyInputMessage,
  ResponseFunctionCallOutputItemList,
  ResponseFunctionToolCall,
  ResponseInputContent,
  ResponseInputItem,
  ResponseOutputMessage,
  ResponseOutputText,
  ResponseReasoningItem,
} from 'openai/resources/responses/responses';
import { arrayOf, codec, nonEmptyStr, oneOf, str, type Codec } from '../../model/decode.ts';
import type { AssistantBlock, ContentBlock, StopReason, ToolResult } from '../../model/content.ts';
import { canonicalJsonUnsafe } from '../../model/json.ts';
import { decodeMessageInput, type AssistantMessage, type Message, type Origin } from '../../model/message.ts';
import { assistantMessage, outputText, reasoning, toolUse } from '../../model/constructors.ts';
import { hasImages } from '../../model/projections.ts';
import type { Usage } from '../../model/usage.ts';
import {
  anyObject,
  count,
  decodeWire,
  deltaStr,
  formatToolArguments,
  imageUrl,
  isObject,
  loose,
  mapCodec,
  noticeText,
  openAIUsage,
  orNull,
  parseToolArguments,
  TOOL_ERROR_PREFIX,
  toolResultText,
  underPath,
  type AssistantMessageInput,
  type AssistantTurn,
  type FromWireOptions,
  type ToWireOptions,
} from './common.ts';
import {
  incompleteStream,
  malformedResponse,
  malformedStreamEvent,
  streamFailed,
  type IncompleteStream,
  type MalformedResponse,
  type MalformedStreamEvent,
  type StreamFailed,
  type UnresolvedBlob,
} from './errors.ts';

/** `origin.api` of turns produced through the Responses API. */
export const RESPONSES_API = 'openai-responses';

// ---------------------------------------------------------------------------
// Messages → input items

/** Options of `toResponsesInput`. */
export interface ToResponsesOptions extends ToWireOptions {
  /** Role of `system` and `system_notice` messages (default `'developer'`). */
  readonly systemRole?: 'developer' | 'system';
  /**
   * The `store` field of the request the items go into (default `true`, the API's
   * default). `false`: send no server-side item ids (module doc).
   */
  readonly store?: boolean;
}

const inputParts = (blocks: readonly ContentBlock[], path: string, opts: ToWireOptions | undefined): E.Either<UnresolvedBlob, ResponseInputContent[]> => {
  const parts: ResponseInputContent[] = [];
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i]!;
    switch (b.type) {
      case 'text':
        parts.push({ type: 'input_text', text: b.text });
        break;
      case 'structured':
        parts.push({ type: 'input_text', text: canonicalJsonUnsafe(b.data) });
        break;
      case 'image': {
        const url = imageUrl(b, `${path}[${i}]`, opts);
        if (E.isLeft(url)) return url;
        parts.push({ type: 'input_image', detail: 'auto', image_url: url.right });
        break;
      }
    }
  }
  return E.right(parts);
};

const toolOutput = (r: ToolResult, path: string, opts: ToWireOptions | undefined): E.Either<UnresolvedBlob, string | ResponseFunctionCallOutputItemList> => {
  if (!hasImages(r.content)) return E.right(toolResultText(r));
  const parts = inputParts(r.content, `${path}.content`, opts);
  if (E.isLeft(parts)) return parts;
  const list: ResponseFunctionCallOutputItemList = [];
  if (r.isError) list.push({ type: 'input_text', text: TOOL_ERROR_PREFIX });
  for (const p of parts.right) {
    if (p.type === 'input_text') list.push({ type: 'input_text', text: p.text });
    else if (p.type === 'input_image') list.push({ type: 'input_image', detail: p.detail, image_url: p.image_url ?? null });
  }
  return E.right(list);
};

/**
 * The reasoning item a signature holds (this module's convention), or
 * `undefined` when the signature is not one (then the block is not sent).
 */
export const reasoningItemOfSignature = (signature: string): ResponseReasoningItem | undefined => {
  let v: unknown;
  try {
    v = JSON.parse(signature);
  } catch {
    return undefined;
  }
  if (!isObject(v) || v['type'] !== 'reasoning' || typeof v['id'] !== 'string' || v['id'] === '' || !Array.isArray(v['summary'])) return undefined;
  return v as unknown as ResponseReasoningItem;
};

const assistantItems = (m: AssistantMessage, store: boolean): ResponseInputItem[] => {
  const signed = m.origin?.api === RESPONSES_API;
  const out: ResponseInputItem[] = [];
  let open: ResponseOutputMessage | undefined;
  for (const b of m.content) {
    if (b.type === 'text' && signed && store && b.signature !== undefined && b.signature !== '') {
      const part: ResponseOutputText = { type: 'output_text', text: b.text, annotations: [] };
      if (open !== undefined && open.id === b.signature) {
        open.content.push(part);
      } else {
        open = { type: 'message', role: 'assistant', id: b.signature, status: 'completed', content: [part] };
        out.push(open);
      }
      continue;
    }
    open = undefined;
    switch (b.type) {
      case 'text':
      case 'transcript':
        if (b.text !== '') out.push({ type: 'message', role: 'assistant', content: b.text } satisfies EasyInputMessage);
        break;
      case 'reasoning': {
        const item = signed && b.signature !== undefined ? reasoningItemOfSignature(b.signature) : undefined;
        if (item !== undefined && (store || (typeof item.encrypted_content === 'string' && item.encrypted_content !== ''))) out.push(item);
        break;
      }
      case 'tool_use': {
        const call: ResponseFunctionToolCall = { type: 'function_call', call_id: b.id, name: b.name, arguments: formatToolArguments(b.args) };
        if (signed && store && b.signature !== undefined && b.signature !== '') call.id = b.signature;
        out.push(call);
        break;
      }
    }
  }
  return out;
};

/**
 * Converts a transcript to Responses `input` items (table in the module doc).
 * Total on valid messages except for blob images without a resolver
 * (`UnresolvedBlob { blobId, path }`).
 */
export const toResponsesInput = (messages: readonly Message[], opts?: ToResponsesOptions): E.Either<UnresolvedBlob, ResponseInputItem[]> => {
  const role = opts?.systemRole ?? 'developer';
  const out: ResponseInputItem[] = [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    switch (m.role) {
      case 'system':
        out.push({ type: 'message', role, content: m.text });
        break;
      case 'system_notice':
        out.push({ type: 'message', role, content: noticeText(m) });
        break;
      case 'user': {
        const only = m.content[0];
        if (m.content.length === 1 && only?.type === 'text') {
          out.push({ type: 'message', role: 'user', content: only.text });
          break;
        }
        const parts = inputParts(m.content, `$[${i}].content`, opts);
        if (E.isLeft(parts)) return parts;
        out.push({ type: 'message', role: 'user', content: parts.right });
        break;
      }
      case 'assistant':
        out.push(...assistantItems(m, opts?.store ?? true));
        break;
      case 'tool_results':
        for (let j = 0; j < m.results.length; j++) {
          const r = m.results[j]!;
          const output = toolOutput(r, `$[${i}].results[${j}]`, opts);
          if (E.isLeft(output)) return output;
          out.push({ type: 'function_call_output', call_id: r.toolUseId, output: output.right });
        }
        break;
    }
  }
  return E.right(out);
};

// ---------------------------------------------------------------------------
// Response → message

type OutputBlock = { readonly block: AssistantBlock; readonly call: boolean };

const textPart: Codec<string | undefined> = codec('ResponseOutputMessage.content', (u, c) => {
  if (isObject(u) && u['type'] === 'output_text') return mapCodec(loose('ResponseOutputText', { text: str }), (p) => p.text).validate(u, c);
  if (isObject(u) && u['type'] === 'refusal') return mapCodec(loose('ResponseOutputRefusal', { refusal: str }), (p) => p.refusal).validate(u, c);
  return mapCodec(anyObject, () => undefined).validate(u, c);
});

const MessageItem = loose('ResponseOutputMessage', { id: str, content: arrayOf(textPart) });
const FunctionCallItem = loose('ResponseFunctionToolCall', { call_id: nonEmptyStr, name: nonEmptyStr, arguments: str }, { id: orNull(str) });
const CustomCallItem = loose('ResponseCustomToolCall', { call_id: nonEmptyStr, name: nonEmptyStr, input: str });
const TextList = arrayOf(loose('Text', { text: str }));
const ReasoningItem = loose('ResponseReasoningItem', { id: nonEmptyStr, summary: TextList }, { content: orNull(TextList), encrypted_content: orNull(str) });

const OutputItem: Codec<OutputBlock[]> = codec('ResponseOutputItem', (u, c) => {
  const type = isObject(u) ? u['type'] : undefined;
  switch (type) {
    case 'message':
      return mapCodec(MessageItem, (m) =>
        m.content.flatMap((text): OutputBlock[] => (text === undefined ? [] : [{ block: outputText(text, m.id === '' ? undefined : m.id), call: false }])),
      ).validate(u, c);
    case 'function_call':
      return mapCodec(FunctionCallItem, (f): OutputBlock[] => [
        { block: toolUse(f.call_id, f.name, parseToolArguments(f.arguments), typeof f.id === 'string' && f.id !== '' ? f.id : undefined), call: true },
      ]).validate(u, c);
    case 'custom_tool_call':
      return mapCodec(CustomCallItem, (f): OutputBlock[] => [{ block: toolUse(f.call_id, f.name, f.input), call: true }]).validate(u, c);
    case 'reasoning':
      return mapCodec(ReasoningItem, (r): OutputBlock[] => {
        const texts = (r.content ?? []).length > 0 ? (r.content ?? []) : r.summary;
        return [{ block: reasoning(texts.map((x) => x.text).join('\n\n'), JSON.stringify(u)), call: false }];
      }).validate(u, c);
    default:
      return mapCodec(loose('ResponseOutputItem', { type: str }), (): OutputBlock[] => []).validate(u, c);
  }
});

const Status = oneOf('ResponseStatus', ['completed', 'failed', 'in_progress', 'cancelled', 'queued', 'incomplete'] as const);
const ResponseUsage = loose(
  'ResponseUsage',
  { input_tokens: count, output_tokens: count },
  { input_tokens_details: orNull(loose('InputTokensDetails', {}, { cached_tokens: orNull(count) })) },
);
const ResponseWire = loose(
  'Response',
  { id: str, model: nonEmptyStr, output: arrayOf(OutputItem) },
  {
    status: Status,
    incomplete_details: orNull(loose('IncompleteDetails', {}, { reason: orNull(str) })),
    error: orNull(loose('ResponseError', {}, { message: orNull(str), code: orNull(str) })),
    usage: orNull(ResponseUsage),
  },
);

/** Options of `fromResponse` and `accumulateResponseStream`. */
export type FromResponsesOptions = FromWireOptions;

/**
 * Converts a Responses API `Response` (as received: `unknown`, decoded
 * defensively) to an assistant message, its usage and stop reason (table in the
 * module doc). Never throws: a value that is not the wire shape, or a response
 * that has not finished (`in_progress`, `queued`), is `MalformedResponse { path }`.
 */
export const fromResponse = (response: unknown, opts?: FromResponsesOptions): E.Either<MalformedResponse, AssistantTurn> => {
  const decoded = decodeWire(ResponseWire, response);
  if (E.isLeft(decoded)) return E.left(malformedResponse(decoded.left.path, decoded.left.message));
  const r = decoded.right;
  const outputs = r.output.flat();
  const status = r.status ?? (r.error ? 'failed' : r.incomplete_details ? 'incomplete' : 'completed');
  let stopReason: StopReason;
  let errorMessage: string | undefined;
  switch (status) {
    case 'completed':
      stopReason = outputs.some((o) => o.call) ? 'tool_use' : 'end_turn';
      break;
    case 'incomplete': {
      const reason = r.incomplete_details?.reason;
      stopReason = reason === 'max_output_tokens' ? 'max_tokens' : reason === 'content_filter' ? 'content_filter' : 'end_turn';
      break;
    }
    case 'failed':
      stopReason = 'error';
      errorMessage = typeof r.error?.message === 'string' && r.error.message !== '' ? r.error.message : 'response failed';
      break;
    case 'cancelled':
      stopReason = 'cancelled';
      break;
    case 'in_progress':
    case 'queued':
      return E.left(malformedResponse('$.status', `the response has not finished (status ${status})`));
  }
  let usage: Usage | undefined;
  if (r.usage) {
    const u = openAIUsage(r.usage.input_tokens, r.usage.output_tokens, r.usage.input_tokens_details?.cached_tokens);
    if (E.isLeft(u)) return E.left(malformedResponse('$.usage.input_tokens_details.cached_tokens', u.left));
    usage = u.right;
  }
  const origin: Origin = { provider: opts?.provider ?? 'openai', model: r.model, api: RESPONSES_API, ...(r.id !== '' ? { responseId: r.id } : {}) };
  const built = assistantMessage(
    outputs.map((o) => o.block),
    stopReason,
    { origin, ...(usage ? { usage } : {}), ...(errorMessage !== undefined ? { errorMessage } : {}) },
  );
  const checked = decodeMessageInput(built);
  if (E.isLeft(checked)) return E.left(malformedResponse('$', `the response does not make a valid assistant message: ${checked.left.message}`));
  const message = checked.right as AssistantMessageInput;
  return E.right(usage ? { message, usage, stopReason } : { message, stopReason });
};

// ---------------------------------------------------------------------------
// Streaming

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);
const EventHead = loose('ResponseStreamEvent', { type: str });
const Terminal = loose('ResponseTerminalEvent', { response: anyObject });
const ItemEvent = loose('ResponseOutputItemEvent', { output_index: count, item: loose('ResponseOutputItem', { type: str }) });
const ItemEventRaw = loose('ResponseOutputItemEvent', { item: anyObject });
const PartDelta = loose('ResponseContentDeltaEvent', { output_index: count, content_index: count, delta: deltaStr });
const ArgsDelta = loose('ResponseFunctionCallArgumentsDeltaEvent', { output_index: count, delta: deltaStr });
const SummaryDelta = loose('ResponseReasoningSummaryTextDeltaEvent', { output_index: count, summary_index: count, delta: deltaStr });
const ErrorEvent = loose('ResponseErrorEvent', { message: str }, { code: orNull(str) });

type Draft = Record<string, unknown>;

const appendTo = (list: unknown, index: number, type: string, field: string, delta: string): unknown[] => {
  const arr = Array.isArray(list) ? [...(list as unknown[])] : [];
  const cur = arr[index];
  const base: Draft = isObject(cur) ? { ...cur } : { type, [field]: '' };
  base[field] = (typeof base[field] === 'string' ? (base[field] as string) : '') + delta;
  arr[index] = base;
  return arr;
};

/**
 * Folds a Responses stream (`stream: true` events, as `unknown`) into the same
 * result as `fromResponse`. The terminal event (`response.completed`,
 * `response.incomplete` or `response.failed`) carries the full response, which is
 * authoritative; reading stops there. The output items are also assembled from
 * `response.output_item.added`/`.done`, `response.output_text.delta`,
 * `response.refusal.delta`, `response.function_call_arguments.delta`,
 * `response.reasoning_summary_text.delta` and `response.reasoning_text.delta`
 * (by `output_index`, then `content_index` / `summary_index`), and used only when
 * the terminal response's `output` is empty. Other events are ignored.
 *
 * Errors (never a throw): an event that is not the wire shape (or a delta for an
 * output index no `output_item.added` announced) is `MalformedStreamEvent
 * { index, path }` — a malformed terminal response included, its path under
 * `$.response`; an `error` event is `StreamFailed { code?, message }`; the iterable
 * throwing is `StreamFailed`; a stream without a terminal event is `IncompleteStream`.
 */
export const accumulateResponseStream = async (
  events: AsyncIterable<unknown> | Iterable<unknown>,
  opts?: FromResponsesOptions,
): Promise<E.Either<MalformedStreamEvent | IncompleteStream | StreamFailed, AssistantTurn>> => {
  const items: Draft[] = [];
  let index = 0;
  let terminal: { index: number; response: Draft } | undefined;
  const bad = (path: string, message: string) => E.left(malformedStreamEvent(index, path, message));
  try {
    for await (const raw of events as AsyncIterable<unknown>) {
      const head = decodeWire(EventHead, raw);
      if (E.isLeft(head)) return bad(head.left.path, head.left.message);
      const type = head.right.type;
      if (TERMINAL.has(type)) {
        const t = decodeWire(Terminal, raw);
        if (E.isLeft(t)) return bad(t.left.path, t.left.message);
        terminal = { index, response: t.right.response };
        break;
      }
      switch (type) {
        case 'error': {
          const e = decodeWire(ErrorEvent, raw);
          if (E.isLeft(e)) return bad(e.left.path, e.left.message);
          return E.left(streamFailed(`the provider reported an error: ${e.right.message}`, typeof e.right.code === 'string' ? e.right.code : undefined));
        }
        case 'response.output_item.added':
        case 'response.output_item.done': {
          const e = decodeWire(ItemEvent, raw);
          if (E.isLeft(e)) return bad(e.left.path, e.left.message);
          const rawItem = decodeWire(ItemEventRaw, raw);
          if (E.isRight(rawItem)) items[e.right.output_index] = { ...rawItem.right.item };
          break;
        }
        case 'response.output_text.delta':
        case 'response.refusal.delta':
        case 'response.reasoning_text.delta': {
          const e = decodeWire(PartDelta, raw);
          if (E.isLeft(e)) return bad(e.left.path, e.left.message);
          const item = items[e.right.output_index];
          if (item === undefined) return bad('$.output_index', `no output item ${e.right.output_index} was announced`);
          const [partType, field, list] =
            type === 'response.output_text.delta'
              ? ['output_text', 'text', 'content']
              : type === 'response.refusal.delta'
                ? ['refusal', 'refusal', 'content']
                : ['reasoning_text', 'text', 'content'];
          const next = appendTo(item[list], e.right.content_index, partType, field, e.right.delta);
          if (partType === 'output_text') {
            const part = next[e.right.content_index] as Draft;
            if (!Array.isArray(part['annotations'])) part['annotations'] = [];
          }
          items[e.right.output_index] = { ...item, [list]: next };
          break;
        }
        case 'response.reasoning_summary_text.delta': {
          const e = decodeWire(SummaryDelta, raw);
          if (E.isLeft(e)) return bad(e.left.path, e.left.message);
          const item = items[e.right.output_index];
          if (item === undefined) return bad('$.output_index', `no output item ${e.right.output_index} was announced`);
          items[e.right.output_index] = { ...item, summary: appendTo(item['summary'], e.right.summary_index, 'summary_text', 'text', e.right.delta) };
          break;
        }
        case 'response.function_call_arguments.delta': {
          const e = decodeWire(ArgsDelta, raw);
          if (E.isLeft(e)) return bad(e.left.path, e.left.message);
          const item = items[e.right.output_index];
          if (item === undefined) return bad('$.output_index', `no output item ${e.right.output_index} was announced`);
          items[e.right.output_index] = { ...item, arguments: (typeof item['arguments'] === 'string' ? item['arguments'] : '') + e.right.delta };
          break;
        }
        default:
          break;
      }
      index++;
    }
  } catch (e) {
    return E.left(streamFailed(`the event stream failed after ${index} event(s): ${e instanceof Error ? e.message : String(e)}`));
  }
  if (terminal === undefined) return E.left(incompleteStream(index, `the stream ended after ${index} event(s) without response.completed, .incomplete or .failed`));
  const output = terminal.response['output'];
  const assembled = items.filter((x): x is Draft => x !== undefined);
  const response = (!Array.isArray(output) || output.length === 0) && assembled.length > 0 ? { ...terminal.response, output: assembled } : terminal.response;
  const r = fromResponse(response, opts);
  if (E.isLeft(r)) return E.left(malformedStreamEvent(terminal.index, underPath('$.response', r.left.path), r.left.message));
  return r;
};
