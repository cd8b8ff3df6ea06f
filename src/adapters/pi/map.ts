/**
 * Pure mappings of single pi values onto palimpsest terms (model.md §9 table).
 *
 * | pi | palimpsest |
 * | --- | --- |
 * | `user` (string or text/image blocks) | `user`, `transcriptRole: 'conversational'`; `mimeType`/`data` → inline image |
 * | `assistant` | `assistant`; `provider`/`model`/`api` → `origin`; usage with `inputTokens = input + cacheRead + cacheWrite`, cost left out; `errorMessage` kept |
 * | stop reasons `stop`/`length`/`toolUse`/`error`/`aborted` | `end_turn`/`max_tokens`/`tool_use`/`error`/`cancelled` |
 * | `text` (`textSignature`) | `text` (`signature`) |
 * | `thinking` (`thinking`, `thinkingSignature`) | `reasoning` (`text`, `signature`) |
 * | `toolCall` (`id`, `name`, `arguments`, `thoughtSignature`) | `tool_use` (`id`, `name`, `args`, `signature`); `partialJson` dropped |
 * | `toolResult` (`toolCallId`, `content`, `isError`, `details`) | a `ToolResult`; `null` details absent |
 * | `compactionSummary` message | `user`, `transcriptRole: 'compaction_summary'`, text = summary |
 *
 * What has no palimpsest equivalent becomes a `system_notice` whose `data` is the
 * original pi entry without its tree links (`id`, `parentId`), so export can
 * write it back unchanged; `text` is a readable rendering computed from `data`
 * alone (so a re-import yields the same notice):
 *
 * | pi | notice `kind` |
 * | --- | --- |
 * | `model_change`, `thinking_level_change`, `label`, `session_info`, `custom`, `custom_message`, `branch_summary` entries | the entry type |
 * | `bashExecution` message | `bash_execution` |
 * | `custom` / `hookMessage` message (v3 renamed `hookMessage` to `custom`; the data holds `custom`) | `custom_message` |
 * | `branchSummary` message | `branch_summary` |
 * | a `toolResult` no open tool call asked for | `orphan_tool_result` |
 * | an entry of a type pi does not define | `pi_entry` |
 *
 * Two `custom` entry types are palimpsest's own, written by export for what pi
 * cannot express: `customType: 'palimpsest.message'` carries one palimpsest
 * message in `data` (system messages, notices of other kinds, injected context,
 * structured or spoken blocks, blob images), `'palimpsest.metadata'` carries
 * user metadata.
 */
import type { AssistantBlock, ContentBlock, ToolResult } from '../../model/content.ts';
import { canonicalMediaType, isCanonicalBase64 } from '../../model/content.ts';
import type { Json } from '../../model/json.ts';
import type { Message, Origin } from '../../model/message.ts';
import type { Usage } from '../../model/usage.ts';
import type { StopReason } from '../../model/content.ts';
import type { PiAnyEntry, PiEntry, PiMessage, PiMessageOf, PiStopReason, PiUnknownEntry, PiUsage, PiUserContent } from './format.ts';

/** `customType` of a pi `custom` entry holding one palimpsest message in `data`. */
export const EMBEDDED_MESSAGE_TYPE = 'palimpsest.message';
/** `customType` of a pi `custom` entry holding user metadata in `data`. */
export const EMBEDDED_METADATA_TYPE = 'palimpsest.metadata';

/** Notice kinds the importer produces from pi entries and messages. */
export const PI_NOTICE_KINDS = [
  'model_change',
  'thinking_level_change',
  'label',
  'session_info',
  'custom',
  'custom_message',
  'branch_summary',
  'bash_execution',
  'orphan_tool_result',
  'pi_entry',
] as const;
/** A notice kind the pi importer produces. */
export type PiNoticeKind = (typeof PI_NOTICE_KINDS)[number];

/** pi stop reason → palimpsest stop reason. */
export const stopReasonFromPi: Readonly<Record<PiStopReason, StopReason>> = {
  stop: 'end_turn',
  length: 'max_tokens',
  toolUse: 'tool_use',
  error: 'error',
  aborted: 'cancelled',
};

/** palimpsest stop reason → pi stop reason (`end_turn`, `stop_sequence`, `content_filter` → `stop`). */
export const stopReasonToPi: Readonly<Record<StopReason, PiStopReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  content_filter: 'stop',
  max_tokens: 'length',
  tool_use: 'toolUse',
  error: 'error',
  cancelled: 'aborted',
};

/** pi usage (tokens) → `Usage`: `inputTokens = input + cacheRead + cacheWrite`, `cacheWrite` → `cacheCreationTokens`, `cacheRead` → `cacheReadTokens`; cost dropped. */
export const usageFromPi = (u: PiUsage): Usage => ({
  inputTokens: u.input + u.cacheRead + u.cacheWrite,
  outputTokens: u.output,
  cacheCreationTokens: u.cacheWrite,
  cacheReadTokens: u.cacheRead,
});

/** Whether an image block needed canonicalizing (media type or base64 spelling). */
export interface BlocksResult {
  readonly blocks: ContentBlock[];
  readonly canonicalized: boolean;
}

/**
 * pi user/tool-result content → `ContentBlock[]`. A string is one text block;
 * an image's `mimeType` is canonicalized (trim, cut at `;`, lowercase) and its
 * base64 re-encoded when not canonical (`canonicalized` says so). A value that
 * still is not a valid image fails later, in `MessageCodec`.
 */
export const blocksFromPi = (content: PiUserContent): BlocksResult => {
  if (typeof content === 'string') return { blocks: [{ type: 'text', text: content }], canonicalized: false };
  let canonicalized = false;
  const blocks = content.map((b): ContentBlock => {
    if (b.type === 'text') return { type: 'text', text: b.text };
    const mediaType = canonicalMediaType(b.mimeType);
    let data = b.data;
    if (!isCanonicalBase64(data) && data.length > 0) {
      const again = Buffer.from(data, 'base64').toString('base64');
      if (again.length > 0) data = again;
    }
    if (mediaType !== b.mimeType || data !== b.data) canonicalized = true;
    return { type: 'image', mediaType, source: { type: 'inline', data } };
  });
  return { blocks, canonicalized };
};

/** Readable text of pi content: texts, and `[image: <mimeType>]` for images, joined with `"\n"`. */
export const piContentText = (content: PiUserContent): string =>
  typeof content === 'string' ? content : content.map((b) => (b.type === 'text' ? b.text : `[image: ${b.mimeType}]`)).join('\n');

/** What mapping an assistant message dropped or changed: tool call ids whose `partialJson` was dropped, and redacted thinking blocks. */
export interface AssistantMapping {
  readonly message: Extract<Message, { role: 'assistant' }>;
  readonly residueToolCallIds: readonly string[];
  readonly redactedThinking: number;
}

/** pi assistant message → palimpsest `assistant` (createdAt given by the caller). */
export const assistantFromPi = (m: PiMessageOf<'assistant'>, createdAt: number): AssistantMapping => {
  const residue: string[] = [];
  let redacted = 0;
  const content = m.content.map((b): AssistantBlock => {
    switch (b.type) {
      case 'text':
        return b.textSignature !== undefined ? { type: 'text', text: b.text, signature: b.textSignature } : { type: 'text', text: b.text };
      case 'thinking': {
        if (b.redacted === true) {
          redacted++;
          return b.thinkingSignature !== undefined ? { type: 'reasoning', text: '', signature: b.thinkingSignature } : { type: 'reasoning', text: '' };
        }
        return b.thinkingSignature !== undefined ? { type: 'reasoning', text: b.thinking, signature: b.thinkingSignature } : { type: 'reasoning', text: b.thinking };
      }
      case 'toolCall': {
        if (b.partialJson !== undefined) residue.push(b.id);
        // Two literals, not `{ ...block, signature }`: one hidden class for all (`model/objects.ts`).
        return b.thoughtSignature !== undefined
          ? { type: 'tool_use', id: b.id, name: b.name, args: b.arguments, signature: b.thoughtSignature }
          : { type: 'tool_use', id: b.id, name: b.name, args: b.arguments };
      }
    }
  });
  const message: Extract<Message, { role: 'assistant' }> = {
    role: 'assistant',
    content,
    stopReason: stopReasonFromPi[m.stopReason],
    createdAt,
    usage: usageFromPi(m.usage),
  };
  if (m.errorMessage !== undefined) message.errorMessage = m.errorMessage;
  if (m.provider !== '' && m.model !== '') {
    const origin: Origin = { provider: m.provider, model: m.model };
    if (m.api !== '') origin.api = m.api;
    message.origin = origin;
  }
  return { message, residueToolCallIds: residue, redactedThinking: redacted };
};

/** pi toolResult → `ToolResult` (`null` details become absent). */
export const toolResultFromPi = (m: PiMessageOf<'toolResult'>): { result: ToolResult; canonicalized: boolean } => {
  const { blocks, canonicalized } = blocksFromPi(m.content);
  const result: ToolResult = { toolUseId: m.toolCallId, content: blocks, isError: m.isError };
  if (m.details !== undefined && m.details !== null) result.details = m.details;
  return { result, canonicalized };
};

/** The notice `data` of an entry: the entry without `id` and `parentId`, a `hookMessage` role spelled `custom` (as pi's v3 migration does). */
export const noticeData = (entry: PiEntry | PiUnknownEntry): Json => {
  const { id: _i, parentId: _p, ...rest } = entry as Record<string, unknown>;
  if (rest['type'] === 'message') {
    const msg = rest['message'] as Record<string, Json>;
    if (msg['role'] === 'hookMessage') return { ...rest, message: { ...msg, role: 'custom' } } as Json;
  }
  return rest as Json;
};

const notice = (kind: PiNoticeKind, text: string, data: Json, createdAt: number): Message => ({ role: 'system_notice', kind, text, data, createdAt });

/** Readable text of a bash execution (after pi's `bashExecutionToText`). */
export const bashText = (m: PiMessageOf<'bashExecution'>): string => {
  let text = `Ran \`${m.command}\`\n`;
  text += m.output !== '' ? `\`\`\`\n${m.output}\n\`\`\`` : '(no output)';
  if (m.cancelled) text += '\n\n(command cancelled)';
  else if (m.exitCode !== undefined && m.exitCode !== null && m.exitCode !== 0) text += `\n\nCommand exited with code ${m.exitCode}`;
  if (m.truncated && m.fullOutputPath !== undefined) text += `\n\n[Output truncated. Full output: ${m.fullOutputPath}]`;
  if (m.excludeFromContext === true) text += '\n\n(excluded from model context)';
  return text;
};

/** The `orphan_tool_result` notice for a toolResult entry no open tool call asked for. */
export const orphanToolResultNotice = (entry: PiEntry, m: PiMessageOf<'toolResult'>, createdAt: number): Message =>
  notice(
    'orphan_tool_result',
    `Result of tool call ${m.toolCallId}${m.toolName !== undefined ? ` (${m.toolName})` : ''}, which the preceding assistant message did not make${m.isError ? ' (error)' : ''}:\n${piContentText(m.content)}`,
    noticeData(entry),
    createdAt,
  );

/**
 * The notice for an entry that pi keeps outside the model transcript or that
 * palimpsest has no message for; `undefined` for entries that map otherwise
 * (`user`, `assistant`, `toolResult`, `compactionSummary` messages, `compaction`
 * entries). palimpsest's own `custom` entries get the plain `custom` notice here;
 * the planner decodes them first.
 */
export const noticeForEntry = (any: PiAnyEntry, createdAt: number): Message | undefined => {
  if (!any.known) {
    return notice('pi_entry', `pi entry of a type this importer does not know: ${JSON.stringify(any.entry.type)}`, noticeData(any.entry), createdAt);
  }
  const e = any.entry;
  const data = noticeData(e);
  switch (e.type) {
    case 'model_change':
      return notice('model_change', `Model changed to ${e.provider}/${e.modelId}`, data, createdAt);
    case 'thinking_level_change':
      return notice('thinking_level_change', `Thinking level changed to ${e.thinkingLevel}`, data, createdAt);
    case 'label':
      return notice('label', e.label !== undefined && e.label !== '' ? `Label "${e.label}" set on entry ${e.targetId}` : `Label removed from entry ${e.targetId}`, data, createdAt);
    case 'session_info':
      return notice('session_info', e.name !== undefined ? `Session named "${e.name}"` : 'Session info without a name', data, createdAt);
    case 'custom':
      return notice('custom', `Extension entry of type ${e.customType}`, data, createdAt);
    case 'custom_message':
      return notice('custom_message', `[${e.customType}] ${piContentText(e.content)}`, data, createdAt);
    case 'branch_summary':
      return notice('branch_summary', `Summary of the branch left at entry ${e.fromId}:\n${e.summary}`, data, createdAt);
    case 'compaction':
      return undefined;
    case 'message':
      return noticeForMessage(e.message, data, createdAt);
  }
};

const noticeForMessage = (m: PiMessage, data: Json, createdAt: number): Message | undefined => {
  switch (m.role) {
    case 'bashExecution':
      return notice('bash_execution', bashText(m), data, createdAt);
    case 'custom':
    case 'hookMessage':
      return notice('custom_message', `[${m.customType}] ${piContentText(m.content)}`, data, createdAt);
    case 'branchSummary':
      return notice('branch_summary', `Summary of the branch left at entry ${m.fromId}:\n${m.summary}`, data, createdAt);
    case 'user':
    case 'assistant':
    case 'toolResult':
    case 'compactionSummary':
      return undefined;
  }
};

/** Whether `u` is a JSON object (not null, not an array). */
export const isJsonObject = (u: unknown): u is Record<string, Json> => typeof u === 'object' && u !== null && !Array.isArray(u);
