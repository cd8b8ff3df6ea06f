/** `palimpsest fork <id>`: a copy-on-write fork (one genesis record in the child). */
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import type { Session } from '../../session/session.ts';
import { done } from '../context.ts';
import { fields, shortDigest } from '../format.ts';
import { helpAfter, ID_HELP, withSession, intArg } from '../shared.ts';
import type { Run } from '../program.ts';

/** JSON of a freshly forked child. */
export const forkJson = (child: Session): Record<string, unknown> => {
  const f = child.state.forkedFrom;
  return {
    sessionId: child.id,
    mode: f?.mode,
    from: f?.from,
    seq: child.seq,
    head: child.head,
    messages: child.messageCount,
    revision: child.transcriptRevision(),
  };
};

/**
 * Text of a freshly forked child; `index` is the `--at` asked for: the mode line
 * gives the messages the child kept, and says when `index` was past the end
 * (forkAt clamps it to the length).
 */
export const forkText = (child: Session, index: number | undefined): string => {
  const f = child.state.forkedFrom;
  const clamped = index !== undefined && index > child.messageCount ? `; --at ${index} is past the end: clamped` : '';
  return fields([
    ['forked', child.id],
    ['mode', f === undefined ? '?' : f.mode === 'at' ? `at (first ${child.messageCount} messages${clamped})` : f.mode],
    ['from', f === undefined ? '?' : `${f.from.sessionId} at seq ${f.from.seq} (record ${shortDigest(f.from.hash)})`],
    ['messages', String(child.messageCount)],
    ['revision', child.transcriptRevision()],
    ['genesis', `seq ${child.seq}, record ${shortDigest(child.head)} (one record written; nothing copied)`],
  ]);
};

export const registerFork = (program: Command, run: Run): void => {
  program
    .command('fork')
    .description('fork a session (copy-on-write: writes one genesis record in the child, whatever the length)')
    .argument('<id>', ID_HELP)
    .option('--at <index>', 'keep only the first <index> messages (forkAt; clamped to the length)', intArg('--at'))
    .option('--seq <seq>', "fork from the parent's state after record <seq> (default its newest)", intArg('--seq', 1))
    .option('--id <new-id>', 'id of the child (default a random UUID); SessionExists (exit 1) if taken')
    .addHelpText(
      'after',
      helpAfter({
        prints:
          "The child's id, fork mode (full, or at: first <index> messages), the parent record it\nlinks to (seq and record hash), its message count and revision. The child keeps\nthe parent's user metadata, usage and messages; machine states start fresh.",
        json: '{ sessionId, mode, from: { sessionId, seq, hash }, seq, head, messages, revision }',
      }),
    )
    .action(async (id: string, opts: { at?: number; seq?: number; id?: string }, cmd: Command) =>
      run(cmd, async (ctx) => {
        return withSession(ctx, id, async (store, r) => {
          const fo = { ...(opts.id !== undefined ? { id: opts.id } : {}), ...(opts.seq !== undefined ? { atSeq: opts.seq } : {}) };
          const c = opts.at === undefined ? await store.fork(r.sessionId, fo) : await store.forkAt(r.sessionId, opts.at, fo);
          if (E.isLeft(c)) return c;
          return done(forkJson(c.right), forkText(c.right, opts.at));
        });
      }),
    );
};
