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
    .description("export a session's current transcript as pi JSONL (version 3)")
    .argument('<id>', ID_HELP)
    .option('--out <file>', 'write to <file> instead of stdout')
    .addHelpText(
      'after',
      helpAfter({
        prints:
          'Without --out: the JSONL itself on stdout (one header line, one entry per line).\nWith --out: one line saying how many lines and bytes were written where.\nImporting the export again gives the same transcript revision.',
        json: 'With --out: { sessionId, file, lines, bytes }. Without: { sessionId, lines, bytes, jsonl }.',
        notes: 'A file that cannot be written is FileError (exit 1).',
      }),
    )
    .action(async (id: string, opts: { out?: string }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const dir = requireStoreDir(ctx);
        if (E.isLeft(dir)) return dir;
        const x = await withStore(ctx, async (store) => {
          const r = await resolveSessionId(store, id);
          if (E.isLeft(r)) return r;
          const { exportPiSession } = await import('../../adapters/pi/store.ts');
          const j = await exportPiSession(store, r.right.sessionId);
          return E.isLeft(j) ? j : E.right({ sessionId: r.right.sessionId, jsonl: j.right });
        });
        if (E.isLeft(x)) return x;
        const { sessionId, jsonl } = x.right;
        const lines = jsonl.split('\n').filter((l) => l !== '').length;
        const size = Buffer.byteLength(jsonl, 'utf8');
        if (opts.out === undefined) {
          return ctx.json ? done({ sessionId, lines, bytes: size, jsonl }, '') : (ctx.io.stdout.write(jsonl), done(null, ''));
        }
        const file = nodePath.resolve(ctx.cwd, opts.out);
        try {
          await writeFile(file, jsonl, 'utf8');
        } catch (e) {
          return E.left(fileError(opts.out, e, 'write'));
        }
        return done({ sessionId, file, lines, bytes: size }, `exported ${sessionId}: ${plural(lines, 'line')}, ${bytes(size)} to ${opts.out}`);
      }),
    );
};
