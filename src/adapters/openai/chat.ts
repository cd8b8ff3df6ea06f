/**
 * OpenAI Chat Completions ⇄ palimpsest messages (pure).
 *
 * Messages → wire (`toChatMessages`):
 *
 * | palimpsest | Chat Completions |
 * | --- | --- |
 * | `system` | `{ role: 'system', content: text }` (`systemRole: 'developer'` to send `developer`) |
 * | `system_notice` | the same role, `content: "[notice <kind>] <text>"`; `data` is not sent |
 * | `user` with exactly one text block | `{ role: 'user', content: text }` (every `transcriptRole`) |
 * | other `user` | `content` parts: text → `text`; image → `image_url` (inline → `data:` URL, blob → `resolveBlob`, else `UnresolvedBlob`); structured → `text` with canonical JSON |
 * | `assistant` | `content`: the non-empty `text` and `transcript` texts joined with `"\n"` (model.md `assistantVisibleText`); `null` when empty and the turn has tool calls, `''` when it has neither; `tool_calls`: one `function` call per `tool_use` (`id`, `name`, `arguments` = `formatToolArguments(args)`); `reasoning` blocks and every `signature` are dropped (Chat has no field for them) |
 * | `tool_results` | one `{ role: 'tool', tool_call_id, content }` per result, in order; `content` = `toolResultText` (text, canonical JSON for structured data, `[image: <mediaType>]` for images, `[tool error] ` prefix when `isError`); `details` is not sent |
 *
 * Wire → message (`fromChatCompletion`, `accumulateChatStream`), choice 0 only:
 *
 * | Chat Completions | palimpsest |
 * | --- | --- |
 * | `message.content` (non-empty) | a `text` block |
 * | `message.refusal` (non-empty) | a `text` block after the content (the refusal is what the model said) |
 * | `tool_calls[]` `function` | `tool_use { id, name, args: parseToolArguments(arguments) }` (non-JSON arguments kept as a JSON string) |
 * | `tool_calls[]` `custom` | `tool_use { id, name, args: input }` (the free-form input string) |
 * | legacy `function_call` | `tool_use { id: "<response id>:function_call", name, args }` |
 * | `finish_reason` `stop` / `length` / `tool_calls`, `function_call` / `content_filter` | `end_turn` / `max_tokens` / `tool_use` / `content_filter` |
 * | `usage.prompt_tokens` / `completion_tokens` / `prompt_tokens_details.cached_tokens` | `inputTokens` / `outputTokens` / `cacheReadTokens` (cached ≤ prompt, else `MalformedResponse`); `cache_write_tokens` is not mapped (the SDK calls it "unadjusted", not a subset count model.md §4 can hold) |
 * | `id`, `model` | `origin { provider: 'openai', model, api: 'openai-chat-completions', responseId: id }` (`responseId` omitted when `id` is empty) |
 *
 * Block order: text, refusal, then the tool calls in wire order.
 *
 * Sources: the wire shapes are the `openai@6.49` SDK types
 * (`resources/chat/completions`); `args` ⇄ `arguments` follows model.md §3.2, the
 * usage mapping model.md §4, the projections model.md §5. Palimpsest decisions
 * (not in the spec): `system` as the default role, the notice prefix, one string
 * for single-text user messages, visible text joined with `"\n"`, the
 * `[tool error]` prefix, refusal as text, custom and legacy calls, choice 0 only,
 * and an unknown `finish_reason` being an error.
 */
import * as E from 'fp-ts/lib/Either.js';
import type {
  ChatCompletionContentPart,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { arrayOf, codec, literal, nonEmptyStr, oneOf, str, type Codec } from '../../model/decode.ts';
import type { AssistantBlock, ContentBlock, StopReason } from '../../model/content.ts';
import { canonicalJsonUnsafe } from '../../model/json.ts';
import { decodeMessageInput, type Message, type Origin } from '../../model/message.ts';
import { assistantMessage, outputText, toolUse } from '../../model/constructors.ts';
import { assistantVisibleText, toolUses } from '../../model/projections.ts';
import type { Usage } from '../../model/usage.ts';
import {
  count,
  deltaStr,
  mapCodec,
  decodeWire,
  firstOf,
  formatToolArguments,
  imageUrl,
  isObject,
  loose,
  noticeText,
  openAIUsage,
  orNull,
  parseToolArguments,
  toolResultText,
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

/** `origin.api` of turns produced through Chat Completions. */
export const CHAT_COMPLETIONS_API = 'openai-chat-completions';

// ---------------------------------------------------------------------------
// Messages → wire

/** Options of `toChatMessages`. */
export interface ToChatOptions extends ToWireOptions {
  /** Role of `system` and `system_notice` messages (default `'system'`; newer models also take `'developer'`). */
  readonly systemRole?: 'system' | 'developer';
}

const userContent = (
  blocks: readonly ContentBlock[],
  path: string,
  opts: ToChatOptions | undefined,
): E.Either<UnresolvedBlob, string | ChatCompletionContentPart[]> => {
  const only = blocks[0];
  if (blocks.length === 1 && only?.type === 'text') return E.right(only.text);
  const parts: ChatCompletionContentPart[] = [];
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i]!;
    switch (b.type) {
      case 'text':
        parts.push({ type: 'text', text: b.text });
        break;
      case 'structured':
        parts.push({ type: 'text', text: canonicalJsonUnsafe(b.data) });
        break;
      case 'image': {
        const url = imageUrl(b, `${path}[${i}]`, opts);
        if (E.isLeft(url)) return url;
        parts.push({ type: 'image_url', image_url: { url: url.right } });
        break;
      }
    }
  }
  return E.right(parts);
};

/**
 * Converts a transcript to Chat Completions `messages` (table in the module doc).
 * Total on valid messages except for blob images without a resolver
 * (`UnresolvedBlob { blobId, path }`, `path` like `$[2].content[0]`). The output
 * has one entry per message, except `tool_results` (one `tool` message per result).
 */
export const toChatMessages = (messages: readonly Message[], opts?: ToChatOptions): E.Either<UnresolvedBlob, ChatCompletionMessageParam[]> => {
  const systemRole = opts?.systemRole ?? 'system';
  const out: ChatCompletionMessageParam[] = [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    switch (m.role) {
      case 'system':
        out.push({ role: systemRole, content: m.text });
        break;
      case 'system_notice':
        out.push({ role: systemRole, content: noticeText(m) });
        break;
      case 'user': {
        const content = userContent(m.content, `$[${i}].content`, opts);
        if (E.isLeft(content)) return content;
        out.push({ role: 'user', content: content.right });
        break;
      }
      case 'assistant': {
        const text = assistantVisibleText(m);
        const calls = toolUses(m).map(
          (u): ChatCompletionMessageFunctionToolCall => ({ id: u.id, type: 'function', function: { name: u.name, arguments: formatToolArguments(u.args) } }),
        );
        if (calls.length === 0) out.push({ role: 'assistant', content: text });
        else out.push({ role: 'assistant', content: text === '' ? null : text, tool_calls: calls });
        break;
      }
      case 'tool_results':
        for (const r of m.results) out.push({ role: 'tool', tool_call_id: r.toolUseId, content: toolResultText(r) });
        break;
    }
  }
  return E.right(out);
};

// ---------------------------------------------------------------------------
// Wire → message

const FinishReason = oneOf('finish_reason', ['stop', 'length', 'tool_calls', 'function_call', 'content_filter'] as const);
type FinishReason = 'stop' | 'length' | 'tool_calls' | 'function_call' | 'content_filter';

/** `finish_reason` → `StopReason` (module doc table). */
export const chatStopReason = (finish: FinishReason): StopReason => {
  switch (finish) {
    case 'stop':
      return 'end_turn';
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'content_filter';
  }
};

const FunctionToolCall = loose(
  'ChatCompletionMessageFunctionToolCall',
  { id: nonEmptyStr, function: loose('Function', { name: nonEmptyStr, arguments: str }) },
  { type: literal('function') },
);
const CustomToolCall = loose('ChatCompletionMessageCustomToolCall', {
  id: nonEmptyStr,
  type: literal('custom'),
  custom: loose('Custom', { name: nonEmptyStr, input: str }),
});
type WireToolCall = { readonly id: string; readonly name: string; readonly args: ReturnType<typeof parseToolArguments> };
/** A tool call: `custom` when `type` says so, else a function call (`type` may be absent on compatible servers). */
const CustomCall = mapCodec(CustomToolCall, (c): WireToolCall => ({ id: c.id, name: c.custom.name, args: c.custom.input }));
const FunctionCall = mapCodec(FunctionToolCall, (f): WireToolCall => ({ id: f.id, name: f.function.name, args: parseToolArguments(f.function.arguments) }));
const ToolCall: Codec<WireToolCall> = codec('ChatCompletionMessageToolCall', (u, c) =>
  (isObject(u) && u['type'] === 'custom' ? CustomCall : FunctionCall).validate(u, c),
);

const CompletionUsage = loose(
  'CompletionUsage',
  { prompt_tokens: count, completion_tokens: count },
  { prompt_tokens_details: orNull(loose('PromptTokensDetails', {}, { cached_tokens: orNull(count) })) },
);

const ChatCompletionWire = loose(
  'ChatCompletion',
  {
    id: str,
    model: nonEmptyStr,
    choices: firstOf(
      loose('Choice', {
        finish_reason: FinishReason,
        message: loose(
          'ChatCompletionMessage',
          {},
          {
            content: orNull(str),
            refusal: orNull(str),
            tool_calls: orNull(arrayOf(ToolCall)),
            function_call: orNull(loose('FunctionCall', { name: nonEmptyStr, arguments: str })),
          },
        ),
      }),
      'choices',
    ),
  },
  { usage: orNull(CompletionUsage) },
);

/** Options of `fromChatCompletion` and `accumulateChatStream`. */
export type FromChatOptions = FromWireOptions;

/**
 * Converts a `ChatCompletion` (as received: `unknown`, decoded defensively) to
 * the assistant message of choice 0 (module doc table), its usage and stop
 * reason. Never throws: a value that is not the wire shape is
 * `MalformedResponse { path, message }` (`path` like `$.choices[0].finish_reason`),
 * as is an unknown `finish_reason` (palimpsest does not guess a stop reason).
 */
export const fromChatCompletion = (response: unknown, opts?: FromChatOptions): E.Either<MalformedResponse, AssistantTurn> => {
  const decoded = decodeWire(ChatCompletionWire, response);
  if (E.isLeft(decoded)) return E.left(malformedResponse(decoded.left.path, decoded.left.message));
  const r = decoded.right;
  const { message, finish_reason } = r.choices;
  const blocks: AssistantBlock[] = [];
  if (typeof message.content === 'string' && message.content !== '') blocks.push(outputText(message.content));
  if (typeof message.refusal === 'string' && message.refusal !== '') blocks.push(outputText(message.refusal));
  for (const call of message.tool_calls ?? []) blocks.push(toolUse(call.id, call.name, call.args));
  if (message.function_call) {
    blocks.push(toolUse(r.id === '' ? 'function_call' : `${r.id}:function_call`, message.function_call.name, parseToolArguments(message.function_call.arguments)));
  }
  let usage: Usage | undefined;
  if (r.usage) {
    const u = openAIUsage(r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.prompt_tokens_details?.cached_tokens);
    if (E.isLeft(u)) return E.left(malformedResponse('$.usage.prompt_tokens_details.cached_tokens', u.left));
    usage = u.right;
  }
  const stopReason = chatStopReason(finish_reason);
  const origin: Origin = { provider: opts?.provider ?? 'openai', model: r.model, api: CHAT_COMPLETIONS_API, ...(r.id !== '' ? { responseId: r.id } : {}) };
  const built = assistantMessage(blocks, stopReason, { origin, ...(usage ? { usage } : {}) });
  const checked = decodeMessageInput(built);
  if (E.isLeft(checked)) return E.left(malformedResponse('$', `the response does not make a valid assistant message: ${checked.left.message}`));
  const msg = checked.right as AssistantMessageInput;
  return E.right(usage ? { message: msg, usage, stopReason } : { message: msg, stopReason });
};

// ---------------------------------------------------------------------------
// Streaming

const ChunkDelta = loose(
  'ChatCompletionChunk.Delta',
  {},
  {
    content: orNull(deltaStr),
    refusal: orNull(deltaStr),
    tool_calls: orNull(
      arrayOf(
        loose(
          'ChatCompletionChunk.Delta.ToolCall',
          { index: count },
          { id: orNull(str), function: orNull(loose('Function', {}, { name: orNull(str), arguments: orNull(deltaStr) })) },
        ),
      ),
    ),
    function_call: orNull(loose('FunctionCall', {}, { name: orNull(str), arguments: orNull(deltaStr) })),
  },
);
const Chunk = loose(
  'ChatCompletionChunk',
  { choices: arrayOf(loose('ChatCompletionChunk.Choice', { index: count }, { delta: orNull(ChunkDelta), finish_reason: orNull(FinishReason) })) },
  { id: str, model: str, usage: orNull(CompletionUsage) },
);

interface StreamCall {
  id: string;
  name: string;
  args: string;
}

/**
 * Folds a Chat Completions stream (`stream: true` chunks, as `unknown`) into the
 * same result as `fromChatCompletion`. Choice 0 only. Deltas accumulate as the
 * OpenAI SDK's `ChatCompletionStream` does: `content`, `refusal` and tool-call
 * `arguments` are concatenated; a tool call is keyed by its `index`, its `id`
 * and `name` are set by the chunks that carry them (non-empty values replace);
 * `finish_reason` and `usage` (the `include_usage` chunk with `choices: []`) are
 * taken from the last chunk that has them; `id` and `model` from the first.
 *
 * Errors (never a throw): a chunk that is not the wire shape is
 * `MalformedStreamEvent { index, path }`; the iterable throwing is
 * `StreamFailed`; a stream that ends without a `finish_reason` is
 * `IncompleteStream`; an assembled completion that is still not valid (a tool call
 * that never got an id or a name, no model) is `MalformedResponse` with a path into
 * the assembled completion (`$.choices[0].message.tool_calls[0].id`).
 */
export const accumulateChatStream = async (
  chunks: AsyncIterable<unknown> | Iterable<unknown>,
  opts?: FromChatOptions,
): Promise<E.Either<MalformedStreamEvent | MalformedResponse | IncompleteStream | StreamFailed, AssistantTurn>> => {
  let id: string | undefined;
  let model: string | undefined;
  let content: string | undefined;
  let refusal: string | undefined;
  let finish: FinishReason | undefined;
  let usage: unknown;
  let fnCall: { name: string; args: string } | undefined;
  const calls = new Map<number, StreamCall>();
  let index = 0;
  try {
    for await (const raw of chunks as AsyncIterable<unknown>) {
      const decoded = decodeWire(Chunk, raw);
      if (E.isLeft(decoded)) return E.left(malformedStreamEvent(index, decoded.left.path, decoded.left.message));
      const chunk = decoded.right;
      if (id === undefined && chunk.id !== undefined && chunk.id !== '') id = chunk.id;
      if (model === undefined && chunk.model !== undefined && chunk.model !== '') model = chunk.model;
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices) {
        if (choice.index !== 0) continue;
        if (choice.finish_reason) finish = choice.finish_reason;
        const d = choice.delta;
        if (!d) continue;
        if (d.content) content = (content ?? '') + d.content;
        if (d.refusal) refusal = (refusal ?? '') + d.refusal;
        for (const tc of d.tool_calls ?? []) {
          const call = calls.get(tc.index) ?? { id: '', name: '', args: '' };
          if (tc.id) call.id = tc.id;
          if (tc.function?.name) call.name = tc.function.name;
          if (tc.function?.arguments) call.args += tc.function.arguments;
          calls.set(tc.index, call);
        }
        if (d.function_call) {
          fnCall ??= { name: '', args: '' };
          if (d.function_call.name) fnCall.name = d.function_call.name;
          if (d.function_call.arguments) fnCall.args += d.function_call.arguments;
        }
      }
      index++;
    }
  } catch (e) {
    return E.left(streamFailed(`the chunk stream failed after ${index} chunk(s): ${e instanceof Error ? e.message : String(e)}`));
  }
  if (finish === undefined) return E.left(incompleteStream(index, `the stream ended after ${index} chunk(s) without a finish_reason`));
  const toolCalls = [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, c]) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.args } }));
  const assembled = {
    id: id ?? '',
    model: model ?? '',
    object: 'chat.completion',
    choices: [
      {
        index: 0,
        finish_reason: finish,
        message: {
          role: 'assistant',
          content: content ?? null,
          refusal: refusal ?? null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          ...(fnCall ? { function_call: { name: fnCall.name, arguments: fnCall.args } } : {}),
        },
      },
    ],
    ...(usage !== undefined ? { usage } : {}),
  };
  return fromChatCompletion(assembled, opts);
};
