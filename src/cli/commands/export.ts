/**
 * `palimpsest export <id>`: a session's transcript as a pi session file (JSONL
 * version 3), streamed: entries are written one at a time (`exportPiTo`), so
 * memory does not grow with the session. Without `--out`, to stdout, waiting
 * for it to drain when it is full (backpressure). With `--out FILE`, to a
 * temporary file beside FILE that gets FILE's name only once complete
 * (`atomicFile.ts`): FILE is never half-written, and an existing FILE is not
 * replaced unless `--force` is given. A session imported from pi is exported
 * from its stored source, copied to a scratch directory under the OS temp
 * directory (`spill.ts`); a stop signal (Ctrl-C) removes that directory and
 * the temporary file, says what was left (`Interrupted`) and the process dies
 * of the signal (`interrupt.ts`).
 */
import { tmpdir } from 'node:os';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import { done, printError, withStore, type Ctx, type Result } from '../context.ts';
import { bytes, plural } from '../format.ts';
import { createdFileError, type TaggedError } from '../errors.ts';
import { helpAfter, ID_HELP, requireStoreDir, resolveSessionId } from '../shared.ts';
import { writeFileAtomically, type AtomicWritten, type TextWrite } from '../atomicFile.ts';
import { interrupted, withStopHandler } from '../interrupt.ts';
import { outputSink } from '../outputSink.ts';
import type { Run } from '../program.ts';
import { removeOwnSpills } from '../../adapters/pi/spill.ts';
import type { PiExportedSession, PiExportReport } from '../../adapters/pi/sourceExport.ts';

/** Options of `export`. */
interface ExportOptions {
  readonly out?: string;
  readonly tree?: boolean;
  readonly force?: boolean;
}

export const registerExport = (program: Command, run: Run): void => {
  program
    .command('export')
    .description("export a session's current transcript (or with --tree its whole family) as pi JSONL (version 3)")
    .argument('<id>', ID_HELP)
    .option('--out <file>', 'write to <file> (created whole or not at all) instead of stdout')
    .option('--force', 'with --out: replace <file> if it exists (default: refuse, FileError EEXIST)')
    .option('--tree', 'write the session, its lineage root and every fork below it as one pi tree')
    .addHelpText(
      'after',
      helpAfter({
        prints:
          'Without --out: the JSONL itself on stdout (one header line, one entry per line),\nstreamed. With --out: one line saying how many lines and bytes were written where, then one\nline per session: how it was written (import: entries pi wrote, copied from the stored\nsource; fork/native: fresh entries; "rewritten after import: exported as a pi compaction entry"\nwhen the rewrite is a compaction pi can express (a prefix summarized into one message, the\nrest kept), else "... as a branch").\nA session imported from pi gives back pi\'s own entries (same ids, times, fields).',
        json: 'With --out: { sessionId, file, lines, bytes, tree, entries, fromSource, sessions: [{ sessionId,\n  origin, fresh, rewritten? }] }. Without: the same with jsonl instead of file (the whole\n  text held in memory: use --out for long sessions).',
        notes:
          'With --out the file is written to a hidden temporary file in the same directory and renamed\nonly when complete: a failure (or a kill) never leaves a half-written <file>; an existing\n<file> is left alone (FileError, code EEXIST) unless --force. Ctrl-C (SIGINT, SIGTERM, SIGHUP)\nremoves the temporary file and the scratch directory and says so (Interrupted) before the\nprocess dies of the signal. A file that cannot be written\nis FileError (exit 1). Without --out, a message chunk found missing or corrupt while writing\nstops the export with its error (exit 1) after the lines before it. A session of an import\nthat never finished is PiImportIncomplete (exit 1): run the import again first.',
      }),
    )
    .action(async (id: string, opts: ExportOptions, cmd: Command) =>
      run(cmd, async (ctx) => {
        const dir = requireStoreDir(ctx);
        if (E.isLeft(dir)) return dir;
        // Ctrl-C (or SIGTERM, SIGHUP): remove this run's spill (the copy of the stored source), say what was left, die of the signal.
        return withStopHandler(
          (signal) => {
            removeOwnSpills(tmpdir());
            printError(ctx, interrupted(signal, 'export', whatWasLeft(ctx, opts)));
          },
          () => exportSession(ctx, id, opts),
        );
      }),
    );
};

/** What an export stopped by a signal leaves, as the `Interrupted` message says it. */
const whatWasLeft = (ctx: Ctx, opts: ExportOptions): string =>
  opts.out !== undefined
    ? `${opts.out} was not written${opts.force === true ? ' (an existing file is unchanged)' : ''}`
    : ctx.json
      ? 'nothing was printed'
      : 'the JSONL on stdout stops part-way (incomplete)';

/**
 * `export <id>` in `ctx` (store opened, session resolved), to stdout or, with
 * `--out`, to a file written whole or not at all (module comment). Errors:
 * what resolving the id and `exportPiTo` give, `FileError` for `--out`.
 */
const exportSession = async (ctx: Ctx, id: string, opts: ExportOptions): Promise<E.Either<TaggedError, Result>> => {
  const tree = opts.tree === true;
  const { exportPi, exportPiTo } = await import('../../adapters/pi/sourceExport.ts');
  if (opts.out === undefined) {
    if (ctx.json) {
      const x = await withStore(ctx, async (store) => {
        const r = await resolveSessionId(store, id);
        return E.isLeft(r) ? r : exportPi(store, r.right.sessionId, { tree });
      });
      if (E.isLeft(x)) return x;
      const { jsonl, ...report } = x.right;
      return done({ ...report, lines: report.entries + 1, bytes: Buffer.byteLength(jsonl, 'utf8'), jsonl }, '');
    }
    const sink = outputSink(ctx.io.stdout);
    const x = await withStore(ctx, async (store) => {
      const r = await resolveSessionId(store, id);
      return E.isLeft(r) ? r : exportPiTo(store, r.right.sessionId, sink.write, { tree });
    });
    // What was produced goes out, also before an error (the help says so).
    await sink.end();
    return E.isLeft(x) ? x : done(null, '');
  }
  const out = opts.out;
  const file = nodePath.resolve(ctx.cwd, out);
  const x = await withStore(ctx, async (store): Promise<E.Either<TaggedError, AtomicWritten<PiExportReport>>> => {
    const r = await resolveSessionId(store, id);
    if (E.isLeft(r)) return r;
    const w = await writeFileAtomically(file, (write: TextWrite) => exportPiTo(store, r.right.sessionId, write, { tree }), { replace: opts.force === true });
    if (E.isRight(w)) return E.right(w.right);
    const err = w.left;
    return E.left(err._tag === 'AtomicWriteFailed' ? createdFileError(out, err.cause) : err);
  });
  if (E.isLeft(x)) return x;
  const report = x.right.value;
  const lines = report.entries + 1;
  const size = x.right.bytes;
  return done(
    { ...report, file, lines, bytes: size },
    [`exported ${report.sessionId}${report.tree ? ' (tree)' : ''}: ${plural(lines, 'line')}, ${bytes(size)} to ${out}; ${report.fromSource} entries as pi wrote them`, ...report.sessions.map(howLine)].join('\n'),
  );
};

/** One line of the `--out` report: how session `s` was written. */
const howLine = (s: PiExportedSession): string =>
  `  ${s.sessionId}: ${s.origin === 'import' ? 'imported from pi' : s.origin === 'fork' ? 'forked in palimpsest' : 'not imported'}, ${plural(s.fresh, 'fresh entry', 'fresh entries')}${s.rewritten !== undefined ? `, rewritten after import: exported as a ${s.rewritten === 'compaction' ? 'pi compaction entry' : 'branch'}` : ''}`;
