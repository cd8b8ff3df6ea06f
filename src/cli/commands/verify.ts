/** `palimpsest verify [<id>]`: re-check hash chains, record hashes, replayed revisions, rewrite commits, snapshots and indexes. */
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import type { SessionVerifyReport } from '../../store/index.ts';
import { EXIT } from '../exit.ts';
import { done, progressBar, withStore, type Ctx, type Store } from '../context.ts';
import type { TaggedError } from '../errors.ts';
import { bytes, ms, plural, table } from '../format.ts';
import { helpAfter, ID_HELP, requireStoreDir, resolveSessionId } from '../shared.ts';
import type { Run } from '../program.ts';

/** The outcome of a verify run: per-session reports, totals, wall time (ms). */
export interface VerifyOutcome {
  readonly ok: boolean;
  readonly sessions: readonly SessionVerifyReport[];
  readonly records: number;
  readonly bytes: number;
  readonly ms: number;
}

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
  });
};

/** Each problem as `<session> seq <n>: <_tag>: <reason>`. */
export const problemLines = (o: VerifyOutcome): string[] =>
  o.sessions.flatMap((s) => s.problems.map((p) => `${s.sessionId} seq ${p.seq}: ${p._tag}: ${p.reason}`));

/** The verify report as text: a table, the problems, and a verdict line. */
export const verifyText = (o: VerifyOutcome): string => {
  const rows = table(
    ['session', 'records', 'bytes', 'result'],
    o.sessions.map((s) => [s.sessionId, String(s.records), String(s.bytes), s.ok ? 'ok' : `FAILED (${plural(s.problems.length, 'problem')})`]),
    ['left', 'right', 'right'],
  );
  const problems = problemLines(o);
  const rate = o.ms > 0 ? ` (${(o.bytes / 1024 / 1024 / (o.ms / 1000)).toFixed(1)} MiB/s)` : '';
  const verdict = o.ok
    ? `verify: ok: ${plural(o.sessions.length, 'session')}, ${plural(o.records, 'record')}, ${bytes(o.bytes)} checked in ${ms(o.ms)}${rate}`
    : `verify: FAILED: ${o.sessions.filter((s) => !s.ok).length} of ${plural(o.sessions.length, 'session')} with problems`;
  return [rows, ...(problems.length > 0 ? ['', 'problems:', ...problems.map((p) => `  ${p}`)] : []), '', verdict].join('\n');
};

export const registerVerify = (program: Command, run: Run): void => {
  program
    .command('verify')
    .description('verify one session or the whole store: hash chain, record hashes, replayed revisions, rewrite commits, snapshots, indexes')
    .argument('[id]', `${ID_HELP}; default every session`)
    .addHelpText(
      'after',
      helpAfter({
        prints:
          'One line per session: records read, bytes read (records, snapshots, chunks) and ok or\nFAILED; then every problem as <session> seq <n>: <_tag>: <reason> (seq 0 = the\nsession header or an index); then a verdict line with totals, time (ms) and\nthroughput (MiB/s). A progress bar (records) is drawn on stderr on a terminal.',
        json: '{ ok, records, bytes, ms, sessions: [{ sessionId, records, bytes, ok,\n  problems: [{ seq, _tag, reason }], lastSeq, revision? }] }',
        exits: 'Exit codes: 0 every session verified; 1 a problem was found (or the store could not be read); 2 bad usage.',
      }),
    )
    .action(async (id: string | undefined, _opts: unknown, cmd: Command) =>
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
          const o = await verifyWithProgress(ctx, store, sid);
          if (E.isLeft(o)) return o;
          return done(o.right, verifyText(o.right), o.right.ok ? EXIT.ok : EXIT.failure);
        });
      }),
    );
};
