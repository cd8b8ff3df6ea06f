/** `palimpsest import <file>`: import a pi session file (JSONL v1–v3) into the store. */
import { tmpdir } from 'node:os';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import type { PiImportProgress, PiStoreImport } from '../../adapters/pi/store.ts';
import { removeOwnSpills } from '../../adapters/pi/spill.ts';
import { done, printError, progressBar, withStore, type Ctx, type Store } from '../context.ts';
import { interrupted, withStopHandler } from '../interrupt.ts';
import type { TaggedError } from '../errors.ts';
import { bytes, countList, ms, plural, shortDigest } from '../format.ts';
import { helpAfter, intArg } from '../shared.ts';
import type { Run } from '../program.ts';

/**
 * Imports `file` (resolved against `ctx.cwd`, named as given in messages): scans
 * and plans it before opening the store (so a missing or malformed file leaves
 * no trace, not even an empty store), then writes it with a progress bar
 * (commands written) when `ctx.progress`, and releases the plan (its file and
 * spilled ops) in every case, a stop signal (Ctrl-C) included: then the spill
 * is removed and an `Interrupted` error says whether anything was written
 * before the process dies of the signal (`interrupt.ts`).
 */
export const importWithProgress = async (
  ctx: Ctx,
  withOpenStore: <A>(f: (store: Store) => Promise<E.Either<TaggedError, A>>) => Promise<E.Either<TaggedError, A>>,
  file: string,
  opts: { readonly idPrefix?: string; readonly batchSize?: number; readonly displayName?: string } = {},
): Promise<E.Either<TaggedError, PiStoreImport>> => {
  let writing = false;
  // Ctrl-C (or SIGTERM, SIGHUP) while planning or writing: remove this run's spill, say what was left, die of the signal.
  return withStopHandler(
    (signal) => {
      removeOwnSpills(tmpdir());
      printError(
        ctx,
        interrupted(
          signal,
          'import',
          writing
            ? `the import of ${file} stopped part-way; run the same import again to finish it (\`palimpsest sessions\` shows what it left INCOMPLETE)`
            : `nothing of ${file} was written`,
        ),
      );
    },
    () =>
      planAndWrite(ctx, withOpenStore, file, opts, () => {
        writing = true;
      }),
  );
};

/** `importWithProgress` without the stop handler; `onWrite` is called once the store is open, before the first write. */
const planAndWrite = async (
  ctx: Ctx,
  withOpenStore: <A>(f: (store: Store) => Promise<E.Either<TaggedError, A>>) => Promise<E.Either<TaggedError, A>>,
  file: string,
  opts: { readonly idPrefix?: string; readonly batchSize?: number; readonly displayName?: string },
  onWrite: () => void,
): Promise<E.Either<TaggedError, PiStoreImport>> => {
  const { readPiPlan, writePiPlan } = await import('../../adapters/pi/store.ts');
  const planned = await readPiPlan(nodePath.resolve(ctx.cwd, file), { displayName: opts.displayName ?? file });
  if (E.isLeft(planned)) return planned;
  try {
    return await withOpenStore(async (store) => {
      onWrite();
      const bar = progressBar(ctx, 'import', 'commands');
      try {
        return await writePiPlan(store, planned.right, {
          onProgress: (p: PiImportProgress) => {
            if (p.phase === 'write') bar.update(p.done, p.total);
          },
          ...(opts.idPrefix !== undefined ? { idPrefix: opts.idPrefix } : {}),
          ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
        });
      } finally {
        bar.stop();
      }
    });
  } finally {
    planned.right.close();
  }
};

/** `label: first` then `rest` aligned under `first`. */
const block = (indent: string, label: string, first: string, rest: readonly string[] = []): string[] => {
  const head = `${indent}${`${label}:`.padEnd(10)}`;
  return [`${head}${first}`, ...rest.map((l) => `${' '.repeat(head.length)}${l}`)];
};

/**
 * The import report as text: a heading line, then entries, sessions, repairs
 * (by kind, the first `maxRepairs` with file:line), warnings and phase times,
 * each line prefixed with `indent`.
 */
export const importText = (r: PiStoreImport, maxRepairs = 5, indent = '  ', moreHint = '--json lists them all'): string => {
  const rep = r.report;
  const sessions = r.sessions.map(
    (s) =>
      `${s.sessionId}  ${plural(s.records, 'record')}, ${plural(s.messages, 'message')}, revision ${shortDigest(s.revision)}${s.forkOf !== undefined ? `, fork of ${s.forkOf.sessionId}@${s.forkOf.seq}` : ''}`,
  );
  const repairs = rep.repairs.length === 0 ? 'none' : `${rep.repairs.length} (${countList(rep.repairs.map((x) => x.kind), 10)})`;
  const listed = rep.repairs.slice(0, maxRepairs).map((x) => x.message);
  if (rep.repairs.length > maxRepairs) listed.push(`… ${rep.repairs.length - maxRepairs} more (${moreHint})`);
  const t = r.timings;
  return [
    `imported ${r.file} (${bytes(r.bytes)}, pi version ${rep.version}${r.resumed > 0 ? `, resumed ${plural(r.resumed, 'unfinished session')}` : ''})`,
    ...block(indent, 'entries', `${rep.entries}: ${plural(rep.messages, 'message')}, ${plural(rep.toolCalls, 'tool call')}, ${plural(rep.toolResults, 'tool result')}`),
    ...block(indent, 'sessions', sessions[0] ?? 'none', sessions.slice(1)),
    ...block(indent, 'repairs', repairs, listed),
    ...block(indent, 'warnings', rep.warnings.length === 0 ? 'none' : (rep.warnings[0]?.message ?? ''), rep.warnings.slice(1).map((w) => w.message)),
    ...block(indent, 'time', `read ${ms(t.readMs)}, parse+plan ${ms(t.parseMs)}, check ${ms(t.checkMs)}, write ${ms(t.writeMs)}`),
  ].join('\n');
};

export const registerImport = (program: Command, run: Run): void => {
  program
    .command('import')
    .description('import a pi session file (JSONL, versions 1-3) into the store: one session per branch, forks for branches')
    .argument('<file>', 'the pi session file')
    .option('--id-prefix <prefix>', 'prefix of the session ids: id = prefix + pi session id [+ #leaf entry id] (default: "pi:")')
    .option('--batch <n>', 'commands per atomic append (default: 64)', intArg('--batch', 1))
    .addHelpText(
      'after',
      helpAfter({
        prints:
          'The file and its size (bytes), pi version, counts (entries, messages, tool calls,\ntool results), each session created (id, records, messages, revision, fork\norigin), the repairs made (by kind, the first few with file:line), warnings, and\nthe time of each phase (ms). A progress bar (commands written) is drawn on stderr\non a terminal.',
        json: '{ file, bytes, digest, source, resumed, sessions: [{ key, sessionId, records, revision, messages, forkOf? }],\n  report: { file, version, entries, messages, toolCalls, toolResults, sessions,\n  repairs: [{ kind, line, toolUseId?, message }], warnings }, timings: { readMs, parseMs,\n  checkMs, writeMs } }',
        notes:
          'Refusals (exit 1), with nothing written: PiFileError (cannot read the file), PiParseError /\nPiPlanError (names the file and line), SessionExists (these bytes were imported completely\nbefore), PiImportConflict (another file, or a session no import wrote, holds a planned id:\nnames both files), PiResumeMismatch (an unfinished import holds records this one would\nnot write). An import stopped part-way (crash, kill, full disk) leaves sessions marked\nINCOMPLETE; running the same import again resumes and finishes it. Ctrl-C (SIGINT, SIGTERM,\nSIGHUP) removes the scratch directory of the import and says so (Interrupted) before the process\ndies of the signal.',
      }),
    )
    .action(async (file: string, opts: { idPrefix?: string; batch?: number }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const r = await importWithProgress(ctx, (f) => withStore(ctx, f), file, {
          ...(opts.idPrefix !== undefined ? { idPrefix: opts.idPrefix } : {}),
          ...(opts.batch !== undefined ? { batchSize: opts.batch } : {}),
        });
        if (E.isLeft(r)) return r;
        return done(r.right, importText(r.right));
      }),
    );
};
