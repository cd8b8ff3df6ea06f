/** `palimpsest copy --from DIR|URL --to DIR|URL [<id>…]`: copy sessions between stores (LevelDB and PostgreSQL, either way), then check every head on both sides. */
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import { done, resolveStoreOption, storeTargetOf, type Ctx } from '../context.ts';
import { plural } from '../format.ts';
import { helpAfter, requireStoreDir } from '../shared.ts';
import type { Run } from '../program.ts';

export const registerCopy = (program: Command, run: Run): void => {
  program
    .command('copy')
    .description('copy sessions (records, snapshots, chunks, blobs, forks, labels) from one store to another, LevelDB or PostgreSQL, then check that every head hash is identical on both sides')
    .requiredOption('--from <dir|url>', 'the source store: a directory or postgres://user@host/db[?schema=name]')
    .requiredOption('--to <dir|url>', 'the destination store (created when missing): a directory or a postgres:// URL')
    .argument('[ids...]', 'session ids to copy (exact ids; default: every session); a fork brings its ancestors along')
    .addHelpText(
      'after',
      helpAfter({
        prints: 'One line per session (copied; already there with the same head; or shared: an ancestor there with\nanother head but the same records up to the fork point shown), then the rows written.',
        json: '{ from, to, sessions: [{ sessionId, seq, hash, status: "copied" | "already" | "shared" }], written: { records, snapshots, chunks, blobs } }',
        notes:
          'Never overwrites or deletes anything at the destination: a session already there with another head is\nSessionExists (exit 1) and nothing is written, except an ancestor brought along (not named) whose\nrecords there match up to every fork point the copied forks need: it is left alone as shared. One\nwith the same head is left alone, so running an interrupted copy again finishes it. Each session is written in one atomic batch. Afterwards every\ncopied head is compared on both sides and each copy is verified (CopyMismatch, exit 1). --store is not used.',
      }),
    )
    .action(async (ids: string[], opts: { from: string; to: string }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const from = { ...ctx, ...resolveStoreOption(ctx.cwd, opts.from) } as Ctx;
        const to = { ...ctx, ...resolveStoreOption(ctx.cwd, opts.to) } as Ctx;
        // Never create a source: it must exist (a directory holding a store, or a database).
        const exists = requireStoreDir(from);
        if (E.isLeft(exists)) return exists;
        const { copySessions } = await import('../../store/copy.ts');
        const r = await copySessions(storeTargetOf(from), storeTargetOf(to), ids);
        if (E.isLeft(r)) return r;
        const lines = r.right.sessions.map((s) => `${s.status.padEnd(7)} ${s.sessionId} @${s.seq} ${s.hash}`);
        const w = r.right.written;
        lines.push(
          `${plural(r.right.sessions.filter((s) => s.status === 'copied').length, 'session')} copied from ${from.storePath} to ${to.storePath} (${plural(w.records, 'record')}, ${plural(w.snapshots, 'snapshot')}, ${plural(w.chunks, 'chunk')}, ${plural(w.blobs, 'blob')}); every head and shared fork point identical on both sides`,
        );
        return done({ from: from.storePath, to: to.storePath, ...r.right }, lines.join('\n'));
      }),
    );
};
