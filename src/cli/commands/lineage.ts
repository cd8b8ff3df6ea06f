/** `palimpsest lineage <id>`: the fork chain from a session back to its root, and its direct children. */
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import type { ChildLink, LineageEntry } from '../../store/index.ts';
import { done } from '../context.ts';
import { shortDigest } from '../format.ts';
import { helpAfter, ID_HELP, withSession } from '../shared.ts';
import type { Run } from '../program.ts';

/** `child <- fork (at) of parent@seq (hash)` lines, child first. */
export const lineageText = (entries: readonly LineageEntry[]): string =>
  entries
    .map((e, i) => {
      const pad = '  '.repeat(i);
      if (e.forkedAt === undefined) return `${pad}${e.sessionId}  root`;
      return `${pad}${e.sessionId}  fork (${e.mode}) of ${e.forkedAt.sessionId} at seq ${e.forkedAt.seq} (record ${shortDigest(e.forkedAt.hash)})`;
    })
    .join('\n');

const childrenText = (children: readonly ChildLink[]): string =>
  children.length === 0 ? 'children: none' : ['children:', ...children.map((c) => `  ${c.sessionId}  fork (${c.mode}) at seq ${c.seq} (record ${shortDigest(c.hash)})`)].join('\n');

export const registerLineage = (program: Command, run: Run): void => {
  program
    .command('lineage')
    .description('print the fork chain of a session back to its root, and its direct fork children')
    .argument('<id>', ID_HELP)
    .addHelpText(
      'after',
      helpAfter({
        prints:
          'The session, then its parent, … up to the root, one per line, each with how it was\nforked (full|at|replacing) and the parent record it was forked from (seq and\nrecord hash, 12 hex digits); then the direct children of the session.',
        json: '{ "sessionId", "lineage": [{ sessionId, mode, forkedAt?: { sessionId, seq, hash } }],\n  "children": [{ sessionId, seq, hash, mode }] }',
      }),
    )
    .action(async (id: string, _opts: unknown, cmd: Command) =>
      run(cmd, async (ctx) => {
        return withSession(ctx, id, async (store, s) => {
          const sid = s.sessionId;
          const l = await store.lineage(sid);
          if (E.isLeft(l)) return l;
          const c = await store.children(sid);
          if (E.isLeft(c)) return c;
          return done({ sessionId: sid, lineage: l.right, children: c.right }, `${lineageText(l.right)}\n${childrenText(c.right)}`);
        });
      }),
    );
};
