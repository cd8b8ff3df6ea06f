/**
 * AI SDK `UIMessage`s (package `ai`, v6) → palimpsest messages (pure).
 *
 * One `UIMessage` is stored as a *segment*: a header notice
 * `{ role: 'system_notice', kind: 'ai_sdk_message', text: '<role> message <id>',
 * data: { id, role, metadata?, parts } }` holding the message verbatim (after
 * the JSON round trip), followed by its *projection*, the native messages a
 * model and every palimpsest tool see:
 *
 * | `UIMessage` | projection |
 * | --- | --- |
 * | `system` | one `system` message, the text parts joined with `\n` |
 * | `user` | one `user` message (`conversational`): `text` → text block; `file` with a `data:image/…;base64,` URL → inline image block; any other part → a `structured` block holding the part |
 * | `assistant` | per step (split at `step-start`): one `assistant` message with `reasoning` → reasoning block, `text` → text block, each finished tool part (`tool-<name>` or `dynamic-tool` in state `output-available` / `output-error`) → `tool_use` block (`id` = `toolCallId`, `args` = `input`); then one `tool_results` message with their results (`output` string → text block, other output → structured block; `output-error` → `errorText`, `isError: true`). Steps with no block are left out |
 *
 * Parts the projection leaves out (unfinished tool calls, sources, data parts
 * and files of assistant messages) are only in the header. The header is what
 * `loadChat` returns; the projection is checked against it on every load.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { UIMessage } from 'ai';
import type { AssistantBlock, ContentBlock, ToolResult } from '../../model/content.ts';
import type { Json } from '../../model/json.ts';
import { jsonProblem } from '../../model/json.ts';
import type { MessageInput } from '../../model/message.ts';

/** `kind` of the header notice of each stored `UIMessage`. */
export const AI_SDK_MESSAGE_KIND = 'ai_sdk_message';

/** A message that cannot be stored: `unknown_part` (a part type the AI SDK v6 does not define), `not_json`, or `malformed` (a missing `id`, `role` or `parts`). Nothing is written. */
export interface UnsupportedUIMessage {
  readonly _tag: 'UnsupportedUIMessage';
  readonly reason: 'unknown_part' | 'not_json' | 'malformed';
  /** Position of the message in the array given. */
  readonly messageIndex: number;
  /** Position of the part, when a part is at fault. */
  readonly partIndex?: number;
  readonly message: string;
}

const unsupported = (reason: UnsupportedUIMessage['reason'], messageIndex: number, detail: string, partIndex?: number): UnsupportedUIMessage => ({
  _tag: 'UnsupportedUIMessage',
  reason,
  messageIndex,
  ...(partIndex !== undefined ? { partIndex } : {}),
  message: `UIMessage ${messageIndex}${partIndex !== undefined ? ` part ${partIndex}` : ''} cannot be stored: ${detail}`,
});

/** A part as stored: a JSON object with a string `type`. */
export type StoredPart = { readonly type: string } & { readonly [k: string]: Json };

/** What the header notice holds: the `UIMessage` after the JSON round trip. */
export interface StoredUIMessage {
  readonly id: string;
  readonly role: 'system' | 'user' | 'assistant';
  readonly metadata?: Json;
  readonly parts: readonly StoredPart[];
}

const FIXED_PART_TYPES = new Set(['text', 'reasoning', 'file', 'source-url', 'source-document', 'step-start', 'dynamic-tool']);

/** Whether `type` is a part type of AI SDK v6 `UIMessage`s: the fixed ones, `tool-<name>` and `data-<name>`. */
export const isKnownPartType = (type: string): boolean => FIXED_PART_TYPES.has(type) || /^tool-.+/.test(type) || /^data-.+/.test(type);

const isObj = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

/** The JSON round trip (`undefined` members dropped), or `undefined` when `u` is not JSON (a cycle, a `bigint`, a function at the top). */
const roundTrip = (u: unknown): Json | undefined => {
  try {
    const s = JSON.stringify(u);
    if (s === undefined) return undefined;
    const back = JSON.parse(s) as Json;
    return jsonProblem(back) === undefined ? back : undefined;
  } catch {
    return undefined;
  }
};

/** Checks and normalizes one `UIMessage` (`index` is its position, for errors). */
export const storedUIMessage = (u: UIMessage, index: number): E.Either<UnsupportedUIMessage, StoredUIMessage> => {
  const m: unknown = u;
  if (!isObj(m) || typeof m.id !== 'string' || m.id === '' || !Array.isArray(m.parts)) return E.left(unsupported('malformed', index, 'expected { id (non-empty string), role, parts[] }'));
  if (m.role !== 'system' && m.role !== 'user' && m.role !== 'assistant') return E.left(unsupported('malformed', index, `unknown role ${JSON.stringify(m.role)}`));
  const parts: StoredPart[] = [];
  for (let p = 0; p < m.parts.length; p++) {
    const part: unknown = m.parts[p];
    if (!isObj(part) || typeof part.type !== 'string') return E.left(unsupported('malformed', index, 'a part must be an object with a string type', p));
    if (!isKnownPartType(part.type)) return E.left(unsupported('unknown_part', index, `unknown part type ${JSON.stringify(part.type)}`, p));
    const json = roundTrip(part);
    if (json === undefined) return E.left(unsupported('not_json', index, 'the part is not JSON', p));
    parts.push(json as StoredPart);
  }
  const metadata = m.metadata === undefined ? undefined : roundTrip(m.metadata);
  if (m.metadata !== undefined && metadata === undefined) return E.left(unsupported('not_json', index, 'metadata is not JSON'));
  return E.right({ id: m.id, role: m.role, ...(metadata !== undefined ? { metadata } : {}), parts });
};

const str = (v: Json | undefined): string => (typeof v === 'string' ? v : '');

/** `data:<image/…>;base64,<data>` → an inline image block, when it is one. */
const imageBlock = (part: StoredPart): ContentBlock | undefined => {
  const m = /^data:(image\/[a-z0-9][a-z0-9!#$&^_.+-]*);base64,([A-Za-z0-9+/]+={0,2})$/.exec(str(part.url));
  if (m === null || part.mediaType !== m[1]) return undefined;
  return { type: 'image', mediaType: m[1]!, source: { type: 'inline', data: m[2]! } };
};

const userBlock = (part: StoredPart): ContentBlock => {
  if (part.type === 'text') return { type: 'text', text: str(part.text) };
  if (part.type === 'file') return imageBlock(part) ?? { type: 'structured', data: part };
  return { type: 'structured', data: part };
};

/** A finished tool part as its `tool_use` block and result; `undefined` for other parts and unfinished calls. */
const finishedTool = (part: StoredPart): { readonly use: AssistantBlock; readonly result: ToolResult } | undefined => {
  const isTool = part.type === 'dynamic-tool' || part.type.startsWith('tool-');
  if (!isTool || (part.state !== 'output-available' && part.state !== 'output-error')) return undefined;
  const id = str(part.toolCallId);
  const name = part.type === 'dynamic-tool' ? str(part.toolName) : part.type.slice('tool-'.length);
  if (id === '' || name === '') return undefined;
  const use: AssistantBlock = { type: 'tool_use', id, name, args: part.input ?? null };
  const out = part.output;
  const result: ToolResult =
    part.state === 'output-error'
      ? { toolUseId: id, content: [{ type: 'text', text: str(part.errorText) }], isError: true }
      : { toolUseId: id, content: [typeof out === 'string' ? { type: 'text', text: out } : { type: 'structured', data: out ?? null }], isError: false };
  return { use, result };
};

/** The steps of an assistant message as native messages (see the module comment). */
const assistantProjection = (parts: readonly StoredPart[]): MessageInput[] => {
  const out: MessageInput[] = [];
  let blocks: AssistantBlock[] = [];
  let results: ToolResult[] = [];
  const flush = (): void => {
    if (blocks.length > 0) out.push({ role: 'assistant', content: blocks, stopReason: results.length > 0 ? 'tool_use' : 'end_turn' });
    if (results.length > 0) out.push({ role: 'tool_results', results });
    blocks = [];
    results = [];
  };
  for (const part of parts) {
    if (part.type === 'step-start') flush();
    else if (part.type === 'text') blocks.push({ type: 'text', text: str(part.text) });
    else if (part.type === 'reasoning') blocks.push({ type: 'reasoning', text: str(part.text) });
    else {
      const tool = finishedTool(part);
      if (tool !== undefined && !results.some((r) => r.toolUseId === tool.result.toolUseId)) {
        blocks.push(tool.use);
        results.push(tool.result);
      }
    }
  }
  flush();
  return out;
};

/** The header notice of a stored message. */
export const headerNotice = (m: StoredUIMessage): MessageInput => ({
  role: 'system_notice',
  kind: AI_SDK_MESSAGE_KIND,
  text: `${m.role} message ${m.id}`,
  data: m as unknown as Json,
});

/** The native messages of a stored message (see the module comment). */
export const projection = (m: StoredUIMessage): MessageInput[] => {
  switch (m.role) {
    case 'system':
      return [{ role: 'system', text: m.parts.filter((p) => p.type === 'text').map((p) => str(p.text)).join('\n') }];
    case 'user': {
      const content = m.parts.map(userBlock);
      return [{ role: 'user', content: content.length > 0 ? content : [{ type: 'text', text: '' }], transcriptRole: 'conversational' }];
    }
    case 'assistant':
      return assistantProjection(m.parts);
  }
};

/** The whole segment of a stored message: its header, then its projection. */
export const segmentOf = (m: StoredUIMessage): MessageInput[] => [headerNotice(m), ...projection(m)];
