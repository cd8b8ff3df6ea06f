/** `palimpsest anchor [--out FILE]`: every session's head as one canonical-JSON line to keep outside the store. */
import { appendFile } from 'node:fs/promises';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import { anchorLine } from '../../store/anchors.ts';
import { done, withStore } from '../context.ts';
import { fileError } from '../errors.ts';
import { plural } from '../format.ts';
import { helpAfter, requireStoreDir } from '../shared.ts';
import type { Run } from '../program.ts';

export const registerAnchor = (program: Command, run: Run): void => {
  program
    .command('anchor')
    .description("print the head (seq, hash) of every session and a digest over them, as one line to keep outside the store; `verify --anchors FILE` then detects truncation and rollback")
    .option('--out <file>', 'append the line to <file> (created if absent) instead of printing it')
    .addHelpText(
      'after',
      helpAfter({
        prints:
          'Without --out: the anchor line {"digest","heads":[{"hash","seq","sessionId"}],"v":1}\n(canonical JSON) on stdout. With --out: the line is appended to <file> and one line\nsays how many sessions it anchors. Keep the file elsewhere (git, a log shipper, another disk).',
        json: 'The anchor object itself; with --out: { file, sessions, anchor }.',
        notes: 'Every header is checked against its log first (CorruptRecord, exit 1). A file that cannot be written is FileError (exit 1).',
      }),
    )
    .action(async (opts: { out?: string }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const dir = requireStoreDir(ctx);
        if (E.isLeft(dir)) return dir;
        const a = await withStore(ctx, (store) => store.anchor());
        if (E.isLeft(a)) return a;
        const line = anchorLine(a.right);
        if (opts.out === undefined) return done(a.right, line);
        const file = nodePath.resolve(ctx.cwd, opts.out);
        try {
          await appendFile(file, `${line}\n`, 'utf8');
        } catch (e) {
          return E.left(fileError(file, e, 'write'));
        }
        return done({ file, sessions: a.right.heads.length, anchor: a.right }, `anchored ${plural(a.right.heads.length, 'session')} in ${file}`);
      }),
    );
};
