/** `palimpsest verify [<id>] [--anchors FILE]`: re-check hash chains, record hashes, replayed revisions, rewrite commits, snapshots and indexes. */
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import * as nodePath from 'node:path';
import { parseAnchors, type AnchorProblem } from '../../store/anchors.ts';
import type { SessionVerifyReport } from '../../store/index.ts';
import { EXIT } from '../exit.ts';
import { done, progressBar, withStore, type Ctx, type Store } from '../context.ts';
import { fileError, type TaggedError } from '../errors.ts';
import { bytes, ms, plural, table } from '../format.ts';
import { helpAfter, ID_HELP, requireStoreDir, resolveSessionId } from '../shared.ts';
import { incompleteImportWarningOf } from '../importStatus.ts';
import type { Run } from '../program.ts';

/** The outcome of a verify run: per-session reports, totals, wall time (ms), and with `--anchors` the anchor check. */
export interface VerifyOutcome {
  readonly ok: boolean;
  readonly sessions: readonly SessionVerifyReport[];
  readonly records: number;
  readonly bytes: number;
  readonly ms: number;
  /**
   * Sessions that verified but are pi imports that stopped before they
   * finished (`palimpsest sessions` shows them INCOMPLETE): what they hold is
   * intact, but it is not the whole file; running the same import finishes it.
   */
  readonly incompleteImports: readonly string[];
  /** With `--anchors FILE`: how many anchor lines were read and every anchored record the store no longer holds as anchored. */
  readonly anchors?: { readonly file: string; readonly lines: number; readonly problems: readonly AnchorProblem[] };
}

/** Reads the anchor file and checks it against the store: `FileError`, `InvalidAnchor` (exit 1), or the problems. */
const checkAnchorFile = async (ctx: Ctx, store: Store, file: string): Promise<E.Either<TaggedError, NonNullable<VerifyOutcome['anchors']>>> => {
  const path = nodePath.resolve(ctx.cwd, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    return E.left(fileError(path, e));
  }
  const anchors = parseAnchors(text);
  if (E.isLeft(anchors)) return E.left({ ...anchors.left, message: `${path}: ${anchors.left.message}` });
  const problems = await store.verifyAnchors(anchors.right);
  if (E.isLeft(problems)) return problems;
  return E.right({ file: path, lines: anchors.right.length, problems: problems.right });
};

/** Verifies one session (`sid`) or every session, with a progress bar (records) when `ctx.progress`. */
export const verifyWithProgress = async (ctx: Ctx, store: Store, sid?: string): Promise<E.Either<TaggedError, VerifyOutcome>> => {
  const listed = await store.list();
  if (E.isLeft(listed)) return listed;
  const total = listed.right.filter((s) => sid === undefined || s.sessionId === sid).reduce((n, s) => n + s.lastSeq, 0);
  const bar = progressBar(ctx, 'verify', 'records');
  const t0 = performance.now();
  let v;
  try {
    v = await store.verify(sid, { onProgress: (p) => bar.update(Math.min(p.records, total), total) });
  } finally {
    bar.stop();
  }
  const elapsed = performance.now() - t0;
  if (E.isLeft(v)) return v;
  const sessions = v.right;
  return E.right({
    ok: sessions.every((s) => s.ok),
    sessions,
    records: sessions.reduce((n, s) => n + s.records, 0),
    bytes: sessions.reduce((n, s) => n + s.bytes, 0),
    ms: elapsed,
    incompleteImports: await incompleteImportsOf(store, sessions),
  });
};

/** The sessions among `sessions` that verified and are unfinished pi imports (a session that does not load is verify's to report). */
const incompleteImportsOf = async (store: Store, sessions: readonly SessionVerifyReport[]): Promise<string[]> => {
  const out: string[] = [];
  for (const s of sessions) {
    if (!s.ok) continue;
    const w = await incompleteImportWarningOf(store, s.sessionId);
    if (E.isRight(w) && w.right !== undefined) out.push(s.sessionId);
  }
  return out;
};

/** Each problem as `<session> seq <n>: <_tag>: <reason>` (anchor problems with `_tag` `Anchor:<kind>`). */
export const problemLines = (o: VerifyOutcome): string[] => [
  ...o.sessions.flatMap((s) => s.problems.map((p) => `${s.sessionId} seq ${p.seq}: ${p._tag}: ${p.reason}`)),
  ...(o.anchors?.problems ?? []).map((p) => `${p.sessionId} seq ${p.seq}: Anchor:${p.kind}: ${p.reason}`),
];

/** The verify report as text: a table, the problems, and a verdict line. */
export const verifyText = (o: VerifyOutcome): string => {
  const rows = table(
    ['session', 'records', 'bytes', 'result'],
    o.sessions.map((s) => [
      s.sessionId,
      String(s.records),
      String(s.bytes),
      !s.ok ? `FAILED (${plural(s.problems.length, 'problem')})` : o.incompleteImports.includes(s.sessionId) ? 'ok, INCOMPLETE import' : 'ok',
    ]),
    ['left', 'right', 'right'],
  );
  const problems = problemLines(o);
  const rate = o.ms > 0 ? ` (${(o.bytes / 1024 / 1024 / (o.ms / 1000)).toFixed(1)} MiB/s)` : '';
  const anchored = o.anchors !== undefined ? `; ${plural(o.anchors.lines, 'anchor line')} from ${o.anchors.file}: ${o.anchors.problems.length === 0 ? 'every anchored record present' : `${plural(o.anchors.problems.length, 'anchored record')} missing or changed`}` : '';
  const verdict = o.ok
    ? `verify: ok: ${plural(o.sessions.length, 'session')}, ${plural(o.records, 'record')}, ${bytes(o.bytes)} checked in ${ms(o.ms)}${rate}${anchored}`
    : `verify: FAILED: ${o.sessions.filter((s) => !s.ok).length} of ${plural(o.sessions.length, 'session')} with problems${anchored}`;
  const incomplete =
    o.incompleteImports.length > 0
      ? ['', `note: ${plural(o.incompleteImports.length, 'session')} verified but ${o.incompleteImports.length === 1 ? 'is a pi import' : 'are pi imports'} that stopped before finishing (${o.incompleteImports.join(', ')}): run the same \`palimpsest import\` again to finish`]
      : [];
  return [rows, ...(problems.length > 0 ? ['', 'problems:', ...problems.map((p) => `  ${p}`)] : []), ...incomplete, '', verdict].join('\n');
};

export const registerVerify = (program: Command, run: Run): void => {
  program
    .command('verify')
    .description('verify one session or the whole store: hash chain, record hashes, replayed revisions, rewrite commits, snapshots, indexes')
    .argument('[id]', `${ID_HELP}; default every session`)
    .option('--anchors <file>', 'also check that every record anchored in <file> (lines of `palimpsest anchor`) is still in the store with its hash')
    .addHelpText(
      'after',
      helpAfter({
        prints:
          'One line per session: records read, bytes read (records, snapshots, chunks) and ok\n("ok, INCOMPLETE import" for a pi import that stopped before finishing) or FAILED; then every problem as <session> seq <n>: <_tag>: <reason> (seq 0 = the\nsession header or an index); then a verdict line with totals, time (ms) and\nthroughput (MiB/s). A progress bar (records) is drawn on stderr on a terminal.',
        json: '{ ok, records, bytes, ms, incompleteImports: [sessionId], sessions: [{ sessionId, records, bytes, ok,\n  problems: [{ seq, _tag, reason }], lastSeq, revision? }],\n  anchors?: { file, lines, problems: [{ sessionId, seq, kind, reason }] } }',
        exits: 'Exit codes: 0 every session verified (and every anchored record present); 1 a problem, a lost or changed anchored record, an edited anchor file (InvalidAnchor) or an unreadable store; 2 bad usage.',
      }),
    )
    .action(async (id: string | undefined, opts: { anchors?: string }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const dir = requireStoreDir(ctx);
        if (E.isLeft(dir)) return dir;
        return withStore(ctx, async (store) => {
          let sid: string | undefined;
          if (id !== undefined) {
            const r = await resolveSessionId(store, id);
            if (E.isLeft(r)) return r;
            sid = r.right.sessionId;
          }
          const v = await verifyWithProgress(ctx, store, sid);
          if (E.isLeft(v)) return v;
          let o = v.right;
          if (opts.anchors !== undefined) {
            const a = await checkAnchorFile(ctx, store, opts.anchors);
            if (E.isLeft(a)) return a;
            o = { ...o, ok: o.ok && a.right.problems.length === 0, anchors: a.right };
          }
          return done(o, verifyText(o), o.ok ? EXIT.ok : EXIT.failure);
        });
      }),
    );
};
