/**
 * pi import into and export from a `SessionStore` (spec README §7).
 *
 * `importPiFile(store, file)` scans a pi JSONL file in one streamed pass
 * (`scan.ts`: every line parsed and checked, the digest and source chunk ids
 * computed, the per-entry index kept on disk, `entryIndex.ts`), plans each
 * branch from entries read back chunk by chunk (`plan.ts`, its per-entry and
 * per-op columns on disk, `columns.ts`), spilling the planned ops to disk
 * (`spill.ts`), then writes them (`sessionWrite.ts`): each command is applied
 * once, by `store.update`, whose records are written as they are. No phase
 * holds the file, its entries, its commands or anything per entry, op or
 * record: memory is fixed page caches and buffers, the state of the session
 * being written (what the store's own cache holds, dropped every
 * `EVICT_EVERY` records and once its ops are written), a batch of commands, and what grows with the
 * number of sessions, labels and repairs, not entries (the report lists each
 * repair). Each session's original times (about 14 bytes a record) are
 * stored from their column in parts of at most `PI_TIMES_PART` records
 * (`provenance.ts`), one part in memory at a time.
 *
 * - one store session per planned session, in plan order (parents first). The
 *   id is `idPrefix` (default `pi:`) + the plan key: the pi session id for the
 *   branch pi would reopen, `<pi id>#<leaf entry id>` for the other branches of
 *   a v2/v3 tree. The mapping is injective: `%`, `/` and control characters
 *   (which the store refuses in ids) are escaped (`%2F`, `%0A`, `%u2028`), so
 *   `a/b` and `a\nb` are two sessions.
 * - the file's bytes are stored first as content-addressed blobs (`source.ts`);
 *   the root session's genesis metadata records them and the import
 *   (`pi.import`, `provenance.ts`), so an export gives back every entry as pi
 *   wrote it.
 * - a root session is `create`d with the plan's initial metadata; a fork is
 *   `fork`ed (mode `full`) from its parent's record reached after the parent's
 *   first `afterOp` ops, so the child inherits messages, metadata and usage and
 *   its genesis links to that record.
 * - ops become commands: `append` → `messages_appended`, `rewrite` →
 *   `transcript_rewritten` (a validated rewrite commit, reason `compaction`),
 *   `metadata_set` → `metadata_set`, `usage` → `usage_recorded`, written in
 *   updates of at most `batchSize` (default 64) commands (labels: 1,024, or
 *   `batchSize` if larger; `sessionWrite.ts`); each is one atomic batch. A command the session layer refuses (a planner bug) stops the
 *   import with `PiImportRefused`, leaving what was written incomplete.
 * - when every session is written, each gets a last record `pi.imported`
 *   marking it complete.
 *
 * All or nothing, or resumable: a stop at any point (crash, kill -9, full disk)
 * leaves unreferenced blobs only, or sessions without `pi.imported`, which
 * `piImportStatus` (and the CLI's `sessions`, `show`, `log`) report as
 * incomplete. Running the same import again (same bytes: same digest) checks
 * that what is stored is a prefix of what it writes (else
 * `PiResumeMismatch`), continues from there and marks the sessions complete, so
 * it ends with the same records as an uninterrupted import. `SessionExists` is
 * returned only when every session of the file is a complete import of the same
 * bytes; a session under a planned id that holds another file (another digest)
 * or was not imported is `PiImportConflict` naming both files.
 *
 * Record times (`at`) are stamped by the store's clock (when the import ran);
 * message `createdAt`s keep pi's times. Transcript revisions depend on the
 * messages only, so re-importing an export reproduces them.
 *
 * `exportPiSession(store, sessionId)` writes a session as pi JSONL version 3
 * (`sourceExport.ts` for imported sessions, `export.ts` otherwise).
 */
import { resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { SessionCommand } from '../../session/commands.ts';
import { sha256OfUtf8 } from '../../model/hashing.ts';
import type { BlobId, Digest } from '../../model/scalars.ts';
import type { SessionStore, StoreError } from '../../store/index.ts';
import { PI_SOURCE_CHUNK_TYPE, piSourceManifest, type PiSourceBlob } from './source.ts';
import { PI_IMPORTED_KEY, PI_IMPORT_KEY, importMarkJson, importedMarkJson, piImportStatus, piTimesBlobs, type PiImportMark, type PiImportStatus } from './provenance.ts';
import { planPiSessions, type PiPlanOp, type PiPlanShape, type PiPlanShapes } from './plan.ts';
import type { PiImportError, PiImportReport } from './report.ts';
import { PiFileChangedError, scanPiFile, type PiFileChanged, type PiScan } from './scan.ts';
import { openOpSpill } from './spill.ts';
import type { PiColumnFactory } from './columns.ts';
import { exportPi, type PiExportError } from './sourceExport.ts';
import { writePiSession, type PiGenesis, type PiRecordTimes, type PiSessionTarget, type PiStoredSession, type PiWrittenSession } from './sessionWrite.ts';

/** The pi file could not be read: `file` as given, `code` the Node.js error code (`ENOENT`, `EISDIR`, `EACCES`, ...). */
export interface PiFileError {
  readonly _tag: 'PiFileError';
  readonly file: string;
  readonly code?: string;
  readonly message: string;
}

/**
 * The session layer refused a planned command (a planner bug or data the
 * planner let through): the import stops; what it wrote before stays without
 * its completion mark (visibly incomplete).
 */
export interface PiImportRefused {
  readonly _tag: 'PiImportRefused';
  readonly file: string;
  /** The plan key of the session, and the index of the op in its `ops` (past them: its labels). */
  readonly sessionKey: string;
  readonly op: number;
  /** The session layer's error. */
  readonly cause: { readonly _tag: string; readonly message: string };
  readonly message: string;
}

/**
 * A planned session id is taken by another file claiming the same pi session id
 * (`existingFile`/`existingDigest` set) or by a session no pi import wrote
 * (both absent); nothing was written.
 */
export interface PiImportConflict {
  readonly _tag: 'PiImportConflict';
  readonly sessionId: string;
  /** The file being imported and the `sha256:` digest of its bytes. */
  readonly file: string;
  readonly digest: Digest;
  readonly existingFile?: string;
  readonly existingDigest?: Digest;
  readonly message: string;
}

/** An incomplete import of the same file cannot be resumed: its record `seq` is not what this import writes; nothing was written. */
export interface PiResumeMismatch {
  readonly _tag: 'PiResumeMismatch';
  readonly sessionId: string;
  readonly file: string;
  readonly seq: number;
  readonly message: string;
}

/** Everything `importPiFile` can fail with, besides store errors. */
export type PiStoreImportError = PiFileError | PiImportError | PiImportRefused | PiImportConflict | PiResumeMismatch | PiFileChanged;

/** Progress of an import: `phase` `'write'` counts commands written of `total`. */
export interface PiImportProgress {
  readonly phase: 'read' | 'plan' | 'check' | 'write';
  readonly done: number;
  readonly total: number;
}

/** Options of `importPiFile`. */
export interface PiImportOptions {
  /** Called after reading, planning, checking, and after each append. */
  readonly onProgress?: (p: PiImportProgress) => void;
  /** Prefix of the session ids; default `pi:`. */
  readonly idPrefix?: string;
  /** Commands per append (1–10000); default 64. Labels are appended `PI_LABEL_BATCH` (1,024) at a time, or this many if more. */
  readonly batchSize?: number;
  /** Name of the file in errors and the report; default `file` as given. */
  readonly displayName?: string;
  /**
   * Where the import's scratch files go (`spill.ts`: the per-entry index, the
   * planning columns, the planned ops, the record times): a fresh directory
   * `palimpsest-pi-<path key>-<pid>-*` under this one (the key: 16 hex digits
   * of the SHA-256 of the file's absolute path); default the OS temp
   * directory. About as many bytes as the file, plus 64 bytes an entry. An
   * import killed before it removes its spill leaves it there; the next import
   * of the same file (same path) under the same directory removes it.
   */
  readonly spillDir?: string;
}

/** One imported session: its plan key, store id, last seq (= records), head revision and message count; `forkOf` for a fork. */
export interface ImportedPiSession {
  readonly key: string;
  readonly sessionId: string;
  readonly records: number;
  readonly revision: Digest;
  readonly messages: number;
  readonly forkOf?: { readonly sessionId: string; readonly seq: number };
}

/** Time spent in each phase, in ms. */
export interface PiImportTimings {
  readonly readMs: number;
  readonly parseMs: number;
  readonly checkMs: number;
  readonly writeMs: number;
}

/**
 * What `importPiFile` returns. `bytes` is the size of the file read, `digest`
 * the `sha256:` of its bytes, `source` the manifest blob id of the stored
 * copy, `resumed` how many sessions an earlier, interrupted run had begun.
 */
export interface PiStoreImport {
  readonly file: string;
  readonly bytes: number;
  readonly digest: Digest;
  readonly source: BlobId;
  readonly resumed: number;
  readonly sessions: readonly ImportedPiSession[];
  readonly report: PiImportReport;
  readonly timings: PiImportTimings;
}

/** Default prefix of imported session ids. */
export const PI_ID_PREFIX = 'pi:';
/** Default number of commands per append. */
export const PI_IMPORT_BATCH = 64;

// eslint-disable-next-line no-control-regex
const escapedIdChars = /[%/\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** `%HH` for a code unit below 0x100, `%uHHHH` above (unambiguous: `u` is not a hex digit). */
const escapeIdChar = (c: string): string => {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `%${code.toString(16).toUpperCase().padStart(2, '0')}` : `%u${code.toString(16).toUpperCase().padStart(4, '0')}`;
};

/**
 * The store session id of a planned session: `prefix + key` with `%`, `/` and
 * control characters (the store refuses the last two) percent-escaped, so two
 * different keys never share an id.
 */
export const piSessionId = (key: string, prefix = PI_ID_PREFIX): string => `${prefix}${key.replace(escapedIdChars, escapeIdChar)}`;

/** The command of one planned op. */
export const commandOfOp = (op: PiPlanOp): SessionCommand => {
  switch (op.op) {
    case 'append':
      return { type: 'messages_appended', messages: op.messages };
    case 'rewrite':
      return { type: 'transcript_rewritten', selection: { type: 'message_range', start: op.start, end: op.end }, replacement: op.replacement, reason: op.reason };
    case 'metadata_set':
      return { type: 'metadata_set', key: op.key, value: op.value };
    case 'usage':
      return { type: 'usage_recorded', usage: op.usage };
  }
};

/**
 * The op counts after which each session must provide a fork point: the
 * `afterOp` of every fork taken from it (0 is its genesis).
 */
const forkPoints = (sessions: readonly PiPlanShape[]): Map<string, Set<number>> => {
  const m = new Map<string, Set<number>>();
  for (const s of sessions) {
    if (s.forkOf === undefined) continue;
    const set = m.get(s.forkOf.sessionKey) ?? new Set<number>();
    set.add(s.forkOf.afterOp);
    m.set(s.forkOf.sessionKey, set);
  }
  return m;
};

const codeOf = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : undefined;

/** Builds a `PiFileError` from a read failure. */
export const piFileError = (file: string, e: unknown): PiFileError => {
  const code = codeOf(e);
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : e instanceof Error ? e.message : String(e);
  return { _tag: 'PiFileError', file, ...(code !== undefined ? { code } : {}), message: `cannot read pi session file ${file}: ${why}` };
};

/**
 * A pi file scanned and planned (`readPiPlan`), ready for `writePiPlan`. It
 * holds the open file and its spill directory (`spill.ts`; under `spillDir`,
 * default the OS temp directory: the planned ops, and the columns the write
 * keeps record times in), not the entries: call `close()` when done with it.
 */
export interface PiFilePlan {
  /** The file's name in errors and reports. */
  readonly file: string;
  readonly bytes: number;
  /** `sha256:<hex>` of the file's bytes. */
  readonly digest: Digest;
  /** The file's source chunks (read again, checked, when stored) and the manifest blob naming them (`source.ts`). */
  readonly source: { readonly scan: PiScan; readonly manifest: PiSourceBlob };
  readonly plan: PiPlanShapes;
  /** The ops session `i` of `plan.sessions` applies itself, in order (read from the spill). */
  readonly ops: (session: number) => AsyncIterable<PiPlanOp>;
  /** Scratch number columns in the spill (the write keeps each session's record times there). */
  readonly column: PiColumnFactory;
  /** Scanning (read, parse, check every line) and planning times, ms. */
  readonly readMs: number;
  readonly parseMs: number;
  /** Releases the file and removes the spilled ops (again: nothing). */
  readonly close: () => void;
}

/**
 * Scans and plans the pi file `file` (no store involved) in bounded memory:
 * one streamed pass over the file (`scan.ts`), then each branch planned from
 * entries read back chunk by chunk, its ops spilled to disk. Errors:
 * `PiFileError`, `PiParseError`, `PiPlanError`, `PiFileChanged` (the file
 * changed between the scan and the planning).
 */
export const readPiPlan = async (file: string, opts: Pick<PiImportOptions, 'displayName' | 'onProgress' | 'spillDir'> = {}): Promise<E.Either<PiStoreImportError, PiFilePlan>> => {
  const name = opts.displayName ?? file;
  const progress = opts.onProgress ?? (() => undefined);
  const t0 = performance.now();
  // The spill (the scan's index, the planning columns, the planned ops) is named after the file's path: a retry of a killed import removes it.
  const spill = openOpSpill(sha256OfUtf8(resolve(file)).slice('sha256:'.length, 'sha256:'.length + 16), opts.spillDir);
  let scanned: Awaited<ReturnType<typeof scanPiFile>>;
  try {
    scanned = await scanPiFile(file, name, spill.dir, spill.column);
  } catch (e) {
    spill.dispose();
    throw e;
  }
  if (E.isLeft(scanned)) {
    spill.dispose();
    return scanned.left._tag === 'PiScanReadError' ? E.left(piFileError(name, scanned.left.cause)) : E.left(scanned.left);
  }
  const scan = scanned.right;
  const t1 = performance.now();
  progress({ phase: 'read', done: 1, total: 1 });
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    try {
      scan.close();
    } finally {
      spill.dispose();
    }
  };
  let planned: ReturnType<typeof planPiSessions>;
  try {
    planned = planPiSessions(scan, spill.sink);
    spill.finish();
  } catch (e) {
    close();
    if (e instanceof PiFileChangedError) return E.left(e.error);
    throw e;
  }
  if (E.isLeft(planned)) {
    close();
    return planned;
  }
  // Planning is done: the write needs the chunks, not the per-entry index.
  scan.release();
  const t2 = performance.now();
  progress({ phase: 'plan', done: 1, total: 1 });
  const manifest = piSourceManifest(name, scan.bytes, scan.digest, scan.chunks.map((c) => c.id)).blob;
  return E.right({
    file: name,
    bytes: scan.bytes,
    digest: scan.digest,
    source: { scan, manifest },
    plan: planned.right,
    ops: spill.ops,
    column: spill.column,
    readMs: t1 - t0,
    parseMs: t2 - t1,
    close,
  });
};

/** Stores one blob, checking the store names it as computed. Errors: the store's write errors. */
const putSourceBlob = async (store: SessionStore, b: PiSourceBlob): Promise<E.Either<StoreError, void>> => {
  const r = await store.putBlob(b.mediaType, b.bytes);
  if (E.isLeft(r)) return r;
  if (r.right !== b.id) throw new Error(`pi source: the store named blob ${b.id} ${r.right}`);
  return E.right(undefined);
};

/**
 * Stores the source chunks (read again from the file and checked against the
 * scan), then the manifest. Idempotent (content-addressed); a stop part-way
 * leaves only unreferenced blobs. Errors: the store's write errors,
 * `PiFileChanged`.
 */
const storeSource = async (store: SessionStore, source: PiFilePlan['source']): Promise<E.Either<StoreError | PiFileChanged, void>> => {
  for (const [i, c] of source.scan.chunks.entries()) {
    let bytes: Uint8Array;
    try {
      // A view of the scan's buffer, valid until the second next chunkBytes call: putBlob is awaited before that, and stores it
      // without a copy (the buffer holds the blob's stored head right before it): no dead 1 MiB buffer a chunk.
      bytes = source.scan.chunkBytes(i);
    } catch (e) {
      if (e instanceof PiFileChangedError) return E.left(e.error);
      throw e;
    }
    const r = await putSourceBlob(store, { mediaType: PI_SOURCE_CHUNK_TYPE, bytes, id: c.id });
    if (E.isLeft(r)) return r;
  }
  return putSourceBlob(store, source.manifest);
};

/**
 * Stores the original-times blobs of session `sessionId` from its column
 * (`piTimesBlobs`: parts first, each stored before the next is built) and
 * returns the id of the last, the one `pi.imported` names. Errors: the
 * store's write errors.
 */
const putTimesBlobs = async (store: SessionStore, sessionId: string, times: PiRecordTimes): Promise<E.Either<StoreError, BlobId>> => {
  let last: BlobId | undefined;
  for (const b of piTimesBlobs(sessionId, times.count, times.column.get)) {
    const p = await putSourceBlob(store, b);
    if (E.isLeft(p)) return p;
    last = b.id;
  }
  if (last === undefined) throw new Error(`pi times of ${sessionId}: no blob`);
  return E.right(last);
};

/** How to import such a file all the same: under other session ids. */
const OTHER_IDS_HINT = '; to keep both, import it under other session ids with the `idPrefix` option (`palimpsest import --id-prefix <prefix>`)';

const conflict = (id: string, existing: PiImportStatus, file: string, digest: Digest): PiImportConflict => {
  const other = existing.kind === 'none' ? undefined : existing.mark;
  return {
    _tag: 'PiImportConflict',
    sessionId: id,
    file,
    digest,
    ...(other !== undefined ? { existingFile: other.file, existingDigest: other.digest } : {}),
    message:
      other !== undefined
        ? `session ${JSON.stringify(id)} was imported from ${other.file} (${other.digest}); ${file} (${digest}) is a different file claiming the same pi session id${OTHER_IDS_HINT}`
        : `session ${JSON.stringify(id)} already exists and was not written by a pi import; ${file} (${digest}) cannot be imported under that id${OTHER_IDS_HINT}`,
  };
};

/**
 * Writes a planned pi file into `store` (see the module comment): checks what
 * exists under the planned ids, stores the source blobs, then creates, forks,
 * resumes and appends each session (`writePiSession`: every command applied
 * once), stores each session's original times and finally marks every session
 * complete. Does not `close()` the plan.
 */
export const writePiPlan = async (
  store: SessionStore,
  filePlan: PiFilePlan,
  opts: Pick<PiImportOptions, 'idPrefix' | 'batchSize' | 'onProgress'> = {},
): Promise<E.Either<PiStoreImportError | StoreError, PiStoreImport>> => {
  const { file: name, plan, digest } = filePlan;
  const prefix = opts.idPrefix ?? PI_ID_PREFIX;
  const size = opts.batchSize ?? PI_IMPORT_BATCH;
  if (!Number.isSafeInteger(size) || size < 1 || size > 10_000) throw new RangeError(`batchSize must be an integer in 1..10000, got ${size}`);
  const progress = opts.onProgress ?? (() => undefined);
  const now = (): number => performance.now();

  const t2 = now();
  const ids = new Map(plan.sessions.map((s) => [s.key, piSessionId(s.key, prefix)] as const));
  const mark: PiImportMark = { source: filePlan.source.manifest.id, digest, file: name, sessions: [...ids.values()] };

  // What exists: nothing, an incomplete import of this file (resume), or a conflict.
  const existing = new Map<string, PiStoredSession>();
  const statuses: PiImportStatus[] = [];
  for (const id of ids.values()) {
    const l = await store.load(id);
    if (E.isLeft(l)) {
      if (l.left._tag !== 'SessionNotFound') return l;
      existing.set(id, { kind: 'absent' });
      continue;
    }
    const status = piImportStatus(id, l.right.metadata);
    if ((status.kind !== 'complete' && status.kind !== 'incomplete') || status.mark.digest !== digest) return E.left(conflict(id, status, name, digest));
    existing.set(id, { kind: 'present', seq: l.right.seq, complete: status.kind === 'complete' });
    statuses.push(status);
  }
  if (statuses.length === ids.size && statuses.every((s) => s.kind === 'complete')) {
    const first = statuses[0];
    const before = first?.kind === 'complete' ? first.mark.file : name;
    return E.left({
      _tag: 'SessionExists',
      sessionId: ids.values().next().value ?? '',
      message: `${name} (${digest}) was imported completely before (from ${before}) as ${[...ids.values()].map((i) => JSON.stringify(i)).join(', ')}`,
    });
  }
  const t3 = now();
  progress({ phase: 'check', done: 1, total: 1 });

  const stored = await storeSource(store, filePlan.source);
  if (E.isLeft(stored)) return stored;

  // Commands to write: every op and label, each genesis and completion (inert ops make it an upper bound).
  const total = plan.sessions.reduce((n, s) => n + s.opCount + s.labels.length + 2, 0);
  let written = 0;
  let resumed = 0;
  progress({ phase: 'write', done: 0, total });
  const onWritten = (n: number): void => {
    written += n;
    progress({ phase: 'write', done: written, total });
  };
  const cuts = forkPoints(plan.sessions);
  const done = new Map<string, { readonly target: PiSessionTarget; readonly written: PiWrittenSession }>();
  for (const [index, s] of plan.sessions.entries()) {
    const id = ids.get(s.key)!;
    let genesis: PiGenesis;
    let startLine = 0;
    if (s.forkOf === undefined) genesis = { kind: 'root', metadata: { ...s.metadata, [PI_IMPORT_KEY]: importMarkJson(mark) } };
    else {
      const point = done.get(s.forkOf.sessionKey)?.written.points.get(s.forkOf.afterOp);
      if (point === undefined) throw new Error(`pi import: fork parent ${s.forkOf.sessionKey} after op ${s.forkOf.afterOp} was not planned before ${s.key}`);
      genesis = { kind: 'fork', parentId: ids.get(s.forkOf.sessionKey)!, seq: point.seq };
      startLine = point.maxLine;
    }
    const target: PiSessionTarget = { shape: s, id, genesis, startLine, cuts: cuts.get(s.key) ?? new Set(), stored: existing.get(id)! };
    if (target.stored.kind === 'present' && !target.stored.complete) resumed++;
    const w = await writePiSession(store, target, filePlan.ops(index), commandOfOp, { file: name, size, onWritten, column: filePlan.column });
    if (E.isLeft(w)) return w;
    done.set(s.key, { target, written: w.right });
  }
  // Only now is each session marked complete: a stop before this leaves every written session visibly incomplete.
  const out: ImportedPiSession[] = [];
  for (const { target: t, written: w } of done.values()) {
    let head = w.head;
    if (!(t.stored.kind === 'present' && t.stored.complete)) {
      // The session's times blobs (one, or parts then their manifest), one part in memory at a time, written from the column.
      const times = await putTimesBlobs(store, t.id, w.times);
      if (E.isLeft(times)) return times;
      const completion: SessionCommand = {
        type: 'metadata_set',
        key: PI_IMPORTED_KEY,
        value: importedMarkJson({ sessionId: t.id, leafLine: t.shape.leafLine, messages: head.messages, revision: head.revision, times: times.right }),
      };
      const r = await store.append(t.id, [completion], { expectedSeq: head.seq });
      if (E.isLeft(r)) return r;
      const s = r.right.session;
      head = { seq: s.seq, messages: s.messageCount, revision: s.transcriptRevision() };
      store.evict(t.id);
      onWritten(1);
    }
    w.times.column.close();
    out.push({
      key: t.shape.key,
      sessionId: t.id,
      records: t.stored.kind === 'present' && t.stored.complete ? t.stored.seq : head.seq,
      revision: head.revision,
      messages: head.messages,
      ...(t.genesis.kind === 'fork' ? { forkOf: { sessionId: t.genesis.parentId, seq: t.genesis.seq } } : {}),
    });
  }
  const t4 = now();
  return E.right({
    file: name,
    bytes: filePlan.bytes,
    digest,
    source: filePlan.source.manifest.id,
    resumed,
    sessions: out,
    report: plan.report,
    timings: { readMs: filePlan.readMs, parseMs: filePlan.parseMs, checkMs: t3 - t2, writeMs: t4 - t3 },
  });
};

/**
 * Imports the pi session file `file` into `store` (see the module comment):
 * `readPiPlan` then `writePiPlan`.
 * Errors: `PiFileError` (cannot read), `PiParseError` / `PiPlanError` (file and
 * line), `PiImportRefused`, `SessionExists` (already imported), `InvalidSessionId`,
 * `PiImportConflict`, `PiResumeMismatch`, `PiFileChanged` and the store's I/O
 * errors. All of these except I/O errors and `PiImportRefused` during the
 * write phase leave the store unchanged; those leave sessions marked
 * incomplete.
 */
export const importPiFile = async (store: SessionStore, file: string, opts: PiImportOptions = {}): Promise<E.Either<PiStoreImportError | StoreError, PiStoreImport>> => {
  const planned = await readPiPlan(file, opts);
  if (E.isLeft(planned)) return planned;
  try {
    return await writePiPlan(store, planned.right, opts);
  } finally {
    planned.right.close();
  }
};

/**
 * The session `sessionId` of `store` as pi JSONL version 3 (one branch; see
 * `exportPi` in `sourceExport.ts`: an imported session gives back pi's own
 * entries). Errors: `SessionNotFound`, the store's read errors, and
 * `exportPi`'s source and incomplete-import errors.
 */
export const exportPiSession = async (store: SessionStore, sessionId: string): Promise<E.Either<PiExportError, string>> => {
  const r = await exportPi(store, sessionId);
  return E.isLeft(r) ? r : E.right(r.right.jsonl);
};
