/**
 * pi import into and export from a `SessionStore` (spec README §7).
 *
 * `importPiFile(store, file)` scans a pi JSONL file in one streamed pass
 * (`scan.ts`: every line parsed and checked, the digest and source chunk ids
 * computed, only a small per-entry index kept), plans each branch from entries
 * read back chunk by chunk (`plan.ts`), spilling the planned ops to a temp
 * directory (`spill.ts`), checks the plan against in-memory sessions (a dry
 * run: every command is reduced once before anything is written, so a plan the
 * session layer would refuse writes nothing; it keeps session states, not
 * logs), then writes it. No phase holds the file, its entries or its commands:
 * memory is the index, one op digest per planned op, the states of the
 * sessions (what the store's own cache holds too) and a batch of commands.
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
 *   appends of at most `batchSize` (default 64) commands; each append is one
 *   atomic LevelDB batch.
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
import * as E from 'fp-ts/lib/Either.js';
import { Session } from '../../session/session.ts';
import { decodeCommand, type SessionCommand } from '../../session/commands.ts';
import type { LogRecord } from '../../session/record.ts';
import type { BlobId, Digest } from '../../model/scalars.ts';
import type { Json } from '../../model/json.ts';
import { canonicalJsonUnsafe } from '../../model/json.ts';
import { labelCommand, validateLabel, type LabelTarget, type SessionStore, type StoreError } from '../../store/index.ts';
import { PI_SOURCE_CHUNK_TYPE, piSourceManifest, type PiSourceBlob } from './source.ts';
import { PI_IMPORTED_KEY, PI_IMPORT_KEY, importMarkJson, importedMarkJson, piImportStatus, piTimesBlob, type PiImportMark, type PiImportStatus } from './provenance.ts';
import { planPiSessions, type PiPlanOp, type PiPlanShape, type PiPlanShapes } from './plan.ts';
import type { PiImportError, PiImportReport } from './report.ts';
import { PiFileChangedError, scanPiFile, type PiFileChanged, type PiScan } from './scan.ts';
import { openOpSpill } from './spill.ts';
import { exportPi, type PiExportError } from './sourceExport.ts';

/** The pi file could not be read: `file` as given, `code` the Node.js error code (`ENOENT`, `EISDIR`, `EACCES`, ...). */
export interface PiFileError {
  readonly _tag: 'PiFileError';
  readonly file: string;
  readonly code?: string;
  readonly message: string;
}

/** The dry run refused a planned command (a planner bug or data the planner let through); nothing was written. */
export interface PiImportRefused {
  readonly _tag: 'PiImportRefused';
  readonly file: string;
  /** The plan key of the session, and the index of the op in its `ops`. */
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
  /** Commands per append (1–10000); default 64. */
  readonly batchSize?: number;
  /** Name of the file in errors and the report; default `file` as given. */
  readonly displayName?: string;
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

/** One session as the import writes it: computed by the dry run, compared on a resume. */
interface ExpectedSession {
  readonly key: string;
  readonly id: string;
  /** Its index in the plan (its ops are `ops(index)`). */
  readonly index: number;
  readonly leafLine: number;
  /** The genesis: a root's metadata, or the fork parent's id and seq. */
  readonly genesis: { readonly kind: 'root'; readonly metadata: Record<string, Json> } | { readonly kind: 'fork'; readonly parentId: string; readonly seq: number };
  /** The indices of the session's ops the dry run found inert (they write no record). */
  readonly inert: ReadonlySet<number>;
  /** The label commands written after the ops. */
  readonly labels: readonly SessionCommand[];
  /** How many commands (records 2, 3, …) come before the completion. */
  readonly commands: number;
  /** The completion record (`pi.imported`). */
  readonly completion: SessionCommand;
  /** The blob of original times (`provenance.ts`), stored before the completion. */
  readonly times: PiSourceBlob;
}

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

/** Records after which the dry run drops a session's in-memory log (its state is all it needs). */
const DRY_RUN_LOG = 256;

/**
 * Reduces every planned command against in-memory sessions (forks included),
 * reading each session's ops from `ops`, so that a refusal is found before
 * anything is written, and returns what each session must hold: which ops are
 * inert, its label commands, the fork seqs and the completion marks. Keeps the
 * state of each session (and of each fork point), not its log.
 */
const dryRun = async (
  file: string,
  plan: PiPlanShapes,
  ops: (session: number) => AsyncIterable<PiPlanOp>,
  ids: ReadonlyMap<string, string>,
  mark: PiImportMark,
): Promise<E.Either<PiImportRefused, ExpectedSession[]>> => {
  // The state of each session after each fork point it must provide, with the highest source line in it.
  const at = new Map<string, Map<number, { session: Session; maxLine: number }>>();
  const points = forkPoints(plan.sessions);
  const out: ExpectedSession[] = [];
  for (const [index, s] of plan.sessions.entries()) {
    const id = ids.get(s.key)!;
    const clock = (): number => s.createdAt;
    let session: Session;
    let genesis: ExpectedSession['genesis'];
    let maxLine = 0;
    if (s.forkOf === undefined) {
      const metadata = { ...s.metadata, [PI_IMPORT_KEY]: importMarkJson(mark) };
      session = Session.create({ id, metadata, clock });
      genesis = { kind: 'root', metadata };
    } else {
      const parent = at.get(s.forkOf.sessionKey)?.get(s.forkOf.afterOp);
      if (parent === undefined) throw new Error(`pi import: fork parent ${s.forkOf.sessionKey} after op ${s.forkOf.afterOp} was not planned before ${s.key}`);
      session = parent.session.fork({ id, clock });
      maxLine = parent.maxLine;
      genesis = { kind: 'fork', parentId: ids.get(s.forkOf.sessionKey)!, seq: parent.session.seq };
    }
    const cuts = points.get(s.key);
    const mine = new Map<number, { session: Session; maxLine: number }>();
    at.set(s.key, mine);
    if (cuts?.has(0)) mine.set(0, { session, maxLine });
    // When each record's event happened (pi's entry times, ms): times[seq - 1].
    const times: number[] = [s.createdAt];
    // For the labels: the first record (seq, revision) at which each target line is in the transcript.
    const targets = [...new Set(s.labels.map((l) => l.targetLine))].sort((a, b) => a - b);
    const reached = new Map<number, { seq: number; revision: Digest }>();
    let nextTarget = 0;
    const reach = (): void => {
      while (nextTarget < targets.length && targets[nextTarget]! <= maxLine) {
        reached.set(targets[nextTarget]!, { seq: session.seq, revision: session.transcriptRevision() });
        nextTarget++;
      }
    };
    reach();
    const inert = new Set<number>();
    let i = 0;
    for await (const op of ops(index)) {
      const r = session.apply(commandOfOp(op));
      if (E.isLeft(r)) {
        const e = r.left;
        return E.left({
          _tag: 'PiImportRefused',
          file,
          sessionKey: s.key,
          op: i,
          cause: { _tag: e._tag, message: e.message },
          message: `${file}: planned op ${i} (${op.op}) of session ${s.key} was refused: ${e.message}`,
        });
      }
      if (r.right.session.seq > session.seq) times.push(op.at);
      else inert.add(i);
      session = r.right.session;
      if (session.log.length >= DRY_RUN_LOG) session = rebased(session, clock);
      if ((op.op === 'append' || op.op === 'rewrite') && op.line > maxLine) {
        maxLine = op.line;
        reach();
      }
      i++;
      if (cuts?.has(i)) mine.set(i, { session, maxLine });
    }
    // pi labels become palimpsest labels at the first record holding their target (file order: the last one wins).
    const labels = new Map<string, LabelTarget & { pi: string }>();
    for (const l of s.labels) {
      for (const [name, v] of labels) if (v.pi === l.targetId) labels.delete(name);
      if (l.label === undefined || E.isLeft(validateLabel(l.label))) continue;
      const hit = reached.get(l.targetLine);
      if (hit !== undefined) labels.set(l.label, { sessionId: id, seq: hit.seq, revision: hit.revision, pi: l.targetId });
    }
    const labelCommands: SessionCommand[] = [];
    for (const [name, v] of [...labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const command = labelCommand(name, v, v.pi);
      const r = session.apply(command);
      if (E.isLeft(r)) throw new Error(`pi import: the label ${name} was refused: ${r.left.message}`);
      if (r.right.session.seq > session.seq) {
        times.push(times[times.length - 1]!);
        labelCommands.push(command);
      }
      session = r.right.session;
    }
    times.push(times[times.length - 1]!); // the completion record
    const timesBlob = piTimesBlob(id, times);
    const completion: SessionCommand = {
      type: 'metadata_set',
      key: PI_IMPORTED_KEY,
      value: importedMarkJson({ sessionId: id, leafLine: s.leafLine, messages: session.messageCount, revision: session.transcriptRevision(), times: timesBlob.id }),
    };
    out.push({ key: s.key, id, index, leafLine: s.leafLine, genesis, inert, labels: labelCommands, commands: times.length - 2, completion, times: timesBlob });
  }
  return E.right(out);
};

/** `session` without its in-memory log (same state). */
const rebased = (session: Session, clock: () => number): Session => {
  const r = Session.fromState(session.state, [], { clock });
  if (E.isLeft(r)) throw new Error(`pi import: rebasing ${session.id} failed: ${r.left.message}`);
  return r.right;
};

/** The commands of records 2, 3, … of `x` (before the completion): its non-inert ops, then its labels. */
async function* commandsOf(x: ExpectedSession, ops: (session: number) => AsyncIterable<PiPlanOp>): AsyncGenerator<SessionCommand> {
  let i = 0;
  for await (const op of ops(x.index)) {
    if (!x.inert.has(i)) yield commandOfOp(op);
    i++;
  }
  yield* x.labels;
}

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
 * holds the open file and the planned ops spilled to a temp directory
 * (`spill.ts`), not the entries: call `close()` when done with it.
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
export const readPiPlan = async (file: string, opts: Pick<PiImportOptions, 'displayName' | 'onProgress'> = {}): Promise<E.Either<PiStoreImportError, PiFilePlan>> => {
  const name = opts.displayName ?? file;
  const progress = opts.onProgress ?? (() => undefined);
  const t0 = performance.now();
  const scanned = await scanPiFile(file, name);
  if (E.isLeft(scanned)) return scanned.left._tag === 'PiScanReadError' ? E.left(piFileError(name, scanned.left.cause)) : E.left(scanned.left);
  const scan = scanned.right;
  const t1 = performance.now();
  progress({ phase: 'read', done: 1, total: 1 });
  let spill: ReturnType<typeof openOpSpill>;
  try {
    spill = openOpSpill();
  } catch (e) {
    scan.close();
    throw e;
  }
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
    readMs: t1 - t0,
    parseMs: t2 - t1,
    close,
  });
};

/**
 * Stores the source chunks (read again from the file and checked against the
 * scan), the manifest, then `extra` blobs. Idempotent (content-addressed); a
 * stop part-way leaves only unreferenced blobs. Errors: the store's write
 * errors, `PiFileChanged`.
 */
const storeSource = async (store: SessionStore, source: PiFilePlan['source'], extra: readonly PiSourceBlob[]): Promise<E.Either<StoreError | PiFileChanged, void>> => {
  const put = async (b: PiSourceBlob): Promise<E.Either<StoreError, void>> => {
    const r = await store.putBlob(b.mediaType, b.bytes);
    if (E.isLeft(r)) return r;
    if (r.right !== b.id) throw new Error(`pi source: the store named blob ${b.id} ${r.right}`);
    return E.right(undefined);
  };
  for (const [i, c] of source.scan.chunks.entries()) {
    let bytes: Uint8Array;
    try {
      // A copy: the scan reuses its buffers, the store may keep what it is given.
      bytes = Uint8Array.prototype.slice.call(source.scan.chunkBytes(i));
    } catch (e) {
      if (e instanceof PiFileChangedError) return E.left(e.error);
      throw e;
    }
    const r = await put({ mediaType: PI_SOURCE_CHUNK_TYPE, bytes, id: c.id });
    if (E.isLeft(r)) return r;
  }
  for (const b of [source.manifest, ...extra]) {
    const r = await put(b);
    if (E.isLeft(r)) return r;
  }
  return E.right(undefined);
};

/** What is in the store under one planned id before the write. */
type Existing = { readonly kind: 'absent' } | { readonly kind: 'present'; readonly seq: number; readonly status: PiImportStatus };

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
        ? `session ${JSON.stringify(id)} was imported from ${other.file} (${other.digest}); ${file} (${digest}) is a different file claiming the same pi session id`
        : `session ${JSON.stringify(id)} already exists and was not written by a pi import; ${file} (${digest}) cannot be imported under that id`,
  };
};

/** Records read at a time when a resume compares the stored log with the plan. */
const RESUME_PAGE = 512;

/**
 * Checks that the stored genesis of an incomplete import is the one this import
 * writes and that it holds no more records than it writes; returns how many
 * records it holds. (The records after the genesis are compared as the write
 * reaches them: `writeSession`.)
 */
const checkResumable = async (store: SessionStore, x: ExpectedSession, file: string, lastSeq: number): Promise<E.Either<StoreError | PiResumeMismatch, number>> => {
  const log = await store.log(x.id, { fromSeq: 1, toSeq: 1 });
  if (E.isLeft(log)) return log;
  const g = log.right[0]?.command;
  if (g === undefined) return E.left(resumeMismatch(x, file, 1, 'is missing'));
  if (x.genesis.kind === 'root') {
    if (g.type !== 'session_created' || canonicalJsonUnsafe(g.metadata) !== canonicalJsonUnsafe(x.genesis.metadata)) return E.left(resumeMismatch(x, file, 1, 'is not the genesis this import writes'));
  } else if (g.type !== 'session_forked' || g.from.sessionId !== x.genesis.parentId || g.from.seq !== x.genesis.seq || g.mode !== 'full') {
    return E.left(resumeMismatch(x, file, 1, 'is not the fork this import writes'));
  }
  if (lastSeq - 1 > x.commands) return E.left(resumeMismatch(x, file, lastSeq, 'is beyond what this import writes'));
  return E.right(lastSeq);
};

const resumeMismatch = (x: ExpectedSession, file: string, seq: number, why: string): PiResumeMismatch => ({
  _tag: 'PiResumeMismatch',
  sessionId: x.id,
  file,
  seq,
  message: `cannot resume the import of ${file} into ${JSON.stringify(x.id)}: record ${seq} ${why}`,
});

/** The command as the session logs it (decoded), in canonical JSON. */
const loggedJson = (c: SessionCommand): string => {
  const d = decodeCommand(c);
  return canonicalJsonUnsafe(E.isRight(d) ? d.right : c);
};

/**
 * Writes the commands of `x` after the first `have` (which the store already
 * holds, at seqs 2 … have + 1: each is compared with what this import writes,
 * `PiResumeMismatch` if it differs) in appends of `size`. Returns the last seq.
 */
const writeSession = async (
  store: SessionStore,
  x: ExpectedSession,
  ops: (session: number) => AsyncIterable<PiPlanOp>,
  file: string,
  start: { readonly seq: number; readonly have: number },
  size: number,
  onWritten: (n: number) => void,
): Promise<E.Either<StoreError | PiResumeMismatch, number>> => {
  let seq = start.seq;
  let k = 0;
  let page: readonly LogRecord[] = [];
  let batch: SessionCommand[] = [];
  const flush = async (): Promise<E.Either<StoreError, void>> => {
    if (batch.length === 0) return E.right(undefined);
    const r = await store.append(x.id, batch, { expectedSeq: seq });
    if (E.isLeft(r)) return r;
    seq = r.right.session.seq;
    onWritten(batch.length);
    batch = [];
    return E.right(undefined);
  };
  for await (const c of commandsOf(x, ops)) {
    if (k < start.have) {
      const want = k + 2;
      if (page[0] === undefined || want > page[page.length - 1]!.seq) {
        const l = await store.log(x.id, { fromSeq: want, toSeq: Math.min(start.have + 1, want + RESUME_PAGE - 1) });
        if (E.isLeft(l)) return l;
        page = l.right;
      }
      const stored = page[want - page[0]!.seq];
      if (stored === undefined || canonicalJsonUnsafe(stored.command) !== loggedJson(c)) return E.left(resumeMismatch(x, file, want, 'differs from what this import writes'));
      k++;
      continue;
    }
    batch.push(c);
    k++;
    if (batch.length >= size) {
      const r = await flush();
      if (E.isLeft(r)) return r;
    }
  }
  const r = await flush();
  return E.isLeft(r) ? r : E.right(seq);
};

/**
 * Writes a planned pi file into `store` (see the module comment): checks what
 * exists under the planned ids, runs the dry run, stores the source blobs,
 * then creates, forks, resumes and appends, and finally marks every session
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
  const existing = new Map<string, Existing>();
  for (const id of ids.values()) {
    const l = await store.load(id);
    if (E.isLeft(l)) {
      if (l.left._tag !== 'SessionNotFound') return l;
      existing.set(id, { kind: 'absent' });
      continue;
    }
    const status = piImportStatus(id, l.right.metadata);
    if ((status.kind !== 'complete' && status.kind !== 'incomplete') || status.mark.digest !== digest) return E.left(conflict(id, status, name, digest));
    existing.set(id, { kind: 'present', seq: l.right.seq, status });
  }
  const earlier = [...existing.values()];
  if (earlier.every((x) => x.kind === 'present' && x.status.kind === 'complete')) {
    const first = earlier[0];
    const before = first?.kind === 'present' && first.status.kind === 'complete' ? first.status.mark.file : name;
    return E.left({
      _tag: 'SessionExists',
      sessionId: ids.values().next().value ?? '',
      message: `${name} (${digest}) was imported completely before (from ${before}) as ${[...ids.values()].map((i) => JSON.stringify(i)).join(', ')}`,
    });
  }

  const checked = await dryRun(name, plan, filePlan.ops, ids, mark);
  if (E.isLeft(checked)) return checked;
  const expected = checked.right;
  const t3 = now();
  progress({ phase: 'check', done: 1, total: 1 });

  const stored = await storeSource(
    store,
    filePlan.source,
    expected.map((x) => x.times),
  );
  if (E.isLeft(stored)) return stored;

  const total = expected.reduce((n, x) => n + x.commands + 2, 0);
  let written = 0;
  let resumed = 0;
  progress({ phase: 'write', done: 0, total });
  // The last seq of each session, and whether it is complete.
  const heads = new Map<string, { seq: number; complete: boolean }>();

  for (const x of expected) {
    const e = existing.get(x.id)!;
    let seq: number;
    let have: number;
    if (e.kind === 'present' && e.status.kind === 'complete') {
      heads.set(x.id, { seq: e.seq, complete: true });
      written += x.commands + 2;
      continue;
    }
    if (e.kind === 'present') {
      const r = await checkResumable(store, x, name, e.seq);
      if (E.isLeft(r)) return r;
      seq = e.seq;
      have = r.right - 1;
      resumed++;
    } else {
      const created = x.genesis.kind === 'root' ? await store.create({ id: x.id, metadata: x.genesis.metadata }) : await store.fork(x.genesis.parentId, { id: x.id, atSeq: x.genesis.seq });
      if (E.isLeft(created)) return created;
      seq = created.right.seq;
      have = 0;
    }
    written += have + 1;
    progress({ phase: 'write', done: written, total });
    const w = await writeSession(store, x, filePlan.ops, name, { seq, have }, size, (n) => {
      written += n;
      progress({ phase: 'write', done: written, total });
    });
    if (E.isLeft(w)) return w;
    heads.set(x.id, { seq: w.right, complete: false });
  }
  // Only now is each session marked complete: a stop before this leaves every written session visibly incomplete.
  const out: ImportedPiSession[] = [];
  for (const x of expected) {
    const h = heads.get(x.id)!;
    let s: Session;
    if (h.complete) {
      const l = await store.load(x.id);
      if (E.isLeft(l)) return l;
      s = l.right;
    } else {
      const r = await store.append(x.id, [x.completion], { expectedSeq: h.seq });
      if (E.isLeft(r)) return r;
      s = r.right.session;
      written++;
      progress({ phase: 'write', done: written, total });
    }
    out.push({
      key: x.key,
      sessionId: x.id,
      records: s.seq,
      revision: s.transcriptRevision(),
      messages: s.messageCount,
      ...(x.genesis.kind === 'fork' ? { forkOf: { sessionId: x.genesis.parentId, seq: x.genesis.seq } } : {}),
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
 * and the store's I/O errors. All of these except I/O errors during the write
 * phase leave the store unchanged.
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
