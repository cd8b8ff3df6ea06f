/**
 * Parsing a pi session file (JSONL) into decoded entries.
 *
 * Rules (spec README §7, model.md §8–§9):
 * - the first non-blank line is the header `{ type: 'session', ... }`; without it
 *   the file is refused (`missing_header`); its `version` (absent = 1) must be 1–3;
 * - every later non-blank line is one entry, decoded by `PiEntryCodec`; a line
 *   that is not JSON, not an object, or does not decode is a `PiParseError`
 *   naming the file and the 1-based line; an unknown message role is
 *   `unknown_role`; an unknown entry type is kept (the plan reports it);
 * - a last line that is not JSON and has no newline after it is a half-written
 *   line (pi crashed mid-append): it is skipped with a `truncated_last_line`
 *   warning and the rest is imported;
 * - strings (and keys) that are not well-formed UTF-16 are repaired with
 *   `String.prototype.toWellFormed()` and each repair is reported with its line
 *   and JSON path;
 * - from version 2 every entry has `id` and `parentId`; ids are unique and the
 *   parent links have no cycle.
 *
 * Pure: no I/O. The caller reads the file (UTF-8) and passes its text.
 */
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith, isPlainObject, isWellFormed, keyPath, type DecodeError } from '../../model/decode.ts';
import type { Json } from '../../model/json.ts';
import { PiEntryCodec, PiHeaderCodec, type PiAnyEntry, type PiHeader, type PiVersion } from './format.ts';
import type { PiImportError, PiParseError, PiParseErrorReason, PiRepair, PiWarning } from './report.ts';

/** One decoded entry with its 1-based line and its time (ms since the epoch, from the ISO `timestamp`; absent only for an unknown entry without one). */
export type PiLine = PiAnyEntry & { readonly line: number; readonly time: number | undefined };

/**
 * A parsed pi file: `header` (line `headerLine`), its `version` (1–3),
 * `createdAt` = the header's timestamp in ms, the entries in file order, and
 * what parsing repaired (`lone_surrogate`, `v1_entry_link_ignored`) or warned
 * about (`truncated_last_line`, `byte_order_mark`).
 */
export interface ParsedPiSession {
  readonly file: string;
  readonly version: PiVersion;
  readonly header: PiHeader;
  readonly headerLine: number;
  readonly createdAt: number;
  readonly entries: readonly PiLine[];
  readonly repairs: readonly PiRepair[];
  readonly warnings: readonly PiWarning[];
}

/** Builds a `PiParseError` whose message reads `file:line: what`. */
export const piParseError = (file: string, line: number, reason: PiParseErrorReason, what: string, decode?: DecodeError): PiParseError => ({
  _tag: 'PiParseError',
  file,
  line,
  reason,
  ...(decode !== undefined ? { path: decode.path, decodeReason: decode.reason } : {}),
  message: `${file}:${line}: ${what}`,
});

/** `s.toWellFormed()` (ES2024, native on Node >= 20): lone surrogates become U+FFFD. */
export const toWellFormed = (s: string): string => s.toWellFormed();

// A lone surrogate can only come from a `\uD800`–`\uDFFF` escape or a raw surrogate in the text.
const surrogateEscape = /\\u[dD][89a-fA-F]/;

/** Returns `value` with every string and key made well-formed; `paths` collects the JSON paths repaired. */
const repairStrings = (value: unknown, path: string, paths: string[]): unknown => {
  if (typeof value === 'string') {
    if (isWellFormed(value)) return value;
    paths.push(path);
    return toWellFormed(value);
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = repairStrings(value[i], `${path}[${i}]`, paths);
      if (v !== value[i]) (out ??= [...value])[i] = v;
    }
    return out ?? value;
  }
  if (isPlainObject(value)) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) {
      let key = k;
      if (!isWellFormed(k)) {
        key = toWellFormed(k);
        paths.push(`${path}${keyPath(key)} (key)`);
        changed = true;
      }
      const v = repairStrings(value[k], `${path}${keyPath(key)}`, paths);
      if (v !== value[k]) changed = true;
      out[key] = v;
    }
    return changed ? out : value;
  }
  return value;
};

const describeJson = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? 'a string' : `a ${typeof v}`);

const decodeFailure = (file: string, line: number, what: 'header' | 'entry', e: DecodeError): PiParseError =>
  e.reason === 'unknown_role'
    ? piParseError(file, line, 'unknown_role', `unknown message role: ${e.message}`, e)
    : piParseError(file, line, what === 'header' ? 'invalid_header' : 'invalid_entry', `invalid ${what}: ${e.message}`, e);

/**
 * The entry ids a line-by-line parse has seen, with their 1-based lines (for
 * duplicates): a `Map` for a file parsed in memory; the streamed import
 * (`scan.ts`) answers `get` from its on-disk index and adds each entry itself
 * (its `set` does nothing).
 */
export interface PiSeenIds {
  readonly get: (id: string) => number | undefined;
  readonly set: (id: string, line: number) => unknown;
}

/**
 * The state of a line-by-line parse (`parsePiLine`): the header once read, the
 * entry ids seen (for duplicates) and what was repaired or warned about. Made by
 * `piParseState`; `parsePiJsonl` and the streaming import (`scan.ts`) share it.
 */
export interface PiParseState {
  readonly file: string;
  header: PiHeader | undefined;
  headerLine: number;
  version: PiVersion;
  createdAt: number;
  /** The 1-based line of the last non-blank line pushed. */
  lastContent: number;
  readonly ids: PiSeenIds;
  readonly repairs: PiRepair[];
  readonly warnings: PiWarning[];
}

/** A fresh parse state for the file named `file`. */
export const piParseState = (file: string, ids: PiSeenIds = new Map<string, number>()): PiParseState => ({
  file,
  header: undefined,
  headerLine: 0,
  version: 1,
  createdAt: 0,
  lastContent: 0,
  ids,
  repairs: [],
  warnings: [],
});

/**
 * Parses line `line` (1-based; `source` without its newline) of the file.
 * `terminated` is false only for the file's last segment when no newline ends
 * it: such a line that is not JSON is a half-written last line (a
 * `truncated_last_line` warning, skipped). Returns the decoded entry, or
 * `undefined` for a blank line, the header and a skipped line; a
 * `PiParseError` (file, line, reason) for anything else that breaks the rules.
 */
export const parsePiLine = (st: PiParseState, text: string, line: number, terminated: boolean): E.Either<PiImportError, PiLine | undefined> => {
  const file = st.file;
  let source = text;
  if (line === 1 && source.startsWith('\ufeff')) {
    source = source.slice(1);
    st.warnings.push({ kind: 'byte_order_mark', line: 1, message: `${file}:1: a UTF-8 byte order mark was ignored` });
  }
  if (source.trim() === '') return E.right(undefined);
  st.lastContent = line;
  let value: unknown;
  try {
    value = JSON.parse(source) as unknown;
  } catch (err) {
    if (!terminated) {
      st.warnings.push({
        kind: 'truncated_last_line',
        line,
        message: `${file}:${line}: the last line is half-written (${source.length} characters, no newline) and was skipped`,
      });
      return E.right(undefined);
    }
    const why = err instanceof Error ? err.message : String(err);
    return E.left(piParseError(file, line, 'malformed_json', `the line is not JSON: ${why}`));
  }
  if (!isPlainObject(value)) {
    return E.left(
      st.header === undefined
        ? piParseError(file, line, 'missing_header', `expected the session header, found ${describeJson(value)}`)
        : piParseError(file, line, 'not_an_object', `expected an entry object, found ${describeJson(value)}`),
    );
  }
  if (surrogateEscape.test(source) || !isWellFormed(source)) {
    const paths: string[] = [];
    value = repairStrings(value, '$', paths);
    for (const p of paths) {
      st.repairs.push({ kind: 'lone_surrogate', line, message: `${file}:${line}: the string at ${p} had a lone surrogate and was repaired with toWellFormed()` });
    }
  }
  const obj = value as Record<string, Json>;

  if (st.header === undefined) {
    if (obj['type'] !== 'session') {
      return E.left(piParseError(file, line, 'missing_header', `expected the session header ({"type":"session",...}) as the first line, found type ${JSON.stringify(obj['type'] ?? null)}`));
    }
    const h = decodeWith(PiHeaderCodec, obj);
    if (E.isLeft(h)) return E.left(decodeFailure(file, line, 'header', h.left));
    const v = h.right.version ?? 1;
    if (v !== 1 && v !== 2 && v !== 3) {
      return E.left(piParseError(file, line, 'unsupported_version', `unsupported pi session version ${v} (this importer reads 1 to 3)`));
    }
    const t = Date.parse(h.right.timestamp);
    if (!Number.isFinite(t) || t < 0) {
      return E.left(piParseError(file, line, 'invalid_header', `the header timestamp ${JSON.stringify(h.right.timestamp)} is not an ISO date`));
    }
    st.header = h.right;
    st.headerLine = line;
    st.version = v;
    st.createdAt = t;
    return E.right(undefined);
  }

  if (obj['type'] === 'session') {
    return E.left(piParseError(file, line, 'duplicate_header', `a second session header (the header is line ${st.headerLine})`));
  }
  const d = decodeWith(PiEntryCodec, obj);
  if (E.isLeft(d)) return E.left(decodeFailure(file, line, 'entry', d.left));
  let decoded = d.right;
  const entry = decoded.entry;

  let time: number | undefined;
  if (entry.timestamp !== undefined) {
    time = Date.parse(entry.timestamp);
    if (!Number.isFinite(time) || time < 0) {
      return E.left(piParseError(file, line, 'invalid_timestamp', `the entry timestamp ${JSON.stringify(entry.timestamp)} is not an ISO date`));
    }
  }

  if (st.version >= 2) {
    if (typeof entry.id !== 'string' || entry.id === '' || entry.parentId === undefined) {
      return E.left(piParseError(file, line, 'missing_entry_id', `a version ${st.version} entry needs a non-empty "id" and a "parentId" (null at a root)`));
    }
    const seen = st.ids.get(entry.id);
    if (seen !== undefined) {
      return E.left(piParseError(file, line, 'duplicate_entry_id', `entry id ${JSON.stringify(entry.id)} is already used on line ${seen}`));
    }
    st.ids.set(entry.id, line);
  } else if (entry.id !== undefined || entry.parentId !== undefined) {
    const { id: _i, parentId: _p, ...rest } = entry as Record<string, unknown>;
    decoded = { known: decoded.known, entry: rest } as PiAnyEntry;
    st.repairs.push({ kind: 'v1_entry_link_ignored', line, message: `${file}:${line}: a version 1 entry carried id/parentId; pi's migration replaces them, so they were ignored` });
  }
  // Built member by member: on Node 20 (V8 11.3) a spread followed by more members (`{ ...decoded, line, time }`)
  // made every such object survive into the old generation, and with it the parsed entry it points to
  // (bench/RESULTS.md, "I1": old-generation churn).
  return E.right(decoded.known ? { known: true, entry: decoded.entry, line, time } : { known: false, entry: decoded.entry, line, time });
};

/**
 * Ends a line-by-line parse: the file must have had a header, and (version 2
 * and 3) the parent links must not loop: `findCycle` gives the first entry (file
 * order) whose parent chain loops, if any (`findCycleIn` over the decoded
 * entries, or the scan's on-disk search). Returns the header facts or the
 * `PiParseError`.
 */
export const finishPiParse = (
  st: PiParseState,
  findCycle: () => { readonly id: string; readonly line: number } | undefined,
): E.Either<PiParseError, { readonly header: PiHeader; readonly headerLine: number; readonly version: PiVersion; readonly createdAt: number }> => {
  if (st.header === undefined) return E.left(piParseError(st.file, st.lastContent > 0 ? st.lastContent : 1, 'missing_header', 'the file has no session header'));
  if (st.version >= 2) {
    const cycle = findCycle();
    if (cycle !== undefined) return E.left(piParseError(st.file, cycle.line, 'tree_cycle', `the parentId links from entry ${JSON.stringify(cycle.id)} loop`));
  }
  return E.right({ header: st.header, headerLine: st.headerLine, version: st.version, createdAt: st.createdAt });
};

/** The tree links of one entry: its line, id and parent id as written (v2/v3). */
export interface PiEntryLink {
  readonly line: number;
  readonly id: string | undefined;
  readonly parentId: unknown;
}

/** The links of a decoded entry. */
export const linkOf = (e: PiLine): PiEntryLink => ({ line: e.line, id: e.entry.id as string | undefined, parentId: e.entry.parentId });

/**
 * Parses the text of a pi session file. `file` names it in errors and reports.
 * Returns the decoded header and entries, or the first `PiParseError` (file, line,
 * reason) in file order. See the module comment for the rules.
 */
export const parsePiJsonl = (text: string, file: string): E.Either<PiImportError, ParsedPiSession> => {
  const st = piParseState(file);
  const raw = text.split('\n');
  const entries: PiLine[] = [];
  for (let i = 0; i < raw.length; i++) {
    const r = parsePiLine(st, raw[i]!, i + 1, i < raw.length - 1);
    if (E.isLeft(r)) return r;
    if (r.right !== undefined) entries.push(r.right);
  }
  const done = finishPiParse(st, () => findCycleIn(entries.length, (i) => linkOf(entries[i]!)));
  if (E.isLeft(done)) return done;
  return E.right({ file, ...done.right, entries, repairs: st.repairs, warnings: st.warnings });
};

/** The first entry (in file order) whose parent chain loops, if any. A parent id naming no entry ends the chain (pi treats such an entry as a root). */
const findCycleIn = (count: number, link: (i: number) => PiEntryLink): { id: string; line: number } | undefined => {
  const parentOf = new Map<string, string | null>();
  for (let i = 0; i < count; i++) {
    const e = link(i);
    parentOf.set(e.id as string, (e.parentId ?? null) as string | null);
  }
  const done = new Set<string>();
  for (let i = 0; i < count; i++) {
    const e = link(i);
    const start = e.id as string;
    const onPath = new Set<string>();
    let cur: string | null | undefined = start;
    while (cur !== null && cur !== undefined && !done.has(cur) && parentOf.has(cur)) {
      if (onPath.has(cur)) return { id: start, line: e.line };
      onPath.add(cur);
      const p: string | null | undefined = parentOf.get(cur);
      cur = p === cur ? null : p; // pi treats parentId === id as a root
    }
    for (const id of onPath) done.add(id);
  }
  return undefined;
};
