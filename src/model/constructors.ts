/**
 * Message and block constructors (model.md §5). Each returns a `MessageInput`
 * (no `createdAt` unless `opts.createdAt` is given); `Session.push` stamps it.
 * Constructors do not validate: a session decodes every message it accepts.
 */
import type { AssistantBlock, ContentBlock, StopReason, ToolResult } from './content.ts';
import { canonicalMediaType } from './content.ts';
import type { Json } from './json.ts';
import type { MessageInput, Origin, TranscriptRole } from './message.ts';
import type { Usage } from './usage.ts';
import { withMember } from './objects.ts';

type At = { readonly createdAt?: number };
type Shape<M> = M extends unknown ? Omit<M, 'createdAt'> & { createdAt?: number } : never;
type In<R extends MessageInput['role']> = Shape<Extract<MessageInput, { role: R }>>;

const stamp = <M extends object>(m: M, opts: At | undefined): M => (opts?.createdAt === undefined ? m : (withMember(m, 'createdAt', opts.createdAt) as unknown as M));
const defined = <T extends object>(o: T): T => {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
};

/** `{ type: 'text', text }` content block. */
export const textBlock = (text: string): ContentBlock => ({ type: 'text', text });
/** Inline image block; the media type is canonicalized (trim, cut at `;`, lowercase). */
export const imageInline = (mediaType: string, base64: string): ContentBlock => ({ type: 'image', mediaType: canonicalMediaType(mediaType), source: { type: 'inline', data: base64 } });
/** Image block whose bytes are a store blob. */
export const imageBlob = (mediaType: string, blobId: string): ContentBlock => ({ type: 'image', mediaType: canonicalMediaType(mediaType), source: { type: 'blob', blobId } });
/** Structured JSON block. */
export const structuredBlock = (data: Json): ContentBlock => ({ type: 'structured', data });

/** Assistant output text block. */
export const outputText = (text: string, signature?: string): AssistantBlock => defined({ type: 'text', text, signature });
/** Spoken transcript block (realtime speech output). */
export const spoken = (text: string): AssistantBlock => ({ type: 'transcript', text, source: 'spoken' });
/** Reasoning block (`text` may be empty with the payload in `signature`). */
export const reasoning = (text: string, signature?: string): AssistantBlock => defined({ type: 'reasoning', text, signature });
/** Tool-use block. */
export const toolUse = (id: string, name: string, args: Json, signature?: string): AssistantBlock => defined({ type: 'tool_use', id, name, args, signature });

const blocksOf = (textOrBlocks: string | readonly ContentBlock[]): ContentBlock[] => (typeof textOrBlocks === 'string' ? [textBlock(textOrBlocks)] : [...textOrBlocks]);

/** `system` message. */
export const systemMessage = (text: string, opts?: At): In<'system'> => stamp({ role: 'system', text }, opts);
/** `system_notice` message of `kind`. */
export const systemNotice = (kind: string, text: string, opts?: At & { readonly data?: Json }): In<'system_notice'> =>
  stamp(defined({ role: 'system_notice' as const, kind, text, data: opts?.data }), opts);
/** `user` message with one text block; `transcriptRole` defaults to `conversational`. */
export const userText = (text: string, opts?: At & { readonly transcriptRole?: TranscriptRole }): In<'user'> =>
  userMessage([textBlock(text)], opts);
/** `user` message; `transcriptRole` defaults to `conversational`. */
export const userMessage = (blocks: readonly ContentBlock[], opts?: At & { readonly transcriptRole?: TranscriptRole }): In<'user'> =>
  stamp({ role: 'user', content: [...blocks], transcriptRole: opts?.transcriptRole ?? 'conversational' }, opts);
/** `user` message that opens a compacted transcript. */
export const compactionSummary = (text: string, opts?: At): In<'user'> => userText(text, { ...opts, transcriptRole: 'compaction_summary' });
/** `user` message with host-attached context. */
export const injectedContext = (textOrBlocks: string | readonly ContentBlock[], opts?: At): In<'user'> =>
  userMessage(blocksOf(textOrBlocks), { ...opts, transcriptRole: 'injected_context' });

type AssistantOpts = At & { readonly origin?: Origin; readonly usage?: Usage };
/** `assistant` message with one text block; `end_turn` by default. */
export const assistantText = (text: string, opts?: AssistantOpts & { readonly stopReason?: StopReason }): In<'assistant'> =>
  assistantMessage([outputText(text)], opts?.stopReason ?? 'end_turn', opts);
/** `assistant` message. */
export const assistantMessage = (blocks: readonly AssistantBlock[], stopReason: StopReason, opts?: AssistantOpts & { readonly errorMessage?: string }): In<'assistant'> =>
  stamp(defined({ role: 'assistant' as const, content: [...blocks], stopReason, errorMessage: opts?.errorMessage, origin: opts?.origin, usage: opts?.usage }), opts);
/** `assistant` message: optional text, then one `tool_use` per call; `stopReason: 'tool_use'`. */
export const assistantToolCalls = (
  calls: ReadonlyArray<{ readonly id: string; readonly name: string; readonly args: Json; readonly signature?: string }>,
  opts?: AssistantOpts & { readonly text?: string },
): In<'assistant'> =>
  assistantMessage([...(opts?.text !== undefined ? [outputText(opts.text)] : []), ...calls.map((c) => toolUse(c.id, c.name, c.args, c.signature))], 'tool_use', opts);
/** One `ToolResult`; `isError` false by default. */
export const toolResult = (toolUseId: string, textOrBlocks: string | readonly ContentBlock[], opts?: { readonly isError?: boolean; readonly details?: Json }): ToolResult =>
  defined({ toolUseId, content: blocksOf(textOrBlocks), isError: opts?.isError ?? false, details: opts?.details });
/** `tool_results` message. */
export const toolResults = (results: readonly ToolResult[], opts?: At): In<'tool_results'> => stamp({ role: 'tool_results', results: [...results] }, opts);
