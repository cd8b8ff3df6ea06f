/**
 * Planning a pi import: a parsed pi file → palimpsest sessions and the commands
 * that build them, with a report of every repair.
 *
 * Sources of the rules: spec README §7 (trees become forks, dangling tool calls
 * are repaired, compactions become rewrites), model.md §4 (the pi importer
 * records usage both on each assistant message and as usage commands), model.md
 * §9 (the mapping table, see `map.ts`), revisions.md §2 (the shape rule) and §6
 * (forks keep metadata, usage and messages).
 *
 * Sessions. A version 1 file is one linear session. A version 2/3 file is a
 * tree through `id`/`parentId`; every leaf (an entry no other entry names as its
 * parent) is one branch and one session, its path the entries from its root to
 * the leaf. Sessions are listed in the file order of their leaves, so a parent
 * always precedes its forks. A later session forks (mode `full`) from the
 * earlier session sharing its root with which it has the longest common prefix
 * of planned ops; `forkOf.afterOp` is the length of that prefix: the child
 * starts from the parent's state after the parent's first `afterOp` ops (0: its
 * genesis state) and then applies its own `ops`. The common prefix ends at the
 * branch point (or before it, when the branch point falls inside a tool call
 * and its results). Keys: the session whose leaf is the file's last entry (the
 * branch pi would reopen) has the pi session id as key; every other branch
 * `<pi id>#<leaf entry id>`.
 *
 * Ops, per branch, in path order. `at` is the entry's ISO timestamp in ms,
 * never decreasing along a branch and never before `createdAt`; a message's own
 * `createdAt` is its pi `timestamp` (ms), else the entry's.
 * - `user` and `assistant` messages are appended (one append per message); an
 *   assistant's usage is also recorded as a `usage` op (zero usage is inert and
 *   skipped), so cumulative usage equals the sum of the messages' usage.
 * - The toolResults answering one assistant message become one `tool_results`
 *   message, appended when the last call is answered or when the next user or
 *   assistant message (or the end of the branch) shows that the rest never
 *   will be: each unanswered call then gets an inserted result with
 *   `isError: true` saying the call was aborted (repair `aborted_tool_call`).
 * - A toolResult that no open call asked for (or that answers a call twice)
 *   becomes an `orphan_tool_result` notice.
 * - Entries and pi messages palimpsest has no message for become notices (see
 *   `map.ts`); model, thinking-level and session-name changes also set the
 *   metadata keys `pi.provider`/`pi.modelId`, `pi.thinkingLevel`, `pi.name`.
 * - Shape rule (revisions.md §2): nothing but `tool_results` may follow an
 *   assistant message with unresolved tool uses, so anything pi recorded
 *   between a tool call and its results (notices, metadata, compactions) is
 *   moved after the results (repair `moved_after_tool_results`).
 * - A `compaction` entry becomes a `rewrite` op replacing `[0, k)` with one
 *   `user` message (`transcriptRole: 'compaction_summary'`, text = the summary),
 *   where `k` is the index of the first message that came from the first kept
 *   entry or a later one; `tokensBefore` goes in the reason's note and the entry
 *   itself (without its summary) in the metadata key `pi.compaction` (a
 *   `compactionSummary` message, which needs no rewrite, records its
 *   `tokensBefore` and `timestamp` there). A first kept
 *   entry not on the branch summarizes the whole transcript (what pi does);
 *   a cut between a tool call and its results moves back to the call.
 *
 * Initial metadata: `pi.sessionId`, `pi.version` (of the file), `pi.timestamp`
 * (the header's ISO time) and, when the header has them, `pi.cwd`,
 * `pi.provider`, `pi.modelId`, `pi.thinkingLevel`, `pi.branchedFrom`,
 * `pi.parentSession`. No key starts with `palimpsest`. A fork's `metadata` is
 * its parent's at the fork point.
 *
 * Every emitted message is decoded with `MessageCodec`; a message that does not
 * decode (an empty tool call id, an attachment that is not an image) is a
 * `PiPlanError` naming its line.
 */
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith, type DecodeError } from '../../model/decode.ts';
import type { Json } from '../../model/json.ts';
import { sha256OfUtf8 } from '../../model/hashing.ts';
import { MessageCodec, MessageInputCodec, type Message } from '../../model/message.ts';
import type { ToolResult, ToolUseBlock } from '../../model/content.ts';
import { transcriptDigest } from '../../model/digest.ts';
import { isZeroUsage, type Usage } from '../../model/usage.ts';
import { withMember } from '../../model/objects.ts';
import type { PiEntry, PiMessageOf } from './format.ts';
import {
  EMBEDDED_MESSAGE_TYPE,
  EMBEDDED_METADATA_TYPE,
  assistantFromPi,
  blocksFromPi,
  isJsonObject,
  noticeForEntry,
  orphanToolResultNotice,
  toolResultFromPi,
} from './map.ts';
import { memoryColumn, type PiColumn, type PiColumnFactory } from './columns.ts';
import { linkOf, type ParsedPiSession, type PiEntryLink, type PiLine } from './parse.ts';
import type { PiImportError, PiImportReport, PiPlanError, PiPlanErrorReason, PiRepair, PiRepairKind } from './report.ts';

/** Why a rewrite op was planned: always a pi compaction; `note` holds `tokensBefore`. */
export interface PiRewriteReason {
  readonly kind: 'compaction';
  readonly note: string;
}

/**
 * One planned session command; `at` is the record time in ms since the epoch.
 * - `append`: push `messages` (one record); `line` is the 1-based source line
 *   of the last entry the message came from (the last tool result of a
 *   `tool_results`);
 * - `rewrite`: commit a transcript rewrite of `[start, end)` with
 *   `replacement`; `line` is the compaction entry's line;
 * - `metadata_set`: set user metadata `key` (never a reserved `palimpsest*` key);
 * - `usage`: add `usage` (tokens) to the cumulative usage.
 */
export type PiPlanOp =
  | { readonly op: 'append'; readonly messages: Message[]; readonly at: number; readonly line: number }
  | {
      readonly op: 'rewrite';
      readonly start: number;
      readonly end: number;
      readonly replacement: Message[];
      readonly reason: PiRewriteReason;
      readonly at: number;
      readonly line: number;
    }
  | { readonly op: 'metadata_set'; readonly key: string; readonly value: Json; readonly at: number }
  | { readonly op: 'usage'; readonly usage: Usage; readonly at: number };

/**
 * Where a planned session forks from (mode `full`): the earlier session
 * `sessionKey`, in the state it has after applying its first `afterOp` own ops
 * (`0`: its state at its start: its genesis, or its own fork point).
 */
export interface PiForkOf {
  readonly sessionKey: string;
  readonly afterOp: number;
}

/**
 * One planned session (one pi branch). `key` is stable across imports of the
 * same file; `metadata` is the session's user metadata at its start;
 * `createdAt` is in ms; `leafLine` is the 1-based line of the branch's last
 * entry (0 for a file without entries); `forkOf` is set for forks.
 */
export interface PiPlanShape {
  readonly key: string;
  readonly metadata: Record<string, Json>;
  readonly createdAt: number;
  readonly leafLine: number;
  readonly forkOf?: PiForkOf;
  /** How many ops the session applies itself (after its fork point). */
  readonly opCount: number;
  /**
   * pi labels on this branch: every `label` entry of the file (pi's labels are
   * file-wide, in file order, a later one replacing an earlier one on the same
   * target) whose target is on the branch; `label` absent clears it.
   */
  readonly labels: ReadonlyArray<{ readonly label?: string; readonly targetLine: number; readonly targetId: string }>;
}

/** One planned session with its ops held in memory. */
export interface PiPlanSession extends PiPlanShape {
  readonly ops: PiPlanOp[];
}

/** The plan: sessions in creation order (parents before forks) and the report. */
export interface PiImportPlan {
  readonly sessions: PiPlanSession[];
  readonly report: PiImportReport;
}

type Assistant = Extract<Message, { role: 'assistant' }>;

/**
 * The transcript of a branch being planned, without its messages: per
 * message the last path position it came from and its flags (`SUMMARY`: a
 * compaction summary; `TOOL_RESULTS`: a `tool_results` message), in two
 * columns (`PiEntrySource.column`, on disk for a streamed import) used as a
 * deque: message `j` is at `start + j`.
 */
interface TranscriptTags {
  readonly maxPos: PiColumn;
  readonly flags: PiColumn;
  start: number;
  length: number;
}

const SUMMARY = 1;
const TOOL_RESULTS = 2;

const pushTag = (t: TranscriptTags, maxPos: number, flags: number): void => {
  t.maxPos.set(t.start + t.length, maxPos);
  t.flags.set(t.start + t.length, flags);
  t.length++;
};

/** The first message that is not a summary and came from path position `fk` or later, or -1. */
const firstKeptTag = (t: TranscriptTags, fk: number): number => {
  for (let j = 0; j < t.length; j++) if ((t.flags.get(t.start + j) & SUMMARY) === 0 && t.maxPos.get(t.start + j) >= fk) return j;
  return -1;
};

const isToolResultsTag = (t: TranscriptTags, j: number): boolean => (t.flags.get(t.start + j) & TOOL_RESULTS) !== 0;

/** Replaces messages `[0, k)` with one summary from path position `pos` (for `k = 0` the others move up one place). */
const compactTags = (t: TranscriptTags, k: number, pos: number): void => {
  if (k === 0) {
    for (let j = t.length - 1; j >= 0; j--) {
      t.maxPos.set(t.start + j + 1, t.maxPos.get(t.start + j));
      t.flags.set(t.start + j + 1, t.flags.get(t.start + j));
    }
    t.length++;
  } else {
    t.start += k - 1;
    t.length -= k - 1;
  }
  t.maxPos.set(t.start, pos);
  t.flags.set(t.start, SUMMARY);
};

/** An assistant message whose tool calls are not all answered yet. */
interface OpenTurn {
  readonly line: number;
  readonly createdAt: number;
  readonly piStopReason: string;
  readonly calls: readonly ToolUseBlock[];
  readonly answered: Set<string>;
  readonly results: ToolResult[];
  resultsCreatedAt: number | undefined;
  maxPos: number;
  readonly held: Array<() => void>;
}

/**
 * What planning reads of a pi file: the header facts, the entries by index
 * (file order) decoded on demand, and each entry's line and tree links without
 * decoding it. `parsedEntries` wraps a parsed file held in memory; the
 * streaming import (`scan.ts`) reads entries back from the file.
 */
export interface PiEntrySource {
  readonly file: string;
  readonly version: ParsedPiSession['version'];
  readonly header: ParsedPiSession['header'];
  /** The header's time, ms. */
  readonly createdAt: number;
  /** Entries in the file. */
  readonly count: number;
  /** Line and tree links of entry `i`. */
  readonly link: (i: number) => PiEntryLink;
  /** The 1-based line of entry `i`. */
  readonly lineOf: (i: number) => number;
  /**
   * The index of entry `i`'s parent (v2/v3): `j >= 0` the entry its
   * `parentId` names (never itself), `-1` none (`null`, absent, not a string,
   * or its own id: a root), `-2` a string naming no entry (an orphan).
   */
  readonly parentOf: (i: number) => number;
  /** The index of the entry whose `id` is `id` (v2/v3; ids are unique), if any. */
  readonly indexOfId: (id: string) => number | undefined;
  /** Entry `i`, decoded. */
  readonly entry: (i: number) => PiLine;
  /** Every `label` entry, in file order. */
  readonly labels: ReadonlyArray<{ readonly targetId: string; readonly label?: string }>;
  /** Message entries, tool calls in assistant messages, tool results. */
  readonly counts: { readonly messages: number; readonly toolCalls: number; readonly toolResults: number };
  /** What parsing repaired and warned about. */
  readonly repairs: readonly PiRepair[];
  readonly warnings: ParsedPiSession['warnings'];
  /** Scratch storage for what planning keeps per entry and per op (in memory, or on disk for a streamed import). */
  readonly column: PiColumnFactory;
}

/** The counts of `PiEntrySource` for one decoded entry, added to `c`. */
export const countEntry = (c: { messages: number; toolCalls: number; toolResults: number }, e: PiLine): void => {
  if (!e.known || e.entry.type !== 'message') return;
  c.messages++;
  const m = e.entry.message;
  if (m.role === 'assistant') c.toolCalls += m.content.filter((b) => b.type === 'toolCall').length;
  if (m.role === 'toolResult') c.toolResults++;
};

/** The label of one decoded entry, if it is a `label` entry. */
export const labelOfEntry = (e: PiLine): { readonly targetId: string; readonly label?: string } | undefined =>
  e.known && e.entry.type === 'label' ? { targetId: e.entry.targetId, ...(e.entry.label !== undefined ? { label: e.entry.label } : {}) } : undefined;

/** A parsed file held in memory as a `PiEntrySource`. */
export const parsedEntries = (parsed: ParsedPiSession): PiEntrySource => {
  const counts = { messages: 0, toolCalls: 0, toolResults: 0 };
  const labels: Array<{ targetId: string; label?: string }> = [];
  for (const e of parsed.entries) {
    countEntry(counts, e);
    const l = labelOfEntry(e);
    if (l !== undefined) labels.push(l);
  }
  const links = parsed.entries.map(linkOf);
  const byId = new Map<string, number>();
  links.forEach((l, i) => {
    if (typeof l.id === 'string' && !byId.has(l.id)) byId.set(l.id, i);
  });
  const parentOf = (i: number): number => {
    const l = links[i]!;
    const p = l.parentId;
    if (typeof p !== 'string' || p === l.id) return -1;
    return byId.get(p) ?? -2;
  };
  return {
    file: parsed.file,
    version: parsed.version,
    header: parsed.header,
    createdAt: parsed.createdAt,
    count: parsed.entries.length,
    link: (i) => links[i]!,
    lineOf: (i) => links[i]!.line,
    parentOf,
    indexOfId: (id) => byId.get(id),
    entry: (i) => parsed.entries[i]!,
    labels,
    counts,
    repairs: parsed.repairs,
    warnings: parsed.warnings,
    column: memoryColumn,
  };
};

/** What planning one branch gives besides its ops (which go to the branch's `emit`). */
interface BranchResult {
  readonly createdAt: number;
  readonly metadata: Record<string, Json>;
}

const isReserved = (key: string): boolean => key.toLowerCase().startsWith('palimpsest');

const planError = (file: string, line: number, reason: PiPlanErrorReason, what: string, decode?: DecodeError): PiPlanError => ({
  _tag: 'PiPlanError',
  file,
  line,
  reason,
  ...(decode !== undefined ? { path: decode.path } : {}),
  message: `${file}:${line}: ${what}`,
});

/** The initial metadata of every session of `parsed`. */
const headerMetadata = (parsed: Pick<PiEntrySource, 'header' | 'version'>): Record<string, Json> => {
  const h = parsed.header;
  const m: Record<string, Json> = { 'pi.sessionId': h.id, 'pi.version': parsed.version, 'pi.timestamp': h.timestamp };
  if (h.cwd !== undefined) m['pi.cwd'] = h.cwd;
  if (h.provider !== undefined) m['pi.provider'] = h.provider;
  if (h.modelId !== undefined) m['pi.modelId'] = h.modelId;
  if (h.thinkingLevel !== undefined) m['pi.thinkingLevel'] = h.thinkingLevel;
  if (h.branchedFrom !== undefined) m['pi.branchedFrom'] = h.branchedFrom;
  if (h.parentSession !== undefined) m['pi.parentSession'] = h.parentSession;
  return m;
};

/**
 * Plans one branch: the entries of `path` (entry indices, root first) become
 * ops, handed to `emit` in order (nothing is kept but a tag per transcript
 * message, in columns: `TranscriptTags`). Repairs are pushed to `repairs`; the
 * first error ends planning.
 */
const planBranch = (parsed: PiEntrySource, path: PiPath, repairs: PiRepair[], emit: (op: PiPlanOp) => void): E.Either<PiImportError, BranchResult> => {
  const file = parsed.file;
  const firstTime = path.length === 0 ? undefined : parsed.entry(path.at(0)).time;
  const createdAt = firstTime !== undefined ? Math.min(parsed.createdAt, firstTime) : parsed.createdAt;
  const transcript: TranscriptTags = { maxPos: parsed.column('int32'), flags: parsed.column('int32'), start: 0, length: 0 };
  try {
    return planBranchInto(parsed, path, repairs, emit, createdAt, transcript);
  } finally {
    transcript.maxPos.close();
    transcript.flags.close();
  }
};

/** The body of `planBranch`: plans `path` from `createdAt` (ms), keeping the transcript's tags in `transcript`. */
const planBranchInto = (
  parsed: PiEntrySource,
  path: PiPath,
  repairs: PiRepair[],
  emit: (op: PiPlanOp) => void,
  createdAt: number,
  transcript: TranscriptTags,
): E.Either<PiImportError, BranchResult> => {
  const file = parsed.file;
  // The message at transcript index 0 (the only one a no-op compaction can compare with).
  let first: Message | undefined;
  let at = createdAt;
  let open: OpenTurn | undefined;
  let failure: PiImportError | undefined;

  const repair = (kind: PiRepairKind, line: number, what: string, toolUseId?: string): void => {
    repairs.push({ kind, line, ...(toolUseId !== undefined ? { toolUseId } : {}), message: `${file}:${line}: ${what}` });
  };

  /** Decodes `m` (a bug or bad pi data if it fails) and appends it. */
  const append = (m: Message, line: number, maxPos: number, summary = false): void => {
    if (failure !== undefined) return;
    const d = decodeWith(MessageCodec, m);
    if (E.isLeft(d)) {
      failure = planError(file, line, 'invalid_message', `the ${m.role} message made from this entry is not valid: ${d.left.message}`, d.left);
      return;
    }
    if (transcript.length === 0) first = d.right;
    pushTag(transcript, maxPos, (summary ? SUMMARY : 0) | (d.right.role === 'tool_results' ? TOOL_RESULTS : 0));
    emit({ op: 'append', messages: [d.right], at, line: maxPos < path.length ? parsed.lineOf(path.at(maxPos)) : line });
  };

  const setMeta = (key: string, value: Json, line: number): void => {
    if (isReserved(key)) {
      repair('reserved_metadata_key', line, `the metadata key ${JSON.stringify(key)} is reserved for palimpsest and was not set`);
      return;
    }
    emit({ op: 'metadata_set', key, value, at });
  };

  /** Runs `action` now, or after the open turn's results when a tool call is open (reporting the move). */
  const afterResults = (line: number, what: string, action: () => void): void => {
    if (open === undefined) {
      action();
      return;
    }
    repair('moved_after_tool_results', line, `${what} was recorded between the tool calls of line ${open.line} and their results; moved after the results`);
    open.held.push(action);
  };

  /** Appends the open turn's `tool_results` (inserting aborted results for unanswered calls), then what was held. */
  const closeTurn = (): void => {
    const o = open;
    if (o === undefined) return;
    open = undefined;
    const results = [...o.results];
    for (const call of o.calls) {
      if (o.answered.has(call.id)) continue;
      results.push({
        toolUseId: call.id,
        content: [{ type: 'text', text: `Tool call ${call.name} (${call.id}) was aborted: pi recorded no result for it.` }],
        isError: true,
      });
      repair(
        'aborted_tool_call',
        o.line,
        `tool call ${call.name} (${call.id}) has no result (the assistant turn ended with stopReason "${o.piStopReason}"); inserted an isError result saying it was aborted`,
        call.id,
      );
    }
    append({ role: 'tool_results', results, createdAt: o.resultsCreatedAt ?? o.createdAt }, o.line, o.maxPos);
    for (const action of o.held) action();
  };

  const openTurn = (m: Assistant, line: number, pos: number, piStopReason: string): void => {
    const calls = m.content.filter((b): b is ToolUseBlock => b.type === 'tool_use');
    if (calls.length === 0) return;
    const seen = new Set<string>();
    for (const c of calls) {
      if (seen.has(c.id)) {
        failure ??= planError(file, line, 'duplicate_tool_call_id', `the assistant message has two tool calls with id ${JSON.stringify(c.id)}`);
        return;
      }
      seen.add(c.id);
    }
    open = { line, createdAt: m.createdAt, piStopReason, calls, answered: new Set(), results: [], resultsCreatedAt: undefined, maxPos: pos, held: [] };
  };

  const recordUsage = (usage: Usage | undefined): void => {
    if (usage !== undefined && !isZeroUsage(usage)) emit({ op: 'usage', usage, at });
  };

  const compact = (e: PiEntry & { type: 'compaction' }, line: number, pos: number, time: number): void => {
    let firstKept: number | undefined;
    if (e.firstKeptEntryId !== undefined) {
      const i = parsed.indexOfId(e.firstKeptEntryId);
      const p = i === undefined ? -1 : path.posOf(i);
      firstKept = p < 0 ? undefined : p;
    } else if (e.firstKeptEntryIndex !== undefined) {
      // v1: an index into the file's entries with the header at 0 (pi's migration).
      const target = e.firstKeptEntryIndex >= 1 && e.firstKeptEntryIndex <= parsed.count ? e.firstKeptEntryIndex - 1 : undefined;
      if (target === undefined) {
        repair('compaction_index_invalid', line, `firstKeptEntryIndex ${e.firstKeptEntryIndex} names no entry`);
      } else {
        const p = path.posOf(target);
        firstKept = p < 0 ? undefined : p;
      }
    }
    const n = transcript.length;
    let k = n;
    if (firstKept === undefined) {
      repair('compaction_first_kept_missing', line, 'the first kept entry is not on this branch; the compaction summary replaces the whole transcript (as in pi)');
    } else {
      const i = firstKeptTag(transcript, firstKept);
      k = i < 0 ? n : i;
      if (k > 0 && k < n && isToolResultsTag(transcript, k)) {
        k -= 1;
        repair('compaction_cut_moved', line, 'the compaction cut fell between a tool call and its results; the cut moved back to the call');
      }
    }
    const summary: Message = { role: 'user', content: [{ type: 'text', text: e.summary }], transcriptRole: 'compaction_summary', createdAt: time };
    const d = decodeWith(MessageCodec, summary);
    if (E.isLeft(d)) {
      failure ??= planError(file, line, 'invalid_message', `the compaction summary is not valid: ${d.left.message}`, d.left);
      return;
    }
    const { summary: _s, id: _i, parentId: _p, type: _t, ...rest } = e;
    setMeta('pi.compaction', rest as Json, line);
    // Only a one-message span can have the digest of the one-message summary.
    if (k === 1 && first !== undefined && transcriptDigest([first]) === transcriptDigest([d.right])) {
      repair('noop_compaction', line, 'the compaction would not change the transcript and was skipped');
      return;
    }
    emit({
      op: 'rewrite',
      start: 0,
      end: k,
      replacement: [d.right],
      reason: { kind: 'compaction', note: `pi compaction (line ${line}): tokensBefore=${e.tokensBefore}` },
      at,
      line,
    });
    compactTags(transcript, k, pos);
    first = d.right;
  };

  /** A palimpsest message embedded by export (`custom` entry `palimpsest.message`). */
  const embedded = (e: PiEntry & { type: 'custom' }, line: number, pos: number, time: number): boolean => {
    const raw = isJsonObject(e.data) ? withMember(e.data, 'createdAt', time) : e.data;
    const d = decodeWith(MessageInputCodec, raw);
    if (E.isLeft(d)) {
      repair('invalid_embedded_message', line, `the ${EMBEDDED_MESSAGE_TYPE} entry does not hold a message (${d.left.message}); kept as a custom notice`);
      return false;
    }
    const m = d.right as Message;
    switch (m.role) {
      case 'user':
        closeTurn();
        append(m, line, pos);
        return true;
      case 'assistant':
        closeTurn();
        append(m, line, pos);
        recordUsage(m.usage);
        openTurn(m, line, pos, m.stopReason);
        return true;
      case 'tool_results': {
        const o = open;
        const ids = m.results.map((r) => r.toolUseId);
        const fits = o !== undefined && o.results.length === 0 && ids.length === o.calls.length && new Set(ids).size === ids.length && o.calls.every((c) => ids.includes(c.id));
        if (!fits) {
          repair('invalid_embedded_message', line, `the embedded tool_results do not answer the open tool calls; kept as a custom notice`);
          return false;
        }
        open = undefined;
        append(m, line, pos);
        for (const action of o.held) action();
        return true;
      }
      case 'system':
      case 'system_notice':
        afterResults(line, `a ${m.role} message`, () => append(m, line, pos));
        return true;
    }
  };

  const onMessage = (entry: PiEntry & { type: 'message' }, line: number, pos: number, time: number): void => {
    const m = entry.message;
    const createdAt = m.timestamp ?? time;
    switch (m.role) {
      case 'user':
      case 'compactionSummary': {
        closeTurn();
        if (m.role === 'compactionSummary') {
          append({ role: 'user', content: [{ type: 'text', text: m.summary }], transcriptRole: 'compaction_summary', createdAt }, line, pos, true);
          setMeta('pi.compaction', { tokensBefore: m.tokensBefore, timestamp: entry.timestamp }, line);
          return;
        }
        const { blocks, canonicalized } = blocksFromPi(m.content);
        if (canonicalized) repair('image_canonicalized', line, 'an image media type or base64 was rewritten to its canonical spelling');
        if (blocks.length === 0) {
          blocks.push({ type: 'text', text: '' });
          repair('empty_user_content', line, 'the user message had no content blocks; one empty text block was added');
        }
        append({ role: 'user', content: blocks, transcriptRole: 'conversational', createdAt }, line, pos);
        return;
      }
      case 'assistant': {
        closeTurn();
        const mapped = assistantFromPi(m, createdAt);
        for (const id of mapped.residueToolCallIds) repair('streaming_residue', line, `tool call ${id} carried partialJson (streaming residue); dropped`, id);
        if (mapped.redactedThinking > 0) repair('redacted_thinking', line, `${mapped.redactedThinking} redacted thinking block(s) became reasoning with empty text and the payload in signature`);
        append(mapped.message, line, pos);
        recordUsage(mapped.message.usage);
        openTurn(mapped.message, line, pos, m.stopReason);
        return;
      }
      case 'toolResult': {
        const o = open;
        const call = o?.calls.find((c) => c.id === m.toolCallId);
        if (o !== undefined && call !== undefined && !o.answered.has(call.id)) {
          const { result, canonicalized } = toolResultFromPi(m);
          if (canonicalized) repair('image_canonicalized', line, 'an image media type or base64 was rewritten to its canonical spelling');
          if (m.toolName !== undefined && m.toolName !== call.name) {
            repair('tool_name_mismatch', line, `the result names tool ${JSON.stringify(m.toolName)} but call ${call.id} is ${JSON.stringify(call.name)}; the call's name is kept`, call.id);
          }
          o.answered.add(call.id);
          o.results.push(result);
          o.resultsCreatedAt ??= createdAt;
          o.maxPos = pos;
          if (o.answered.size === o.calls.length) closeTurn();
          return;
        }
        const duplicate = o !== undefined && call !== undefined;
        repair(
          duplicate ? 'duplicate_tool_result' : 'orphan_tool_result',
          line,
          duplicate
            ? `a second result for tool call ${m.toolCallId}; kept as an orphan_tool_result notice`
            : `the result of tool call ${m.toolCallId} answers no call of the preceding assistant message; kept as an orphan_tool_result notice`,
          m.toolCallId,
        );
        const n = orphanToolResultNotice(entry, m as PiMessageOf<'toolResult'>, createdAt);
        afterResults(line, 'an orphan tool result', () => append(n, line, pos));
        return;
      }
      case 'bashExecution':
      case 'custom':
      case 'hookMessage':
      case 'branchSummary': {
        const n = noticeForEntry({ known: true, entry }, createdAt);
        if (n !== undefined) afterResults(line, `a ${m.role} message`, () => append(n, line, pos));
        return;
      }
    }
  };

  for (let pos = 0; pos < path.length && failure === undefined; pos++) {
    const pl = parsed.entry(path.at(pos));
    const line = pl.line;
    if (pl.time !== undefined && pl.time > at) at = pl.time;
    const time = pl.time ?? at;
    if (!pl.known) {
      repair('unknown_entry', line, `an entry of unknown type ${JSON.stringify(pl.entry.type)}; kept as a pi_entry notice`);
      const n = noticeForEntry(pl, time)!;
      afterResults(line, `an entry of type ${JSON.stringify(pl.entry.type)}`, () => append(n, line, pos));
      continue;
    }
    const e = pl.entry;
    switch (e.type) {
      case 'message':
        onMessage(e, line, pos, time);
        break;
      case 'compaction':
        afterResults(line, 'a compaction', () => compact(e, line, pos, time));
        break;
      case 'model_change': {
        const n = noticeForEntry(pl, time)!;
        afterResults(line, 'a model change', () => {
          append(n, line, pos);
          setMeta('pi.provider', e.provider, line);
          setMeta('pi.modelId', e.modelId, line);
        });
        break;
      }
      case 'thinking_level_change': {
        const n = noticeForEntry(pl, time)!;
        afterResults(line, 'a thinking level change', () => {
          append(n, line, pos);
          setMeta('pi.thinkingLevel', e.thinkingLevel, line);
        });
        break;
      }
      case 'session_info': {
        const n = noticeForEntry(pl, time)!;
        afterResults(line, 'a session info entry', () => {
          append(n, line, pos);
          if (e.name !== undefined) setMeta('pi.name', e.name, line);
        });
        break;
      }
      case 'custom': {
        if (e.customType === EMBEDDED_METADATA_TYPE && isJsonObject(e.data)) {
          const data = e.data;
          afterResults(line, 'palimpsest metadata', () => {
            for (const k of Object.keys(data)) setMeta(k, data[k]!, line);
          });
          break;
        }
        if (e.customType === EMBEDDED_MESSAGE_TYPE && embedded(e, line, pos, time)) break;
        const n = noticeForEntry(pl, time)!;
        afterResults(line, 'a custom entry', () => append(n, line, pos));
        break;
      }
      case 'custom_message':
      case 'branch_summary':
      case 'label': {
        const n = noticeForEntry(pl, time)!;
        afterResults(line, `a ${e.type} entry`, () => append(n, line, pos));
        break;
      }
    }
  }
  if (failure === undefined) closeTurn();
  if (failure !== undefined) return E.left(failure);
  return E.right({ createdAt, metadata: headerMetadata(parsed) });
};

/**
 * One branch: the entry indices from its root to its leaf. `at(pos)` is the
 * entry at path position `pos`; `posOf(i)` the position of entry `i` on the
 * branch, -1 when it is not on it.
 */
interface PiPath {
  readonly length: number;
  readonly at: (pos: number) => number;
  readonly posOf: (entry: number) => number;
  readonly close: () => void;
}

/**
 * The tree of a file, in columns (`PiEntrySource.column`): each entry's
 * parent index + 1 (0: a root) and depth + 1 (a root: 1), and the leaves (file
 * order). A version 1 file (and a file without entries) is one linear branch.
 */
interface PiTree {
  readonly parent: PiColumn;
  readonly depth: PiColumn;
  readonly leaves: readonly number[];
}

/** The tree of `parsed` (orphans are roots, reported as `orphan_entry` repairs); the caller closes its columns. */
const treeOf = (parsed: PiEntrySource, repairs: PiRepair[]): PiTree => {
  const n = parsed.count;
  const parent = parsed.column('int32');
  const depth = parsed.column('int32');
  if (parsed.version === 1 || n === 0) {
    for (let i = 0; i < n; i++) {
      parent.set(i, i);
      depth.set(i, i + 1);
    }
    return { parent, depth, leaves: [n - 1] };
  }
  const hasChild = parsed.column('int32');
  for (let i = 0; i < n; i++) {
    const j = parsed.parentOf(i);
    if (j === -2) {
      const l = parsed.link(i);
      repairs.push({ kind: 'orphan_entry', line: l.line, message: `${parsed.file}:${l.line}: parent ${JSON.stringify(l.parentId)} does not exist; the entry starts a new root (as in pi)` });
    }
    if (j < 0) continue;
    parent.set(i, j + 1);
    hasChild.set(j, 1);
  }
  const leaves: number[] = [];
  for (let i = 0; i < n; i++) if (hasChild.get(i) === 0) leaves.push(i);
  hasChild.close();
  // Depths: walk up to the nearest entry whose depth is known (a parent may come later in the file), then down again.
  for (let i = 0; i < n; i++) {
    if (depth.get(i) !== 0) continue;
    let k = 0;
    let cur = i;
    for (; cur >= 0 && depth.get(cur) === 0; cur = parent.get(cur) - 1) k++;
    let d = (cur < 0 ? 0 : depth.get(cur)) + k;
    for (cur = i; cur >= 0 && depth.get(cur) === 0; cur = parent.get(cur) - 1) depth.set(cur, d--);
  }
  return { parent, depth, leaves };
};

/** The branch ending at `leaf` (-1: the empty branch of a file without entries), its entries in a fresh column. */
const pathOf = (parsed: PiEntrySource, tree: PiTree, leaf: number): PiPath => {
  if (leaf < 0) return { length: 0, at: () => -1, posOf: () => -1, close: () => undefined };
  const length = tree.depth.get(leaf);
  const col = parsed.column('int32');
  for (let cur = leaf; cur >= 0; cur = tree.parent.get(cur) - 1) col.set(tree.depth.get(cur) - 1, cur);
  return {
    length,
    at: (pos) => col.get(pos),
    posOf: (i) => {
      const d = tree.depth.get(i) - 1;
      return d < length && col.get(d) === i ? d : -1;
    },
    close: col.close,
  };
};

const repairKey = (r: PiRepair): string => `${r.line}\u0000${r.kind}\u0000${r.toolUseId ?? ''}\u0000${r.message}`;

/**
 * A planned branch: its root, and where its op digests start (`base`, in
 * digests) and how many there are in the digest column (the first 128 bits
 * of each op's SHA-256 as 4 int32 values, in `PiEntrySource.column`).
 */
interface PlannedBranch {
  readonly root: number | undefined;
  readonly base: number;
  readonly count: number;
}

const DIGEST_INTS = 4;

/** The 4 int32 values of the digest whose `sha256:<hex>` is `digest`, into `out`. */
const digestInts = (digest: string, out: Int32Array): void => {
  for (let k = 0; k < DIGEST_INTS; k++) out[k] = parseInt(digest.slice(7 + 8 * k, 15 + 8 * k), 16) | 0;
};

/** Whether op `n` of planned branch `b` exists and has the digest `d`. */
const sameDigest = (digests: PiColumn, b: PlannedBranch, n: number, d: Int32Array): boolean => {
  if (n >= b.count) return false;
  const at = (b.base + n) * DIGEST_INTS;
  for (let k = 0; k < DIGEST_INTS; k++) if (digests.get(at + k) !== d[k]) return false;
  return true;
};

/**
 * Where `planPiSessions` puts the ops each session applies itself: `open(i)`
 * before the first op of session `i` (sessions in plan order), then `push` per
 * op with its JSON (`JSON.stringify(op)`).
 */
export interface PiOpSink {
  readonly open: (session: number) => void;
  readonly push: (op: PiPlanOp, json: string) => void;
}

/** The sessions of a plan without their ops (those went to the sink) and the report. */
export interface PiPlanShapes {
  readonly sessions: PiPlanShape[];
  readonly report: PiImportReport;
}

/**
 * Plans the import of a pi file (see the module comment), handing the ops each
 * session applies itself to `sink` as they are made: each branch is planned
 * once, entry by entry, and only 16 bytes of each op's SHA-256 are kept (to
 * find the earlier branch sharing the longest op prefix), so planning holds no
 * message.
 * Fails with the first `PiImportError`.
 */
export const planPiSessions = (parsed: PiEntrySource, sink: PiOpSink): E.Either<PiImportError, PiPlanShapes> => {
  const repairs: PiRepair[] = [...parsed.repairs];
  const tree = treeOf(parsed, repairs);
  const digests = parsed.column('int32');
  try {
    const r = planBranches(parsed, sink, tree, digests, repairs);
    if (E.isLeft(r)) return r;
    return E.right({ sessions: r.right, report: planReport(parsed, repairs, r.right.length) });
  } finally {
    digests.close();
    tree.parent.close();
    tree.depth.close();
  }
};

/** Plans every branch of `tree` (the body of `planPiSessions`): the session shapes in plan order. */
const planBranches = (parsed: PiEntrySource, sink: PiOpSink, tree: PiTree, digests: PiColumn, repairs: PiRepair[]): E.Either<PiImportError, PiPlanShape[]> => {
  // Per planned branch: its root and op digests, how many ops it inherits, its fork parent.
  const planned: PlannedBranch[] = [];
  const inherited: number[] = [];
  const parentIndex: number[] = [];
  const sessions: PiPlanShape[] = [];
  const id = parsed.header.id;
  const lastLine = tree.leaves.reduce((mx, leaf) => Math.max(mx, leaf < 0 ? 0 : parsed.lineOf(leaf)), 0);
  let nextBase = 0;
  const d = new Int32Array(DIGEST_INTS);

  for (const [j, leaf] of tree.leaves.entries()) {
    const path = pathOf(parsed, tree, leaf);
    const root = path.length === 0 ? undefined : path.at(0);
    const leafLine = leaf < 0 ? 0 : parsed.lineOf(leaf);
    const key = parsed.version === 1 || leafLine === lastLine ? id : `${id}#${String(leaf < 0 ? undefined : parsed.link(leaf).id)}`;
    // The earlier branches sharing this one's root; each drops out at its first differing op.
    let alive = planned.flatMap((q, i) => (q.root !== undefined && q.root === root ? [i] : []));
    let best = -1;
    let common = -1;
    const base = nextBase;
    let count = 0;
    const metadata = headerMetadata(parsed);
    let lastAt: number | undefined;
    let firstOwnAt: number | undefined;
    let own = 0;
    const drop = (n: number, keep: (i: number) => boolean): void => {
      const next: number[] = [];
      for (const i of alive) {
        if (keep(i)) next.push(i);
        else if (n > common) {
          common = n;
          best = i;
        }
      }
      alive = next;
    };
    sink.open(j);
    let r: E.Either<PiImportError, BranchResult>;
    let labels: PiPlanShape['labels'] = [];
    try {
      r = planBranch(parsed, path, repairs, (op) => {
        const json = JSON.stringify(op);
        const n = count++;
        digestInts(sha256OfUtf8(json), d);
        for (let k = 0; k < DIGEST_INTS; k++) digests.set((base + n) * DIGEST_INTS + k, d[k]!);
        if (alive.length > 0) drop(n, (i) => sameDigest(digests, planned[i]!, n, d));
        if (alive.length > 0 || (best >= 0 && n < common)) {
          // Still inside the prefix shared with an earlier branch.
          if (op.op === 'metadata_set') metadata[op.key] = op.value;
          lastAt = op.at;
          return;
        }
        firstOwnAt ??= op.at;
        own++;
        sink.push(op, json);
      });
      labels = labelsOn(parsed, path);
    } finally {
      path.close();
    }
    if (E.isLeft(r)) return r;
    nextBase += count;
    // Branches still matching at the end share this branch's whole op list (the earliest wins, as for a drop).
    if (alive.length > 0) drop(count, () => false);
    planned.push({ root, base, count });
    if (best < 0) {
      inherited.push(0);
      parentIndex.push(-1);
      sessions.push({ key, metadata: r.right.metadata, createdAt: r.right.createdAt, leafLine, opCount: own, labels });
      continue;
    }
    // Fork from the session that holds op `common` as its own: walk up while the prefix lies within what it inherited.
    let target = best;
    while (parentIndex[target]! >= 0 && common <= inherited[target]!) target = parentIndex[target]!;
    const afterOp = common - inherited[target]!;
    const createdAt = firstOwnAt ?? lastAt ?? r.right.createdAt;
    inherited.push(common);
    parentIndex.push(target);
    sessions.push({ key, metadata, createdAt, leafLine, forkOf: { sessionKey: sessions[target]!.key, afterOp }, opCount: own, labels });
  }
  return E.right(sessions);
};

/** The report of a plan: the file's counts, `sessions`, the repairs (each once, by line) and warnings. */
const planReport = (parsed: PiEntrySource, repairs: readonly PiRepair[], sessions: number): PiImportReport => {
  const seen = new Set<string>();
  const unique = repairs.filter((r) => {
    const k = repairKey(r);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  unique.sort((a, b) => a.line - b.line);
  return {
    file: parsed.file,
    version: parsed.version,
    entries: parsed.count,
    ...parsed.counts,
    sessions,
    repairs: unique,
    warnings: parsed.warnings,
  };
};

/** The pi labels whose target is on `path` (file order; see `PiPlanShape.labels`). */
const labelsOn = (parsed: PiEntrySource, path: PiPath): PiPlanShape['labels'] =>
  parsed.labels.flatMap((l) => {
    const i = parsed.indexOfId(l.targetId);
    if (i === undefined || path.posOf(i) < 0) return [];
    return [{ targetLine: parsed.lineOf(i), targetId: l.targetId, ...(l.label !== undefined && l.label !== '' ? { label: l.label } : {}) }];
  });

/**
 * Plans the import of a parsed pi file held in memory: one session per branch
 * (forks for branches of a tree), each with its list of ops, and the report.
 * See the module comment for the rules and `planPiSessions` for the streaming
 * form. Fails with the first `PiImportError` (a message that does not decode,
 * duplicate tool call ids in one assistant message).
 */
export const planPiImport = (parsed: ParsedPiSession): E.Either<PiImportError, PiImportPlan> => {
  const ops: PiPlanOp[][] = [];
  const r = planPiSessions(parsedEntries(parsed), { open: (i) => void (ops[i] = []), push: (op) => void ops[ops.length - 1]!.push(op) });
  if (E.isLeft(r)) return r;
  return E.right({ sessions: r.right.sessions.map((s, i) => ({ ...s, ops: ops[i]! })), report: r.right.report });
};

/**
 * The messages a planned session ends with: its fork parent's messages after
 * `afterOp` ops (for forks), then its own appends and rewrites applied in order.
 * `sessions` must hold the parent before the child (plan order). Pure; for
 * tests, previews and the importer's cross-check.
 */
export const plannedMessages = (sessions: readonly PiPlanSession[], key: string): Message[] => {
  const s = sessions.find((x) => x.key === key);
  return s === undefined ? [] : messagesAfter(sessions, s, s.ops.length);
};

/** The messages of planned session `s` after its first `n` ops (its fork parent's messages first). */
const messagesAfter = (sessions: readonly PiPlanSession[], s: PiPlanSession, n: number): Message[] => {
  const fork = s.forkOf;
  const parent = fork === undefined ? undefined : sessions.find((x) => x.key === fork.sessionKey);
  const base = parent === undefined || fork === undefined ? [] : messagesAfter(sessions, parent, fork.afterOp);
  return applyOps(base, s.ops.slice(0, n));
};

/**
 * The source line of each message a planned session ends with (same order as
 * `plannedMessages`): the line of the entry the message came from. Pure.
 */
export const plannedMessageLines = (sessions: readonly PiPlanSession[], key: string): number[] => {
  const s = sessions.find((x) => x.key === key);
  return s === undefined ? [] : linesAfter(sessions, s, s.ops.length);
};

const linesAfter = (sessions: readonly PiPlanSession[], s: PiPlanSession, n: number): number[] => {
  const fork = s.forkOf;
  const parent = fork === undefined ? undefined : sessions.find((x) => x.key === fork.sessionKey);
  let out = parent === undefined || fork === undefined ? [] : linesAfter(sessions, parent, fork.afterOp);
  for (const op of s.ops.slice(0, n)) {
    if (op.op === 'append') out.push(...op.messages.map(() => op.line));
    else if (op.op === 'rewrite') out = [...out.slice(0, op.start), ...op.replacement.map(() => op.line), ...out.slice(op.end)];
  }
  return out;
};

/** Applies the transcript ops (`append`, `rewrite`) of `ops` to `messages`. */
export const applyOps = (messages: readonly Message[], ops: readonly PiPlanOp[]): Message[] => {
  let out = [...messages];
  for (const op of ops) {
    if (op.op === 'append') out.push(...op.messages);
    else if (op.op === 'rewrite') out = [...out.slice(0, op.start), ...op.replacement, ...out.slice(op.end)];
  }
  return out;
};
