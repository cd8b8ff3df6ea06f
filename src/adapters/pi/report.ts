/**
 * Errors, repairs, warnings and the import report of the pi adapter.
 *
 * Errors are plain objects `{ _tag, ...fields, message }` returned as `Either`
 * lefts (README §9). Every error and repair names the file and the 1-based line
 * of the pi JSONL file it concerns.
 */
import type { DecodeReason } from '../../model/decode.ts';
import type { PiVersion } from './format.ts';

/** Why a pi file could not be parsed (README §7). */
export type PiParseErrorReason =
  /** the line is not JSON text (and is not a half-written last line) */
  | 'malformed_json'
  /** the line is JSON but not an object (a number, string, array, null) */
  | 'not_an_object'
  /** the file has no `{ type: 'session' }` header as its first line */
  | 'missing_header'
  /** the header line does not decode */
  | 'invalid_header'
  /** a second `session` line after the header */
  | 'duplicate_header'
  /** the header's `version` is not 1, 2 or 3 */
  | 'unsupported_version'
  /** a message entry has a `role` pi does not define */
  | 'unknown_role'
  /** an entry does not decode (see `path` and `decodeReason`) */
  | 'invalid_entry'
  /** an ISO `timestamp` that does not parse */
  | 'invalid_timestamp'
  /** a version 2/3 entry without `id` or `parentId` */
  | 'missing_entry_id'
  /** two entries with the same `id` */
  | 'duplicate_entry_id'
  /** `parentId` links that loop */
  | 'tree_cycle';

/** A pi file is malformed at `line` (1-based) of `file`. `path`/`decodeReason` locate a codec failure inside the line. */
export interface PiParseError {
  readonly _tag: 'PiParseError';
  readonly file: string;
  readonly line: number;
  readonly reason: PiParseErrorReason;
  readonly path?: string;
  readonly decodeReason?: DecodeReason;
  readonly message: string;
}

/** Why a parsed pi session could not be planned. */
export type PiPlanErrorReason =
  /** a mapped message fails `MessageCodec` (e.g. an empty tool call id, an image that is not one) */
  | 'invalid_message'
  /** one assistant message has two tool calls with the same id (the shape rule cannot hold) */
  | 'duplicate_tool_call_id';

/** A parsed entry cannot become palimpsest messages. */
export interface PiPlanError {
  readonly _tag: 'PiPlanError';
  readonly file: string;
  readonly line: number;
  readonly reason: PiPlanErrorReason;
  readonly path?: string;
  readonly message: string;
}

/** Any pi import failure. */
export type PiImportError = PiParseError | PiPlanError;

/** What the importer changed or moved to make a pi file a valid palimpsest session. */
export type PiRepairKind =
  /** a tool call without a result got an inserted `isError: true` result saying it was aborted */
  | 'aborted_tool_call'
  /** a toolResult whose call is not in the preceding assistant message; kept as an `orphan_tool_result` notice */
  | 'orphan_tool_result'
  /** a second toolResult for a call already answered; kept as an `orphan_tool_result` notice */
  | 'duplicate_tool_result'
  /** an entry recorded between a tool call and its results was moved after the results */
  | 'moved_after_tool_results'
  /** a toolCall's `partialJson` (streaming residue) was dropped */
  | 'streaming_residue'
  /** a string that was not well-formed UTF-16 was repaired with `toWellFormed()` */
  | 'lone_surrogate'
  /** an entry of a type pi does not define, kept as a `pi_entry` notice */
  | 'unknown_entry'
  /** a compaction's first kept entry is not on the branch: the whole transcript was summarized (as pi does) */
  | 'compaction_first_kept_missing'
  /** a compaction cut fell inside a tool call and its results: the cut moved back to the call */
  | 'compaction_cut_moved'
  /** a compaction that would not change the transcript was skipped */
  | 'noop_compaction'
  /** a user message with no content blocks got one empty text block */
  | 'empty_user_content'
  /** an image's media type or base64 was rewritten to the canonical spelling */
  | 'image_canonicalized'
  /** a toolResult's `toolName` differs from its call's name (the call's name is kept) */
  | 'tool_name_mismatch'
  /** a redacted thinking block became `reasoning` with empty text and the payload in `signature` */
  | 'redacted_thinking'
  /** a version 2/3 entry whose parent is missing was treated as a root (as pi does) */
  | 'orphan_entry'
  /** a version 1 entry carried `id`/`parentId`; pi's migration replaces them, so they were ignored */
  | 'v1_entry_link_ignored'
  /** a version 1 compaction's `firstKeptEntryIndex` did not name an entry */
  | 'compaction_index_invalid'
  /** a metadata key reserved for palimpsest was refused */
  | 'reserved_metadata_key'
  /** a `palimpsest.message` custom entry did not hold a message; kept as a `custom` notice */
  | 'invalid_embedded_message';

/** One repair, at `line` (1-based) of the pi file; `toolUseId` when it concerns a tool call. */
export interface PiRepair {
  readonly kind: PiRepairKind;
  readonly line: number;
  readonly toolUseId?: string;
  readonly message: string;
}

/** A condition that did not change the imported data but should be known. */
export type PiWarningKind =
  /** the last line was half-written (a crash mid-append) and was skipped */
  | 'truncated_last_line'
  /** a UTF-8 byte order mark at the start of the file was ignored */
  | 'byte_order_mark';

/** One warning; `line` when it concerns a line. */
export interface PiWarning {
  readonly kind: PiWarningKind;
  readonly line?: number;
  readonly message: string;
}

/**
 * What an import found and did. Counts are over the whole file (every branch):
 * `entries` excludes the header, `messages` counts `message` entries,
 * `toolCalls` the `toolCall` blocks in them, `toolResults` the `toolResult`
 * messages. `sessions` is the number of planned sessions (one per branch).
 */
export interface PiImportReport {
  readonly file: string;
  readonly version: PiVersion;
  readonly entries: number;
  readonly messages: number;
  readonly toolCalls: number;
  readonly toolResults: number;
  readonly sessions: number;
  readonly repairs: readonly PiRepair[];
  readonly warnings: readonly PiWarning[];
}
