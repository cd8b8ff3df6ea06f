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
 * Which lines are entries is decided by the importer's own parse (`parse.ts`:
 * blank lines and a half-written last line are not entries), in memory or
 * streamed (`scan.ts`).
 *
 * Two forms. `sourceTree(text, …)` holds a whole (small) file in memory, every
 * entry parsed. The export streams instead (`sourceExport.ts`): the stored
 * source is copied, checked, to a scratch file once (`copyPiSource`), read in
 * blocks of lines (`piSourceLines`), indexed without entry values (a v2/v3
 * file by its scan's on-disk index, `scannedPiSourceIndex`; a v1 file in
 * memory, `indexPiSource`, about 70 bytes an entry), and each entry is parsed
 * and migrated only when it is written (`sourceEntryValue`). Both forms give
 * the same entries.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { sha256OfUtf8 } from '../../model/hashing.ts';
import type { BlobId, Digest } from '../../model/scalars.ts';
import type { SessionStore, StoreError } from '../../store/index.ts';
import { parsePiJsonl, type ParsedPiSession } from './parse.ts';
import type { PiImportError } from './report.ts';
import type { PiSourceMismatch } from './source.ts';

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

/**
 * The index of a source as pi v3 without its entry values: entry `i` (file
 * order, `0 ≤ i < count`) is on 1-based line `lineOf(i)` (increasing in
 * `i`), has id `idOf(i)` (migrated for v1) and parent entry `parentOf(i)`
 * (−1: `null`, not a string, its own id, or an id no entry has). Held in
 * memory (`indexPiSource`) or read from a scan's on-disk index
 * (`scannedPiSourceIndex`).
 */
export interface PiSourceIndex {
  readonly file: string;
  readonly digest: Digest;
  /** The file's own version (1–3); the entries are given as v3. */
  readonly version: 1 | 2 | 3;
  /** The header as pi v3 (key order as written). */
  readonly header: Record<string, unknown>;
  /** The header's `id` as written. */
  readonly headerId: string;
  readonly count: number;
  readonly lineOf: (i: number) => number;
  readonly idOf: (i: number) => string;
  readonly parentOf: (i: number) => number;
  /** The entry whose id is `id`, if any. */
  readonly indexOfId: (id: string) => number | undefined;
  /** v1 only: entries whose line carried its own string `id` (ignored by pi's migration, but a compaction's `firstKeptEntryIndex` naming a later entry reads it). */
  readonly rawIds: ReadonlyMap<number, string>;
}

/** One line of a file: 1-based number, text without its newline, and whether a newline ended it. */
export interface PiSourceLine {
  readonly line: number;
  readonly text: string;
  readonly terminated: boolean;
}

/** The deterministic migration id of the entry on `line` of the file with `digest`, not in `used`. */
const migrationId = (digest: Digest, line: number, used: { has: (id: string) => boolean }): string => {
  const hex = sha256OfUtf8(`${digest}:${line}`).slice('sha256:'.length);
  for (let n = 8; n <= hex.length; n++) {
    const id = hex.slice(0, n);
    if (!used.has(id)) return id;
  }
  return `${hex}-${line}`;
};

/** Bytes read from a scratch source file at a time. */
const READ_BLOCK = 1 << 20;

/**
 * The lines of the file at `path`, read `READ_BLOCK` bytes at a time and cut
 * at `\n` (so a line is decoded as UTF-8 whole, as `text.split('\n')` of the
 * decoded file would give it); a UTF-8 byte order mark is dropped from line 1.
 * The last segment (possibly empty) is not `terminated`. Memory: one block
 * and the longest line. Throws the `fs` error of a failed read.
 */
export function* piSourceLines(path: string): Generator<PiSourceLine, void, undefined> {
  const fd = openSync(path, 'r');
  try {
    const block = Buffer.allocUnsafe(READ_BLOCK);
    let carry: Buffer[] = [];
    let line = 0;
    let position = 0;
    for (;;) {
      const n = readSync(fd, block, 0, READ_BLOCK, position);
      if (n === 0) break;
      position += n;
      let start = 0;
      for (let nl = block.indexOf(0x0a, 0); nl !== -1 && nl < n; nl = block.indexOf(0x0a, start)) {
        const part = block.subarray(start, nl);
        const bytes = carry.length === 0 ? part : Buffer.concat([...carry, part]);
        carry = [];
        line++;
        yield { line, text: textOf(bytes, line), terminated: true };
        start = nl + 1;
      }
      if (start < n) carry.push(Buffer.from(block.subarray(start, n)));
    }
    line++;
    yield { line, text: textOf(Buffer.concat(carry), line), terminated: false };
  } finally {
    closeSync(fd);
  }
}

const textOf = (bytes: Buffer, line: number): string => {
  const text = bytes.toString('utf8');
  return line === 1 && text.startsWith('\ufeff') ? text.slice(1) : text;
};

/** What `indexPiSource` is told of a source by a parse or scan of it: which lines are entries (increasing), the version and the header's id. */
export interface PiSourceShape {
  readonly file: string;
  readonly digest: Digest;
  readonly version: 1 | 2 | 3;
  readonly headerId: string;
  readonly entryLines: ArrayLike<number>;
}

/**
 * Indexes the lines of a source file (`piSourceLines`) in one pass, given its
 * `shape` from a parse (`parsePiJsonl`) or scan (`scanPiFile`) of the same
 * bytes: the header (the first non-blank line), and each entry's id (v1: the
 * migration id) and parent, read with `JSON.parse` alone. Memory: about 70
 * bytes an entry (ids, lines, parents, the id map), no entry value. Throws
 * the `SyntaxError` of an entry line that is not JSON (only a shape from other
 * bytes can name one).
 */
export const indexPiSource = (source: Iterable<PiSourceLine>, shape: PiSourceShape): PiSourceIndex => {
  const { entryLines, version, digest } = shape;
  const lines: number[] = [];
  const ids: string[] = [];
  const parentIds: unknown[] = [];
  const ordinalOf = new Map<string, number>();
  const rawIds = new Map<number, string>();
  let header: Record<string, unknown> | undefined;
  let next = 0;
  for (const l of source) {
    if (next >= entryLines.length && header !== undefined) break;
    if (header === undefined) {
      if (l.text.trim() !== '') header = JSON.parse(l.text) as Record<string, unknown>;
      continue;
    }
    if (entryLines[next] !== l.line) continue;
    next++;
    const value = JSON.parse(l.text) as Record<string, unknown>;
    const i = ids.length;
    let id: string;
    if (version < 2) {
      // pi's migrateV1ToV2: a fresh id, the previous entry as parent.
      id = migrationId(digest, l.line, ordinalOf);
      if (typeof value['id'] === 'string') rawIds.set(i, value['id']);
      parentIds.push(i === 0 ? null : ids[i - 1]);
    } else {
      id = value['id'] as string;
      parentIds.push(value['parentId']);
    }
    lines.push(l.line);
    ids.push(id);
    ordinalOf.set(id, i);
  }
  // pi treats an entry whose parentId is its own id as a root.
  const parents = parentIds.map((p, i) => (typeof p === 'string' && p !== ids[i] ? (ordinalOf.get(p) ?? -1) : -1));
  return {
    file: shape.file,
    digest,
    version,
    header: v3Header(header!, version),
    headerId: shape.headerId,
    count: ids.length,
    lineOf: (i) => lines[i]!,
    idOf: (i) => ids[i]!,
    parentOf: (i) => parents[i]!,
    indexOfId: (id) => ordinalOf.get(id),
    rawIds,
  };
};

/** A header object as pi v3 gives it: `version` set to 3 (added last when the file had none). */
const v3Header = (header: Record<string, unknown>, version: 1 | 2 | 3): Record<string, unknown> => {
  const h = { ...header };
  if (version < 3) h['version'] = 3;
  return h;
};

/** What `scannedPiSourceIndex` reads of a scan (`scan.ts`): its entries' lines, ids and parents, from its on-disk index. */
export interface PiScannedEntries {
  readonly version: 1 | 2 | 3;
  readonly header: { readonly id: string };
  readonly count: number;
  readonly lineOf: (i: number) => number;
  readonly link: (i: number) => { readonly id: string | undefined };
  readonly parentOf: (i: number) => number;
  readonly indexOfId: (id: string) => number | undefined;
}

/**
 * The index of a version 2 or 3 source read from its scan's on-disk index
 * (`scan.ts`, `entryIndex.ts`: bounded memory whatever the file's length),
 * valid while the scan is open; the header is the first non-blank line of
 * `lines`. A version 1 file's ids are made by the migration: index it with
 * `indexPiSource`.
 */
export const scannedPiSourceIndex = (scan: PiScannedEntries, lines: Iterable<PiSourceLine>, file: string, digest: Digest): PiSourceIndex => {
  let header: Record<string, unknown> = {};
  for (const l of lines) {
    if (l.text.trim() === '') continue;
    header = JSON.parse(l.text) as Record<string, unknown>;
    break;
  }
  return {
    file,
    digest,
    version: scan.version,
    header: v3Header(header, scan.version),
    headerId: scan.header.id,
    count: scan.count,
    lineOf: scan.lineOf,
    idOf: (i) => scan.link(i).id!,
    parentOf: (i) => Math.max(-1, scan.parentOf(i)),
    indexOfId: scan.indexOfId,
    rawIds: new Map(),
  };
};

/** The index of the entry on 1-based line `line`, if an entry is there (binary search of `index.lineOf`). */
export const ordinalOfLine = (index: Pick<PiSourceIndex, 'count' | 'lineOf'>, line: number): number | undefined => {
  let lo = 0;
  let hi = index.count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const x = index.lineOf(mid);
    if (x === line) return mid;
    if (x < line) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
};

/**
 * Entry `i` of an indexed source as pi v3: `text` (its line) parsed, key order
 * as written, then migrated the way pi migrates (module comment): v1 gets
 * `id`, `parentId` and `firstKeptEntryId` (from `firstKeptEntryIndex`, an
 * index into the file's entries counted from 1, as pi counts with the header
 * at 0); v1 and v2 get the `hookMessage` role renamed `custom`.
 */
export const sourceEntryValue = (index: Pick<PiSourceIndex, 'version' | 'count' | 'idOf' | 'rawIds'>, i: number, text: string): Record<string, unknown> => {
  const v = JSON.parse(text) as Record<string, unknown>;
  if (index.version < 2) {
    v['id'] = index.idOf(i);
    v['parentId'] = i === 0 ? null : index.idOf(i - 1);
    if (v['type'] === 'compaction' && typeof v['firstKeptEntryIndex'] === 'number') {
      const t = v['firstKeptEntryIndex'] - 1;
      // pi migrates in file order: an earlier (or this) entry has its new id already, a later one only the id its line carried.
      const target = t < 0 || t >= index.count || !Number.isInteger(t) ? undefined : t <= i ? index.idOf(t) : index.rawIds.get(t);
      if (target !== undefined) v['firstKeptEntryId'] = target;
      delete v['firstKeptEntryIndex'];
    }
  }
  if (index.version < 3) {
    const m = v['message'];
    if (v['type'] === 'message' && typeof m === 'object' && m !== null && (m as Record<string, unknown>)['role'] === 'hookMessage') {
      (m as Record<string, unknown>)['role'] = 'custom';
    }
  }
  return v;
};

/** The lines of `text` as `piSourceLines` gives a file's (BOM dropped from line 1). */
const linesOfText = (text: string): PiSourceLine[] => {
  const raw = (text.startsWith('\ufeff') ? text.slice(1) : text).split('\n');
  return raw.map((t, i) => ({ line: i + 1, text: t, terminated: i < raw.length - 1 }));
};

/**
 * The source `text` (a pi file with `sha256:` `digest`, named `file`) as pi v3
 * entries, all in memory (`indexPiSource` and `sourceEntryValue` over the
 * text). Errors: the `PiParseError` `parsePiJsonl` gives (a stored source
 * parsed once already, so only a changed parser can make it fail).
 */
export const sourceTree = (text: string, file: string, digest: Digest): E.Either<PiImportError, SourceTree> => {
  const p = parsePiJsonl(text, file);
  if (E.isLeft(p)) return p;
  const raw = linesOfText(text);
  const parsed = p.right;
  const index = indexPiSource(raw, { file, digest, version: parsed.version, headerId: parsed.header.id, entryLines: parsed.entries.map((e) => e.line) });
  const entries: SourceEntry[] = Array.from({ length: index.count }, (_, i) => {
    const line = index.lineOf(i);
    const value = sourceEntryValue(index, i, raw[line - 1]!.text);
    return { line, id: value['id'] as string, parentId: typeof value['parentId'] === 'string' ? value['parentId'] : null, value };
  });
  return E.right({
    parsed: p.right,
    header: index.header,
    entries,
    byId: new Map(entries.map((e) => [e.id, e])),
    idOfLine: new Map(entries.map((e) => [e.line, e.id])),
  });
};

/** The fields of a pi source manifest the copy needs (`source.ts` writes it). */
interface ManifestFields {
  readonly bytes: number;
  readonly digest: Digest;
  readonly chunks: readonly BlobId[];
}

const mismatch = (source: BlobId, what: string): PiSourceMismatch => ({ _tag: 'PiSourceMismatch', source, message: `pi source ${source}: ${what}` });

const manifestFields = (bytes: Uint8Array): ManifestFields | undefined => {
  try {
    const m = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    if (m['kind'] !== 'pi-source' || typeof m['bytes'] !== 'number' || typeof m['digest'] !== 'string' || !Array.isArray(m['chunks'])) return undefined;
    if (!m['chunks'].every((c) => typeof c === 'string')) return undefined;
    return { bytes: m['bytes'], digest: m['digest'] as Digest, chunks: m['chunks'] as BlobId[] };
  } catch {
    return undefined;
  }
};

/**
 * Copies the stored pi source `source` (a manifest blob, `source.ts`) into
 * the new file `path`, one chunk blob at a time, and checks it as
 * `readPiSource` does: every chunk's bytes hash to its id (the store's
 * `CorruptBlob` / `BlobNotFound`), and the bytes add up to the manifest's size
 * and digest (`PiSourceMismatch`). Only a `Right` means the file holds the
 * source; on a `Left` the caller removes it. Memory: one chunk (≤ 1 MiB).
 * Throws the `fs` error of a failed write.
 */
export const copyPiSource = async (store: SessionStore, source: BlobId, path: string): Promise<E.Either<StoreError | PiSourceMismatch, { readonly bytes: number; readonly digest: Digest }>> => {
  const m = await store.getBlob(source);
  if (E.isLeft(m)) return m;
  const manifest = manifestFields(m.right.bytes);
  if (manifest === undefined) return E.left(mismatch(source, 'the blob is not a pi source manifest'));
  const fd = openSync(path, 'wx');
  const hash = sha256.create();
  let size = 0;
  try {
    for (const c of manifest.chunks) {
      const b = await store.getBlob(c);
      if (E.isLeft(b)) return b;
      const bytes = b.right.bytes;
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
      hash.update(bytes);
      size += bytes.length;
    }
  } finally {
    closeSync(fd);
  }
  if (size !== manifest.bytes) return E.left(mismatch(source, `the chunks hold ${size} bytes, the manifest says ${manifest.bytes}`));
  const digest = `sha256:${bytesToHex(hash.digest())}`;
  if (digest !== manifest.digest) return E.left(mismatch(source, `the chunks hash to ${digest}, the manifest says ${manifest.digest}`));
  return E.right({ bytes: size, digest: manifest.digest });
};
