/**
 * pi import into and export from a `SessionStore` (spec README §7).
 *
 * `importPiFile(store, file)` reads a pi JSONL file, parses and plans it
 * (`parse.ts`, `plan.ts`, pure), checks the plan against in-memory sessions (a
 * dry run: every command is reduced once before anything is written, so a plan
 * the session layer would refuse writes nothing), then writes it:
 *
 * - one store session per planned session, in plan order (parents first). The
 *   id is `idPrefix` (default `pi:`) + the plan key: the pi session id for the
 *   branch pi would reopen, `<pi id>#<leaf entry id>` for the other branches of
 *   a v2/v3 tree. Ids are therefore deterministic: importing the same file
 *   twice is refused with `SessionExists` before anything is written, never
 *   duplicated. A `/` or control character in a pi id (the store refuses them
 *   in ids) is replaced with `_`.
 * - a root session is `create`d with the plan's initial metadata; a fork is
 *   `fork`ed (mode `full`) from its parent's record reached after the parent's
 *   first `afterOp` ops, so the child inherits messages, metadata and usage and
 *   its genesis links to that record.
 * - ops become commands: `append` → `messages_appended`, `rewrite` →
 *   `transcript_rewritten` (a validated rewrite commit, reason `compaction`),
 *   `metadata_set` → `metadata_set`, `usage` → `usage_recorded`. Consecutive
 *   ops are written in appends of at most `batchSize` (default 64) commands;
 *   each append is one atomic LevelDB batch. Appends are cut at every op
 *   boundary a fork starts from, so every fork point is a record.
 *
 * Record times (`at`) are stamped by the store's clock (when the import ran);
 * message `createdAt`s keep pi's times. Transcript revisions depend on the
 * messages only, so re-importing an export reproduces them.
 *
 * `exportPiSession(store, sessionId)` loads a session and writes it as pi JSONL
 * version 3 (`export.ts`). A session that was imported from pi (its id is
 * `<prefix><pi.sessionId>`) is written under its pi id and pi header time
 * (`pi.timestamp`), so it re-imports under the same id; any other session
 * (a fork, a native session) under its store id and creation time.
 */
import { readFile } from 'node:fs/promises';
import * as E from 'fp-ts/lib/Either.js';
import { Session } from '../../session/session.ts';
import type { SessionCommand } from '../../session/commands.ts';
import type { Digest } from '../../model/scalars.ts';
import { isLazyReadFailure, type SessionStore, type StoreError } from '../../store/index.ts';
import { parsePiJsonl } from './parse.ts';
import { planPiImport, type PiImportPlan, type PiPlanOp, type PiPlanSession } from './plan.ts';
import type { PiImportError, PiImportReport } from './report.ts';
import { exportPiJsonl } from './export.ts';

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

/** Everything `importPiFile` can fail with, besides store errors. */
export type PiStoreImportError = PiFileError | PiImportError | PiImportRefused;

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

/** What `importPiFile` returns. `bytes` is the size of the file read. */
export interface PiStoreImport {
  readonly file: string;
  readonly bytes: number;
  readonly sessions: readonly ImportedPiSession[];
  readonly report: PiImportReport;
  readonly timings: PiImportTimings;
}

/** Default prefix of imported session ids. */
export const PI_ID_PREFIX = 'pi:';
/** Default number of commands per append. */
export const PI_IMPORT_BATCH = 64;

// eslint-disable-next-line no-control-regex
const unsafeIdChars = /[/\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** The store session id of a planned session: `prefix + key`, with characters the store refuses replaced by `_`. */
export const piSessionId = (key: string, prefix = PI_ID_PREFIX): string => `${prefix}${key}`.replace(unsafeIdChars, '_');

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
 * The op counts after which each session must end an append: the `afterOp` of
 * every fork taken from it (0 is the genesis, always a record boundary).
 */
const forkPoints = (plan: PiImportPlan): Map<string, Set<number>> => {
  const m = new Map<string, Set<number>>();
  for (const s of plan.sessions) {
    if (s.forkOf === undefined || s.forkOf.afterOp === 0) continue;
    const set = m.get(s.forkOf.sessionKey) ?? new Set<number>();
    set.add(s.forkOf.afterOp);
    m.set(s.forkOf.sessionKey, set);
  }
  return m;
};

/** `[start, end)` op ranges of one session: at most `size` ops, cut at every point in `cuts`. */
const batches = (n: number, size: number, cuts: ReadonlySet<number> | undefined): Array<readonly [number, number]> => {
  const out: Array<readonly [number, number]> = [];
  let start = 0;
  while (start < n) {
    let end = Math.min(n, start + size);
    if (cuts !== undefined) for (const c of cuts) if (c > start && c < end) end = c;
    out.push([start, end]);
    start = end;
  }
  return out;
};

/**
 * Reduces every planned command against in-memory sessions (forks included),
 * so that a refusal is found before anything is written.
 */
const dryRun = (file: string, plan: PiImportPlan, ids: ReadonlyMap<string, string>): E.Either<PiImportRefused, void> => {
  // The state of each session after each fork point it must provide.
  const at = new Map<string, Map<number, Session>>();
  const points = forkPoints(plan);
  for (const s of plan.sessions) {
    const id = ids.get(s.key)!;
    let session: Session;
    if (s.forkOf === undefined) {
      session = Session.create({ id, metadata: s.metadata, clock: () => s.createdAt });
    } else {
      const parent = at.get(s.forkOf.sessionKey)?.get(s.forkOf.afterOp);
      if (parent === undefined) throw new Error(`pi import: fork parent ${s.forkOf.sessionKey} after op ${s.forkOf.afterOp} was not planned before ${s.key}`);
      session = parent.fork({ id });
    }
    const mine = new Map<number, Session>([[0, session]]);
    at.set(s.key, mine);
    const cuts = points.get(s.key);
    for (let i = 0; i < s.ops.length; i++) {
      const r = session.apply(commandOfOp(s.ops[i]!));
      if (E.isLeft(r)) {
        const e = r.left;
        return E.left({
          _tag: 'PiImportRefused',
          file,
          sessionKey: s.key,
          op: i,
          cause: { _tag: e._tag, message: e.message },
          message: `${file}: planned op ${i} (${s.ops[i]!.op}) of session ${s.key} was refused: ${e.message}`,
        });
      }
      session = r.right.session;
      if (cuts?.has(i + 1)) mine.set(i + 1, session);
    }
  }
  return E.right(undefined);
};

const codeOf = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : undefined;

/** Builds a `PiFileError` from a read failure. */
export const piFileError = (file: string, e: unknown): PiFileError => {
  const code = codeOf(e);
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : e instanceof Error ? e.message : String(e);
  return { _tag: 'PiFileError', file, ...(code !== undefined ? { code } : {}), message: `cannot read pi session file ${file}: ${why}` };
};

/** A pi file read, parsed and planned (`readPiPlan`), ready for `writePiPlan`. */
export interface PiFilePlan {
  /** The file's name in errors and reports. */
  readonly file: string;
  readonly bytes: number;
  readonly plan: PiImportPlan;
  readonly readMs: number;
  readonly parseMs: number;
}

/**
 * Reads, parses and plans the pi file `file` (no store involved).
 * Errors: `PiFileError`, `PiParseError`, `PiPlanError`.
 */
export const readPiPlan = async (file: string, opts: Pick<PiImportOptions, 'displayName' | 'onProgress'> = {}): Promise<E.Either<PiStoreImportError, PiFilePlan>> => {
  const name = opts.displayName ?? file;
  const progress = opts.onProgress ?? (() => undefined);
  const t0 = performance.now();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return E.left(piFileError(name, e));
  }
  const t1 = performance.now();
  progress({ phase: 'read', done: 1, total: 1 });
  const parsed = parsePiJsonl(text, name);
  if (E.isLeft(parsed)) return parsed;
  const planned = planPiImport(parsed.right);
  if (E.isLeft(planned)) return planned;
  const t2 = performance.now();
  progress({ phase: 'plan', done: 1, total: 1 });
  return E.right({ file: name, bytes: Buffer.byteLength(text, 'utf8'), plan: planned.right, readMs: t1 - t0, parseMs: t2 - t1 });
};

/**
 * Writes a planned pi file into `store` (see the module comment): refuses ids
 * that exist (`SessionExists`) and runs the dry run before writing anything,
 * then creates, forks and appends.
 */
export const writePiPlan = async (
  store: SessionStore,
  filePlan: PiFilePlan,
  opts: Pick<PiImportOptions, 'idPrefix' | 'batchSize' | 'onProgress'> = {},
): Promise<E.Either<PiStoreImportError | StoreError, PiStoreImport>> => {
  const { file: name, plan } = filePlan;
  const prefix = opts.idPrefix ?? PI_ID_PREFIX;
  const size = opts.batchSize ?? PI_IMPORT_BATCH;
  if (!Number.isSafeInteger(size) || size < 1 || size > 10_000) throw new RangeError(`batchSize must be an integer in 1..10000, got ${size}`);
  const progress = opts.onProgress ?? (() => undefined);
  const now = (): number => performance.now();

  const t2 = now();
  const ids = new Map(plan.sessions.map((s) => [s.key, piSessionId(s.key, prefix)] as const));
  // Refuse a re-import before writing anything.
  for (const id of ids.values()) {
    const l = await store.load(id);
    if (E.isRight(l)) return E.left({ _tag: 'SessionExists', sessionId: id, message: `session ${JSON.stringify(id)} already exists: ${name} was imported before` });
    if (l.left._tag !== 'SessionNotFound') return l;
  }
  const checked = dryRun(name, plan, ids);
  if (E.isLeft(checked)) return checked;
  const t3 = now();
  progress({ phase: 'check', done: 1, total: 1 });

  const total = plan.sessions.reduce((n, s) => n + s.ops.length + 1, 0);
  let written = 0;
  progress({ phase: 'write', done: 0, total });
  const points = forkPoints(plan);
  // seq of each session's record after op n, for the fork points.
  const seqAfter = new Map<string, Map<number, number>>();
  const out: ImportedPiSession[] = [];

  const writeSession = async (s: PiPlanSession): Promise<E.Either<StoreError, ImportedPiSession>> => {
    const id = ids.get(s.key)!;
    let created: E.Either<StoreError, Session>;
    let forkOf: ImportedPiSession['forkOf'];
    if (s.forkOf === undefined) {
      created = await store.create({ id, metadata: s.metadata });
    } else {
      const parentId = ids.get(s.forkOf.sessionKey)!;
      const seq = seqAfter.get(s.forkOf.sessionKey)?.get(s.forkOf.afterOp);
      if (seq === undefined) throw new Error(`pi import: no record of ${parentId} after op ${s.forkOf.afterOp}`);
      forkOf = { sessionId: parentId, seq };
      created = await store.fork(parentId, { id, atSeq: seq });
    }
    if (E.isLeft(created)) return created;
    let session = created.right;
    const mine = new Map<number, number>([[0, session.seq]]);
    seqAfter.set(s.key, mine);
    written++;
    progress({ phase: 'write', done: written, total });
    for (const [start, end] of batches(s.ops.length, size, points.get(s.key))) {
      const commands = s.ops.slice(start, end).map(commandOfOp);
      const r = await store.append(id, commands, { expectedSeq: session.seq });
      if (E.isLeft(r)) return r;
      session = r.right.session;
      mine.set(end, session.seq);
      written += end - start;
      progress({ phase: 'write', done: written, total });
    }
    return E.right({
      key: s.key,
      sessionId: id,
      records: session.seq,
      revision: session.transcriptRevision(),
      messages: session.messageCount,
      ...(forkOf !== undefined ? { forkOf } : {}),
    });
  };

  for (const s of plan.sessions) {
    const r = await writeSession(s);
    if (E.isLeft(r)) return r;
    out.push(r.right);
  }
  const t4 = now();
  return E.right({
    file: name,
    bytes: filePlan.bytes,
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
  return writePiPlan(store, planned.right, opts);
};

/**
 * The session `sessionId` of `store` as pi JSONL version 3 (one linear branch:
 * its current transcript, with its user metadata and creation time).
 * Errors: `SessionNotFound` and the store's read errors.
 */
export const exportPiSession = async (store: SessionStore, sessionId: string): Promise<E.Either<StoreError, string>> => {
  const l = await store.load(sessionId);
  if (E.isLeft(l)) return l;
  const s = l.right;
  const piId = s.metadata['pi.sessionId'];
  const piTime = s.metadata['pi.timestamp'];
  // The session a pi file was imported as (its id ends with the pi id) goes back out under the pi id and time.
  const imported = typeof piId === 'string' && piId !== '' && s.id.endsWith(piId);
  const piCreatedAt = imported && typeof piTime === 'string' ? Date.parse(piTime) : Number.NaN;
  try {
    return E.right(
      exportPiJsonl({
        sessionId: imported ? piId : s.id,
        createdAt: Number.isFinite(piCreatedAt) ? piCreatedAt : s.createdAt,
        metadata: s.metadata,
        messages: s.messages,
      }),
    );
  } catch (e) {
    // Reading the messages of a cold-loaded session can meet a missing or corrupt chunk.
    if (isLazyReadFailure(e)) return E.left(e.error);
    throw e;
  }
};
