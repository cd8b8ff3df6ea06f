/**
 * The entries of a stored pi source as pi version 3 would hold them, for export.
 *
 * A version 3 file's entries are its lines as written (parsed as JSON, so key
 * order is kept). A version 1 or 2 file is migrated the way pi migrates it when
 * it opens the file (pi-mono `session-manager.ts`, `migrateV1ToV2` and
 * `migrateV2ToV3`): v1 → v2 gives every entry an 8-hex-digit `id` and chains
 * `parentId` in file order, turns a compaction's `firstKeptEntryIndex` (an
 * index into the file's lines with the header at 0) into `firstKeptEntryId`
 * and sets the header `version`; v2 → v3 renames the message role
 * `hookMessage` to `custom`. pi draws the new ids at random; here they are
 * `sha256(<file digest>:<line>)`'s first 8 hex digits (more on a collision), so
 * the same file always migrates to the same ids.
 *
 * Which lines are entries is decided by `parsePiJsonl` (the importer's own
 * rules: blank lines and a half-written last line are not entries). Pure.
 */
import * as E from 'fp-ts/lib/Either.js';
import { sha256OfUtf8 } from '../../model/hashing.ts';
import type { Digest } from '../../model/scalars.ts';
import { parsePiJsonl, type ParsedPiSession } from './parse.ts';
import type { PiImportError } from './report.ts';

/** One entry of a source as pi v3: its source line, id, parent id and JSON object (key order as written). */
export interface SourceEntry {
  readonly line: number;
  readonly id: string;
  readonly parentId: string | null;
  readonly value: Record<string, unknown>;
}

/** A source file as pi v3: header, entries in file order, and lookups by id and by line. */
export interface SourceTree {
  readonly parsed: ParsedPiSession;
  readonly header: Record<string, unknown>;
  readonly entries: readonly SourceEntry[];
  readonly byId: ReadonlyMap<string, SourceEntry>;
  readonly idOfLine: ReadonlyMap<number, string>;
}

/** The deterministic migration id of the entry on `line` of the file with `digest`, not in `used`. */
const migrationId = (digest: Digest, line: number, used: ReadonlySet<string>): string => {
  const hex = sha256OfUtf8(`${digest}:${line}`).slice('sha256:'.length);
  for (let n = 8; n <= hex.length; n++) {
    const id = hex.slice(0, n);
    if (!used.has(id)) return id;
  }
  return `${hex}-${line}`;
};

/**
 * The source `text` (a pi file with `sha256:` `digest`, named `file`) as pi v3
 * entries. Errors: the `PiParseError` `parsePiJsonl` gives (a stored source
 * parsed once already, so only a changed parser can make it fail).
 */
export const sourceTree = (text: string, file: string, digest: Digest): E.Either<PiImportError, SourceTree> => {
  const p = parsePiJsonl(text, file);
  if (E.isLeft(p)) return p;
  const parsed = p.right;
  const raw = (text.startsWith('\ufeff') ? text.slice(1) : text).split('\n');
  const header = JSON.parse(raw[parsed.headerLine - 1]!) as Record<string, unknown>;
  const values = parsed.entries.map((e) => JSON.parse(raw[e.line - 1]!) as Record<string, unknown>);

  if (parsed.version < 2) {
    // pi's migrateV1ToV2, with deterministic ids.
    header['version'] = 2;
    const used = new Set<string>();
    let prev: string | null = null;
    values.forEach((v, i) => {
      const id = migrationId(digest, parsed.entries[i]!.line, used);
      used.add(id);
      v['id'] = id;
      v['parentId'] = prev;
      prev = id;
      if (v['type'] === 'compaction' && typeof v['firstKeptEntryIndex'] === 'number') {
        const idx = v['firstKeptEntryIndex'];
        const target = idx >= 1 ? values[idx - 1] : undefined;
        if (target !== undefined && typeof target['id'] === 'string') v['firstKeptEntryId'] = target['id'];
        delete v['firstKeptEntryIndex'];
      }
    });
  }
  if (parsed.version < 3) {
    // pi's migrateV2ToV3.
    header['version'] = 3;
    for (const v of values) {
      const m = v['message'];
      if (v['type'] === 'message' && typeof m === 'object' && m !== null && (m as Record<string, unknown>)['role'] === 'hookMessage') {
        (m as Record<string, unknown>)['role'] = 'custom';
      }
    }
  }
  const entries: SourceEntry[] = values.map((value, i) => ({
    line: parsed.entries[i]!.line,
    id: value['id'] as string,
    parentId: typeof value['parentId'] === 'string' ? value['parentId'] : null,
    value,
  }));
  return E.right({
    parsed,
    header,
    entries,
    byId: new Map(entries.map((e) => [e.id, e])),
    idOfLine: new Map(entries.map((e) => [e.line, e.id])),
  });
};
