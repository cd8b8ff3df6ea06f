/**
 * io-ts codecs for pi session files (JSONL, versions 1 to 3).
 *
 * Source of the format rules: spec README §7 "Real input: pi sessions" and
 * model.md §9 "pi messages", checked against pi's own types (pi-mono
 * `packages/ai/src/types.ts`, `packages/coding-agent/src/core/messages.ts` and
 * `session-manager.ts`).
 *
 * A pi file is one header line `{ type: 'session', version?, id, timestamp, cwd,
 * provider?, modelId?, thinkingLevel?, branchedFrom? | parentSession? }` (no
 * `version` means 1) followed by one entry per line. From version 2 every entry
 * has `id` and `parentId` (null at a root) and the entries form a tree; version 3
 * renamed the message role `hookMessage` to `custom`.
 *
 * The codecs are strict (model.md §8): a key pi does not define is rejected
 * (`unknown_field`), nothing is defaulted. They are lenient exactly where pi is:
 * pi's own optional fields are optional here, and a message `timestamp`
 * (ms since the epoch) may be missing because pi's readers fall back to the
 * entry's ISO `timestamp` too. An entry `type` pi does not know is not an error:
 * `PiEntryCodec` decodes it as a `PiUnknownEntry` so the importer can keep it.
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { arrayOf, at, bool, codec, dispatch, either, fail, isPlainObject, keyPath, literal, nat, oneOf, str, strict, type Codec } from '../../model/decode.ts';
import { JsonCodec, type Json } from '../../model/json.ts';

/** The newest pi session version this adapter reads and the one it writes. */
export const PI_SESSION_VERSION = 3 as const;
/** The pi session versions this adapter reads. */
export type PiVersion = 1 | 2 | 3;

const nullValue: Codec<null> = codec('null', (u, c) => (u === null ? t.success(null) : fail(u, c, 'wrong_type', 'null')));
const nullable = <A>(inner: Codec<A>): Codec<A | null> => either(`${inner.name} | null`, nullValue, inner);

/** A finite JSON number (pi's cost figures, in dollars). */
const finite: Codec<number> = codec('finite number', (u, c) => {
  if (typeof u !== 'number') return fail(u, c, 'wrong_type', 'finite number');
  return Number.isFinite(u) ? t.success(u) : fail(u, c, 'invalid_number', 'finite number', `expected a finite number, found ${String(u)}`);
});

/** A bash exit code: any integer (negative for signals on some platforms). */
const exitCode: Codec<number> = codec('exit code', (u, c) => {
  if (typeof u !== 'number') return fail(u, c, 'wrong_type', 'exit code');
  return Number.isSafeInteger(u) ? t.success(u) : fail(u, c, 'invalid_number', 'exit code', `expected an integer exit code, found ${String(u)}`);
});

// ---------------------------------------------------------------------------
// Header

/**
 * The header line: `{ type: 'session', version?, id, timestamp (ISO), cwd?,
 * provider?, modelId?, thinkingLevel?, branchedFrom?, parentSession? }`.
 * `cwd` is optional because pi reads a header without one as `''`.
 */
export const PiHeaderCodec = strict(
  'PiHeader',
  { type: literal('session'), id: str, timestamp: str },
  { version: nat, cwd: str, provider: str, modelId: str, thinkingLevel: str, branchedFrom: str, parentSession: str },
);
/** The header line of a pi session file. */
export type PiHeader = t.TypeOf<typeof PiHeaderCodec>;

// ---------------------------------------------------------------------------
// Content blocks

/** `{ type: 'text', text, textSignature? }` (user, assistant and tool-result content). */
export const PiTextContentCodec = strict('PiTextContent', { type: literal('text'), text: str }, { textSignature: str });
/** `{ type: 'image', data (base64), mimeType }`. */
export const PiImageContentCodec = strict('PiImageContent', { type: literal('image'), data: str, mimeType: str });
/** `{ type: 'thinking', thinking, thinkingSignature?, redacted? }`. */
export const PiThinkingContentCodec = strict('PiThinkingContent', { type: literal('thinking'), thinking: str }, { thinkingSignature: str, redacted: bool });
/** `{ type: 'toolCall', id, name, arguments, thoughtSignature?, partialJson? }`; `partialJson` is streaming residue. */
export const PiToolCallCodec = strict(
  'PiToolCall',
  { type: literal('toolCall'), id: str, name: str, arguments: JsonCodec },
  { thoughtSignature: str, partialJson: str },
);
/** A pi text block. */
export type PiTextContent = t.TypeOf<typeof PiTextContentCodec>;
/** A pi image block. */
export type PiImageContent = t.TypeOf<typeof PiImageContentCodec>;
/** A pi thinking block. */
export type PiThinkingContent = t.TypeOf<typeof PiThinkingContentCodec>;
/** A pi tool call block. */
export type PiToolCall = t.TypeOf<typeof PiToolCallCodec>;

/** A block of user, custom-message or tool-result content: text or image. */
export const PiUserBlockCodec = dispatch('PiUserBlock', 'type', { text: PiTextContentCodec, image: PiImageContentCodec }, 'unknown_block_type');
/** A block of user, custom-message or tool-result content. */
export type PiUserBlock = t.TypeOf<typeof PiUserBlockCodec>;
/** User content: a string or an array of text/image blocks. */
export const PiUserContentCodec: Codec<string | PiUserBlock[]> = either('PiUserContent', str, arrayOf(PiUserBlockCodec));
/** User content: a string or an array of text/image blocks. */
export type PiUserContent = string | PiUserBlock[];

/** A block of an assistant message: text, thinking or tool call. */
export const PiAssistantBlockCodec = dispatch(
  'PiAssistantBlock',
  'type',
  { text: PiTextContentCodec, thinking: PiThinkingContentCodec, toolCall: PiToolCallCodec },
  'unknown_block_type',
);
/** A block of an assistant message. */
export type PiAssistantBlock = t.TypeOf<typeof PiAssistantBlockCodec>;

// ---------------------------------------------------------------------------
// Usage

/** `cost` in dollars: `{ input, output, cacheRead, cacheWrite, total }` (dropped on import, model.md §9). */
export const PiCostCodec = strict('PiCost', { input: finite, output: finite, cacheRead: finite, cacheWrite: finite, total: finite });
/**
 * pi usage in tokens: `input` counts uncached input only; `cacheRead` and
 * `cacheWrite` are the cached parts; `totalTokens` (newer pi) is derived.
 */
export const PiUsageCodec = strict(
  'PiUsage',
  { input: nat, output: nat, cacheRead: nat, cacheWrite: nat, cost: PiCostCodec },
  { totalTokens: nat },
);
/** pi usage of one call. */
export type PiUsage = t.TypeOf<typeof PiUsageCodec>;

/** pi stop reasons. */
export const PiStopReasonCodec = oneOf('PiStopReason', ['stop', 'length', 'toolUse', 'error', 'aborted'] as const);
/** pi stop reasons. */
export type PiStopReason = t.TypeOf<typeof PiStopReasonCodec>;

// ---------------------------------------------------------------------------
// Messages (the `message` of a `message` entry), a union on `role`

const ts = { timestamp: nat };

/** `{ role: 'user', content, timestamp? }`. */
export const PiUserMessageCodec = strict('PiUserMessage', { role: literal('user'), content: PiUserContentCodec }, ts);
/**
 * `{ role: 'assistant', content, api, provider, model, responseModel?, responseId?,
 * diagnostics?, usage, stopReason, errorMessage?, timestamp? }`. `responseId` (the
 * provider's id of the reply: Anthropic and OpenAI Responses set it on every reply),
 * `responseModel` (the model the provider says answered) and `diagnostics` (pi's
 * `AssistantMessageDiagnostic[]`: `{ type, timestamp, error?, details? }` records of
 * stream errors) are pi-ai 0.73's; they are kept with the imported file (the
 * export gives them back) and are not part of the transcript. `diagnostics` is
 * checked as JSON only: it is pi's debugging record, which palimpsest never reads.
 */
export const PiAssistantMessageCodec = strict(
  'PiAssistantMessage',
  {
    role: literal('assistant'),
    content: arrayOf(PiAssistantBlockCodec),
    api: str,
    provider: str,
    model: str,
    usage: PiUsageCodec,
    stopReason: PiStopReasonCodec,
  },
  { responseModel: str, responseId: str, diagnostics: arrayOf(JsonCodec), errorMessage: str, ...ts },
);
/**
 * `{ role: 'toolResult', toolCallId, toolName?, content, details?, isError, timestamp? }`.
 * `toolName` is optional: palimpsest does not store it (it is the call's name).
 */
export const PiToolResultMessageCodec = strict(
  'PiToolResultMessage',
  { role: literal('toolResult'), toolCallId: str, content: arrayOf(PiUserBlockCodec), isError: bool },
  { toolName: str, details: JsonCodec, ...ts },
);
/** `{ role: 'bashExecution', command, output, exitCode?, cancelled, truncated, fullOutputPath?, excludeFromContext?, timestamp? }`. */
export const PiBashExecutionMessageCodec = strict(
  'PiBashExecutionMessage',
  { role: literal('bashExecution'), command: str, output: str, cancelled: bool, truncated: bool },
  { exitCode: nullable(exitCode), fullOutputPath: str, excludeFromContext: bool, ...ts },
);
const customFields = { customType: str, content: PiUserContentCodec, display: bool };
/** `{ role: 'custom', customType, content, display, details?, timestamp? }` (version 3). */
export const PiCustomMessageCodec = strict('PiCustomMessage', { role: literal('custom'), ...customFields }, { details: JsonCodec, ...ts });
/** `{ role: 'hookMessage', ... }`: the version 1/2 spelling of `custom`. */
export const PiHookMessageCodec = strict('PiHookMessage', { role: literal('hookMessage'), ...customFields }, { details: JsonCodec, ...ts });
/** `{ role: 'branchSummary', summary, fromId, timestamp? }`. */
export const PiBranchSummaryMessageCodec = strict('PiBranchSummaryMessage', { role: literal('branchSummary'), summary: str, fromId: str }, ts);
/** `{ role: 'compactionSummary', summary, tokensBefore, timestamp? }`. */
export const PiCompactionSummaryMessageCodec = strict(
  'PiCompactionSummaryMessage',
  { role: literal('compactionSummary'), summary: str, tokensBefore: nat },
  ts,
);

/** A pi message; an unknown `role` fails with reason `unknown_role`. */
export const PiMessageCodec = dispatch(
  'PiMessage',
  'role',
  {
    user: PiUserMessageCodec,
    assistant: PiAssistantMessageCodec,
    toolResult: PiToolResultMessageCodec,
    bashExecution: PiBashExecutionMessageCodec,
    custom: PiCustomMessageCodec,
    hookMessage: PiHookMessageCodec,
    branchSummary: PiBranchSummaryMessageCodec,
    compactionSummary: PiCompactionSummaryMessageCodec,
  },
  'unknown_role',
);
/** A pi message. */
export type PiMessage = t.TypeOf<typeof PiMessageCodec>;
/** A pi message of one role. */
export type PiMessageOf<R extends PiMessage['role']> = Extract<PiMessage, { role: R }>;

// ---------------------------------------------------------------------------
// Entries

const base = { timestamp: str };
const links = { id: str, parentId: nullable(str) };

/** `{ type: 'message', message, timestamp, id?, parentId? }`. */
export const PiMessageEntryCodec = strict('PiMessageEntry', { type: literal('message'), message: PiMessageCodec, ...base }, links);
/** `{ type: 'model_change', provider, modelId }`. */
export const PiModelChangeEntryCodec = strict('PiModelChangeEntry', { type: literal('model_change'), provider: str, modelId: str, ...base }, links);
/** `{ type: 'thinking_level_change', thinkingLevel }`. */
export const PiThinkingLevelChangeEntryCodec = strict(
  'PiThinkingLevelChangeEntry',
  { type: literal('thinking_level_change'), thinkingLevel: str, ...base },
  links,
);
/**
 * `{ type: 'compaction', summary, tokensBefore, firstKeptEntryIndex? (v1, an index
 * into the file's entries with the header at 0) | firstKeptEntryId? (v2+), details?, fromHook? }`.
 */
export const PiCompactionEntryCodec = strict(
  'PiCompactionEntry',
  { type: literal('compaction'), summary: str, tokensBefore: nat, ...base },
  { firstKeptEntryIndex: nat, firstKeptEntryId: str, details: JsonCodec, fromHook: bool, ...links },
);
/** `{ type: 'branch_summary', fromId, summary, details?, fromHook? }`. */
export const PiBranchSummaryEntryCodec = strict(
  'PiBranchSummaryEntry',
  { type: literal('branch_summary'), fromId: str, summary: str, ...base },
  { details: JsonCodec, fromHook: bool, ...links },
);
/** `{ type: 'custom', customType, data? }`: extension state, not in pi's model context. */
export const PiCustomEntryCodec = strict('PiCustomEntry', { type: literal('custom'), customType: str, ...base }, { data: JsonCodec, ...links });
/** `{ type: 'custom_message', customType, content, display, details? }`: extension message in pi's model context. */
export const PiCustomMessageEntryCodec = strict(
  'PiCustomMessageEntry',
  { type: literal('custom_message'), ...customFields, ...base },
  { details: JsonCodec, ...links },
);
/** `{ type: 'label', targetId, label? }` (an absent label clears it). */
export const PiLabelEntryCodec = strict('PiLabelEntry', { type: literal('label'), targetId: str, ...base }, { label: str, ...links });
/** `{ type: 'session_info', name? }`. */
export const PiSessionInfoEntryCodec = strict('PiSessionInfoEntry', { type: literal('session_info'), ...base }, { name: str, ...links });

const knownEntries = {
  message: PiMessageEntryCodec,
  model_change: PiModelChangeEntryCodec,
  thinking_level_change: PiThinkingLevelChangeEntryCodec,
  compaction: PiCompactionEntryCodec,
  branch_summary: PiBranchSummaryEntryCodec,
  custom: PiCustomEntryCodec,
  custom_message: PiCustomMessageEntryCodec,
  label: PiLabelEntryCodec,
  session_info: PiSessionInfoEntryCodec,
};
/** The entry types pi defines (besides the `session` header). */
export const PI_ENTRY_TYPES = Object.keys(knownEntries) as ReadonlyArray<keyof typeof knownEntries>;

/** A pi entry of a type pi defines. */
export const PiKnownEntryCodec = dispatch('PiEntry', 'type', knownEntries);
/** A pi entry of a type pi defines. */
export type PiEntry = t.TypeOf<typeof PiKnownEntryCodec>;
/** A pi entry of one type. */
export type PiEntryOf<T extends PiEntry['type']> = Extract<PiEntry, { type: T }>;

/**
 * An entry whose `type` pi does not define (a newer pi, an extension): kept
 * verbatim. `timestamp` (ISO) and the tree links are checked when present;
 * every other member must be JSON.
 */
export interface PiUnknownEntry {
  readonly type: string;
  readonly timestamp?: string;
  readonly id?: string;
  readonly parentId?: string | null;
  readonly [key: string]: Json | undefined;
}

const unknownLinks = strict('PiUnknownEntryLinks', {}, { timestamp: str, ...links });

/** An entry of an unknown `type`: an object whose members are JSON. */
export const PiUnknownEntryCodec: Codec<PiUnknownEntry> = codec('PiUnknownEntry', (u, c) => {
  if (!isPlainObject(u)) return fail(u, c, 'wrong_type', 'PiUnknownEntry');
  if (typeof u['type'] !== 'string') return fail(u['type'], at(c, '.type', str, u['type']), 'wrong_type', 'string');
  const linkPart: Record<string, unknown> = {};
  for (const k of Object.keys(u)) {
    const v = u[k];
    if (k === 'timestamp' || k === 'id' || k === 'parentId') {
      linkPart[k] = v;
      continue;
    }
    const r = JsonCodec.validate(v, at(c, keyPath(k), JsonCodec, v));
    if (E.isLeft(r)) return r;
  }
  const r = unknownLinks.validate(linkPart, c);
  if (E.isLeft(r)) return r;
  return t.success(u as PiUnknownEntry);
});

/** A decoded entry line: a known entry, or an unknown one kept as is. */
export type PiAnyEntry = { readonly known: true; readonly entry: PiEntry } | { readonly known: false; readonly entry: PiUnknownEntry };

/**
 * Decodes one entry (not the header): a known `type` decodes with its strict
 * codec (an unknown message `role` gives `unknown_role`); any other `type`
 * decodes as a `PiUnknownEntry`.
 */
export const PiEntryCodec: Codec<PiAnyEntry> = codec('PiAnyEntry', (u, c) => {
  if (!isPlainObject(u)) return fail(u, c, 'wrong_type', 'PiEntry');
  const type = u['type'];
  if (type === undefined) return fail(type, at(c, '.type', str, type), 'missing_field', 'PiEntry', 'missing field "type" in PiEntry');
  if (typeof type !== 'string') return fail(type, at(c, '.type', str, type), 'wrong_type', 'PiEntry.type');
  if (Object.prototype.hasOwnProperty.call(knownEntries, type)) {
    const r = PiKnownEntryCodec.validate(u, c);
    return E.isLeft(r) ? r : t.success({ known: true, entry: r.right });
  }
  const r = PiUnknownEntryCodec.validate(u, c);
  return E.isLeft(r) ? r : t.success({ known: false, entry: r.right });
});
