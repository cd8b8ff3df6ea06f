/** `palimpsest export <id>`: a session's transcript as a pi session file (JSONL version 3). */
import { writeFile } from 'node:fs/promises';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import { done, withStore } from '../context.ts';
import { bytes, plural } from '../format.ts';
import { fileError } from '../errors.ts';
import { helpAfter, ID_HELP, requireStoreDir, resolveSessionId } from '../shared.ts';
import type { Run } from '../program.ts';

export const registerExport = (program: Command, run: Run): void => {
  program
    .command('export')
    .description("export a session's current transcript (or with --tree its whole family) as pi JSONL (version 3)")
    .argument('<id>', ID_HELP)
    .option('--out <file>', 'write to <file> instead of stdout')
    .option('--tree', 'write the session, its lineage root and every fork below it as one pi tree')
    .addHelpText(
      'after',
      helpAfter({
        prints:
          'Without --out: the JSONL itself on stdout (one header line, one entry per line).\nWith --out: one line saying how many lines and bytes were written where, then one\nline per session: how it was written (import: entries pi wrote, copied from the stored\nsource; fork/native: fresh entries; "rewritten after import: exported as a pi compaction entry"\nwhen the rewrite is a compaction pi can express (a prefix summarized into one message, the\nrest kept), else "... as a branch").\nA session imported from pi gives back pi\'s own entries (same ids, times, fields).',
        json: 'With --out: { sessionId, file, lines, bytes, tree, entries, fromSource, sessions: [{ sessionId,\n  origin, fresh, rewritten? }] }. Without: the same with jsonl instead of file.',
        notes: 'A file that cannot be written is FileError (exit 1). A session of an import that never\nfinished is PiImportIncomplete (exit 1): run the import again first.',
      }),
    )
    .action(async (id: string, opts: { out?: string; tree?: boolean }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const dir = requireStoreDir(ctx);
        if (E.isLeft(dir)) return dir;
        const x = await withStore(ctx, async (store) => {
          const r = await resolveSessionId(store, id);
          if (E.isLeft(r)) return r;
          const { exportPi } = await import('../../adapters/pi/sourceExport.ts');
          return exportPi(store, r.right.sessionId, { tree: opts.tree === true });
        });
        if (E.isLeft(x)) return x;
        const { jsonl, ...report } = x.right;
        const { sessionId } = report;
        const lines = jsonl.split('\n').filter((l) => l !== '').length;
        const size = Buffer.byteLength(jsonl, 'utf8');
        if (opts.out === undefined) {
          return ctx.json ? done({ ...report, lines, bytes: size, jsonl }, '') : (ctx.io.stdout.write(jsonl), done(null, ''));
        }
        const file = nodePath.resolve(ctx.cwd, opts.out);
        try {
          await writeFile(file, jsonl, 'utf8');
        } catch (e) {
          return E.left(fileError(opts.out, e, 'write'));
        }
        const how = report.sessions.map(
          (s) =>
            `  ${s.sessionId}: ${s.origin === 'import' ? 'imported from pi' : s.origin === 'fork' ? 'forked in palimpsest' : 'not imported'}, ${plural(s.fresh, 'fresh entry', 'fresh entries')}${s.rewritten !== undefined ? `, rewritten after import: exported as a ${s.rewritten === 'compaction' ? 'pi compaction entry' : 'branch'}` : ''}`,
        );
        return done(
          { ...report, file, lines, bytes: size },
          [`exported ${sessionId}${report.tree ? ' (tree)' : ''}: ${plural(lines, 'line')}, ${bytes(size)} to ${opts.out}; ${report.fromSource} entries as pi wrote them`, ...how].join('\n'),
        );
      }),
    );
};
