/**
 * Export of a palimpsest transcript as a pi session file, JSONL version 3.
 *
 * Rules (spec README §7, model.md §9, reversing `map.ts`):
 * - header `{ type: 'session', version: 3, id: sessionId, timestamp: ISO(createdAt),
 *   cwd }` with `cwd`, `provider`, `modelId`, `thinkingLevel`, `parentSession`,
 *   `branchedFrom` taken from the `pi.*` metadata when present;
 * - one entry per message, each `{ type, id, parentId, timestamp, ... }`: ids are
 *   deterministic 8-hex-digit counters, `parentId` chains them (null first), so
 *   the file is one linear branch; `timestamp` is `createdAt` as ISO text and
 *   pi message `timestamp`s are `createdAt` in ms;
 * - `user` (conversational, text and inline images) → `user`; a `user` with
 *   `transcriptRole: 'compaction_summary'` and one text block → a
 *   `compactionSummary` message (its `tokensBefore` from metadata
 *   `pi.compaction`, else 0), which pi puts in the model context as the summary;
 * - `assistant` → `assistant`: `origin` → `api`/`provider`/`model` (`''` when
 *   absent), stop reasons `end_turn|stop_sequence|content_filter → stop`,
 *   `max_tokens → length`, `tool_use → toolUse`, `cancelled → aborted`; usage
 *   `input = inputTokens − cacheCreationTokens − cacheReadTokens`,
 *   `cacheWrite`/`cacheRead` from the cache fields, `totalTokens` = all four,
 *   cost 0 (palimpsest does not keep it); blocks `text` (`textSignature`),
 *   `reasoning` → `thinking` (`thinkingSignature`), `tool_use` → `toolCall`
 *   (`thoughtSignature`);
 * - `tool_results` → one `toolResult` message per result, `toolName` recovered
 *   from the `tool_use` with the same id;
 * - a notice the importer made from a pi entry (its `data` is that entry without
 *   tree links) is written back as that entry, when importing it again gives the
 *   same notice;
 * - anything pi cannot express (a system message, other notices, injected
 *   context, `structured` or `spoken` blocks, blob images) is written as a pi
 *   `custom` entry `{ customType: 'palimpsest.message', data: <the message
 *   without createdAt> }` (pi keeps custom entries out of the model context;
 *   the importer restores the message); user metadata outside `pi.*` goes in one
 *   `custom` entry `palimpsest.metadata` after the header.
 *
 * So import → export → import gives the same transcript digests for every
 * shape-valid transcript, except that `stop_sequence`/`content_filter` come back
 * as `end_turn` (the spec's mapping) and `null` tool-result details come back
 * absent. Pure and total.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { ContentBlock } from '../../model/content.ts';
import { decodeWith } from '../../model/decode.ts';
import type { Json } from '../../model/json.ts';
import type { Message } from '../../model/message.ts';
import { transcriptDigest } from '../../model/digest.ts';
import { PI_SESSION_VERSION, PiEntryCodec } from './format.ts';
import { EMBEDDED_MESSAGE_TYPE, EMBEDDED_METADATA_TYPE, PI_NOTICE_KINDS, isJsonObject, noticeForEntry, orphanToolResultNotice, stopReasonToPi } from './map.ts';

/** What export needs of a session: its id, creation time (ms), user metadata and messages. */
export interface PiExportInput {
  readonly sessionId: string;
  readonly createdAt: number;
  readonly metadata: Readonly<Record<string, Json>>;
  readonly messages: readonly Message[];
}

type Obj = Record<string, Json>;

const MAX_DATE_MS = 8.64e15;
/** ISO text of a time in ms (clamped to the dates JavaScript can show). */
export const iso = (ms: number): string => new Date(Math.min(Math.max(ms, 0), MAX_DATE_MS)).toISOString();
/** The `n`-th deterministic entry id: 8 hex digits. */
export const entryId = (n: number): string => n.toString(16).padStart(8, '0');
const str = (v: Json | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const noticeKinds = new Set<string>(PI_NOTICE_KINDS);

/** pi content blocks for palimpsest content, or undefined when a block has no pi form (structured, blob image). */
const piBlocks = (blocks: readonly ContentBlock[]): Obj[] | undefined => {
  const out: Obj[] = [];
  for (const b of blocks) {
    if (b.type === 'text') out.push({ type: 'text', text: b.text });
    else if (b.type === 'image' && b.source.type === 'inline') out.push({ type: 'image', data: b.source.data, mimeType: b.mediaType });
    else return undefined;
  }
  return out;
};

/** The pi `message` for one palimpsest message (not tool_results, not notices), or undefined when pi cannot express it. */
const piMessage = (m: Message, metadata: Readonly<Record<string, Json>>): Obj | undefined => {
  switch (m.role) {
    case 'user': {
      const content = piBlocks(m.content);
      if (content === undefined) return undefined;
      if (m.transcriptRole === 'conversational') return { role: 'user', content, timestamp: m.createdAt };
      const only = m.content[0];
      if (m.transcriptRole === 'compaction_summary' && m.content.length === 1 && only?.type === 'text') {
        const c = metadata['pi.compaction'];
        const tokensBefore = isJsonObject(c) && typeof c['tokensBefore'] === 'number' ? c['tokensBefore'] : 0;
        return { role: 'compactionSummary', summary: only.text, tokensBefore, timestamp: m.createdAt };
      }
      return undefined;
    }
    case 'assistant': {
      const content: Obj[] = [];
      for (const b of m.content) {
        switch (b.type) {
          case 'text':
            content.push(b.signature !== undefined ? { type: 'text', text: b.text, textSignature: b.signature } : { type: 'text', text: b.text });
            break;
          case 'reasoning':
            content.push(b.signature !== undefined ? { type: 'thinking', thinking: b.text, thinkingSignature: b.signature } : { type: 'thinking', thinking: b.text });
            break;
          case 'tool_use':
            content.push(
              b.signature !== undefined
                ? { type: 'toolCall', id: b.id, name: b.name, arguments: b.args, thoughtSignature: b.signature }
                : { type: 'toolCall', id: b.id, name: b.name, arguments: b.args },
            );
            break;
          case 'transcript':
            return undefined;
        }
      }
      const u = m.usage;
      const cacheWrite = u?.cacheCreationTokens ?? 0;
      const cacheRead = u?.cacheReadTokens ?? 0;
      const input = (u?.inputTokens ?? 0) - cacheWrite - cacheRead;
      const output = u?.outputTokens ?? 0;
      const out: Obj = {
        role: 'assistant',
        content,
        api: m.origin?.api ?? '',
        provider: m.origin?.provider ?? '',
        model: m.origin?.model ?? '',
        usage: {
          input,
          output,
          cacheRead,
          cacheWrite,
          totalTokens: input + output + cacheRead + cacheWrite,
          cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
        },
        stopReason: stopReasonToPi[m.stopReason],
      };
      if (m.errorMessage !== undefined) out['errorMessage'] = m.errorMessage;
      out['timestamp'] = m.createdAt;
      return out;
    }
    case 'system':
    case 'system_notice':
    case 'tool_results':
      return undefined;
  }
};

const sameMessage = (a: Message, b: Message): boolean => transcriptDigest([a]) === transcriptDigest([b]);

/** The pi entry body (without id/parentId) a notice came from, when importing it gives the notice back. */
const noticeEntry = (m: Extract<Message, { role: 'system_notice' }>): Obj | undefined => {
  if (!noticeKinds.has(m.kind) || !isJsonObject(m.data)) return undefined;
  const data = m.data;
  const type = data['type'];
  if (typeof type !== 'string' || type === 'session') return undefined;
  if (type === 'custom' && (data['customType'] === EMBEDDED_MESSAGE_TYPE || data['customType'] === EMBEDDED_METADATA_TYPE)) return undefined;
  // Decode as a version 3 entry with placeholder links and map it again.
  const d = decodeWith(PiEntryCodec, { ...data, id: 'x', parentId: null });
  if (E.isLeft(d)) return undefined;
  const entry = d.right;
  const again =
    entry.known && entry.entry.type === 'message' && entry.entry.message.role === 'toolResult'
      ? m.kind === 'orphan_tool_result'
        ? orphanToolResultNotice(entry.entry, entry.entry.message, m.createdAt)
        : undefined
      : noticeForEntry(entry, m.createdAt);
  return again !== undefined && sameMessage(again, m) ? data : undefined;
};

/** The pi v3 header line (as an object) for a session with `sessionId`, `createdAt` (ms) and `pi.*` metadata. */
export const piHeaderFor = (sessionId: string, createdAt: number, md: Readonly<Record<string, Json>>): Obj => {
  const header: Obj = { type: 'session', version: PI_SESSION_VERSION, id: sessionId, timestamp: iso(createdAt), cwd: str(md['pi.cwd']) ?? '' };
  for (const [key, field] of [
    ['pi.provider', 'provider'],
    ['pi.modelId', 'modelId'],
    ['pi.thinkingLevel', 'thinkingLevel'],
    ['pi.parentSession', 'parentSession'],
    ['pi.branchedFrom', 'branchedFrom'],
  ] as const) {
    const v = str(md[key]);
    if (v !== undefined) header[field] = v;
  }
  return header;
};

/** Where `piEntryLines` starts: the parent of the first entry, a generator of fresh entry ids, and whether user metadata is written first. */
export interface PiEntryChain {
  readonly parentId: string | null;
  readonly freshId: () => string;
  /** Write non-`pi.*` metadata as one `palimpsest.metadata` custom entry first (at `createdAt`). */
  readonly userMetadata?: { readonly createdAt: number };
  /** Tool names by call id already known from earlier entries (for `toolResult.toolName`). */
  readonly toolNames?: ReadonlyMap<string, string>;
}

/** One entry `piEntries` yields: its JSON line (no newline), its id and parent id, and the index of the message it belongs to (−1: the metadata entry). */
export interface PiEntryOut {
  readonly line: string;
  readonly id: string;
  readonly parentId: string | null;
  readonly message: number;
}

/**
 * The pi v3 entries for `messages` (any iterable: read lazily, one message at
 * a time), chained from `chain.parentId` with ids from `chain.freshId`, one at
 * a time: what is in memory is the current message's entries, never the
 * file. A `tool_results` message is one entry per result. Returns the id of
 * the last entry (`chain.parentId` when none). See the module comment for the
 * mapping. Throws only what iterating `messages` throws.
 */
export function* piEntries(messages: Iterable<Message>, md: Readonly<Record<string, Json>>, chain: PiEntryChain): Generator<PiEntryOut, string | null, undefined> {
  let parentId: string | null = chain.parentId;
  let index = -1;
  const entry = (body: Obj, timestamp: string | undefined): PiEntryOut => {
    const id = chain.freshId();
    const { type, ...rest } = body;
    const line = JSON.stringify(timestamp === undefined ? { type, id, parentId, ...rest } : { type, id, parentId, timestamp, ...rest });
    const out = { line, id, parentId, message: index };
    parentId = id;
    return out;
  };
  // A notice's entry keeps its own timestamp (an unknown entry may have none).
  const ofBody = (body: Obj): PiEntryOut => {
    const { timestamp, ...rest } = body;
    return entry(rest, typeof timestamp === 'string' ? timestamp : undefined);
  };
  const embedded = (m: Message): PiEntryOut => {
    const { createdAt, ...rest } = m;
    return entry({ type: 'custom', customType: EMBEDDED_MESSAGE_TYPE, data: rest as Json }, iso(createdAt));
  };

  if (chain.userMetadata !== undefined) {
    const userMetadata: Obj = {};
    for (const k of Object.keys(md)) if (!k.startsWith('pi.')) userMetadata[k] = md[k]!;
    if (Object.keys(userMetadata).length > 0) yield entry({ type: 'custom', customType: EMBEDDED_METADATA_TYPE, data: userMetadata }, iso(chain.userMetadata.createdAt));
  }

  const toolNames = new Map<string, string>(chain.toolNames ?? []);
  for (const m of messages) {
    index++;
    switch (m.role) {
      case 'system_notice': {
        const body = noticeEntry(m);
        yield body !== undefined ? ofBody(body) : embedded(m);
        break;
      }
      case 'tool_results': {
        const contents = m.results.map((r) => piBlocks(r.content));
        if (contents.some((c) => c === undefined)) {
          yield embedded(m);
          break;
        }
        for (const [i, r] of m.results.entries()) {
          const message: Obj = {
            role: 'toolResult',
            toolCallId: r.toolUseId,
            toolName: toolNames.get(r.toolUseId) ?? '',
            content: contents[i]!,
          };
          if (r.details !== undefined) message['details'] = r.details;
          message['isError'] = r.isError;
          message['timestamp'] = m.createdAt;
          yield entry({ type: 'message', message }, iso(m.createdAt));
        }
        break;
      }
      default: {
        if (m.role === 'assistant') {
          for (const b of m.content) if (b.type === 'tool_use') toolNames.set(b.id, b.name);
        }
        const message = piMessage(m, md);
        yield message === undefined ? embedded(m) : entry({ type: 'message', message }, iso(m.createdAt));
      }
    }
  }
  return parentId;
}

/**
 * `piEntries` collected: the lines (JSON without newline) for `messages`, and
 * `entryOf[i]`, the id of the last entry written for message `i` (the entry
 * before it when a `tool_results` message has no results).
 */
export const piEntryLines = (
  messages: readonly Message[],
  md: Readonly<Record<string, Json>>,
  chain: PiEntryChain,
): { readonly lines: string[]; readonly entryOf: string[]; readonly lastId: string | null } => {
  const lines: string[] = [];
  const entryOf: string[] = [];
  const it = piEntries(messages, md, chain);
  let last: string | null = chain.parentId;
  for (let r = it.next(); ; r = it.next()) {
    if (r.done === true) {
      while (entryOf.length < messages.length) entryOf.push(last as string);
      return { lines, entryOf, lastId: r.value };
    }
    const e = r.value;
    while (entryOf.length < e.message) entryOf.push(last as string);
    lines.push(e.line);
    last = e.id;
    if (e.message >= 0) entryOf[e.message] = e.id;
  }
};

/**
 * The lines of `input` as pi JSONL version 3, one at a time, each ending in
 * `"\n"`: the header, then one line per entry (`piEntries` from fresh ids
 * `00000001`, …). `input.messages` may be any iterable (read once, lazily).
 */
export function* piJsonlLines(input: Omit<PiExportInput, 'messages'> & { readonly messages: Iterable<Message> }): Generator<string, void, undefined> {
  let counter = 0;
  yield `${JSON.stringify(piHeaderFor(input.sessionId, input.createdAt, input.metadata))}\n`;
  for (const e of piEntries(input.messages, input.metadata, { parentId: null, freshId: () => entryId(++counter), userMetadata: { createdAt: input.createdAt } })) yield `${e.line}\n`;
}

/**
 * Writes `input` as pi JSONL version 3: one header line, then one line per entry,
 * each ending in `"\n"` (`piJsonlLines` collected). See the module comment for
 * the mapping. Total: what pi cannot express is kept in palimpsest's own
 * `custom` entries.
 */
export const exportPiJsonl = (input: PiExportInput): string => [...piJsonlLines(input)].join('');
