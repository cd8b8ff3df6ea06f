/** `palimpsest label <id> <name> [--at seq|revision] | --delete`: set or delete a named reference to a record. */
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import { deleteLabel, setLabel } from '../../store/labels.ts';
import { done } from '../context.ts';
import { usageError } from '../errors.ts';
import { shortDigest } from '../format.ts';
import { helpAfter, ID_HELP, withSession } from '../shared.ts';
import type { Run } from '../program.ts';
import { parseAt, resolveRevision } from './show.ts';

export const registerLabel = (program: Command, run: Run): void => {
  program
    .command('label')
    .description('name a record of a session (a recorded command: it replays, verifies and forks with the session), or delete a name')
    .argument('<id>', ID_HELP)
    .argument('<name>', 'the label (non-empty, no control characters, at most 200 characters)')
    .option('--at <seq|revision>', 'the record to name: a seq, or the record where <revision> (sha256:<hex> or 4+ hex digits) first became the head (default: the newest record)')
    .option('--delete', 'delete the label instead', false)
    .addHelpText(
      'after',
      helpAfter({
        prints: 'The label, the seq and transcript revision it names, and the seq of the record that set\nit (or that deleted it). Resolve it with `show <id> --at label:<name>`; `revisions` and\n`log` list the labels.',
        json: '{ sessionId, name, seq?, revision?, deleted, recordedAt: <seq of the label record> }',
        notes: 'InvalidLabel, LabelNotFound (--delete of a missing label), SeqOutOfRange, RevisionNotFound\n(exit 1); --at together with --delete is a usage error (exit 2).',
      }),
    )
    .action(async (id: string, name: string, opts: { at?: string; delete: boolean }, cmd: Command) =>
      run(cmd, async (ctx) => {
        if (opts.delete && opts.at !== undefined) return E.left(usageError('--at and --delete cannot be combined'));
        const at = opts.at === undefined ? undefined : parseAt(opts.at);
        if (at !== undefined && E.isLeft(at)) return at;
        if (at !== undefined && 'label' in at.right) return E.left(usageError('--at of label takes a seq or a revision'));
        return withSession(ctx, id, async (store, r) => {
          const sid = r.sessionId;
          if (opts.delete) {
            const d = await deleteLabel(store, sid, name);
            if (E.isLeft(d)) return d;
            return done({ sessionId: sid, name, deleted: true, recordedAt: d.right.seq }, `deleted label ${name} of ${sid} (record ${d.right.seq})`);
          }
          let where: { seq?: number; revision?: `sha256:${string}` } = {};
          if (at !== undefined && 'seq' in at.right) where = { seq: at.right.seq };
          if (at !== undefined && 'revision' in at.right) {
            const rev = await resolveRevision(store, sid, at.right.revision);
            if (E.isLeft(rev)) return rev;
            where = { revision: rev.right as `sha256:${string}` };
          }
          const s = await setLabel(store, sid, name, where);
          if (E.isLeft(s)) return s;
          const { target, session } = s.right;
          return done(
            { sessionId: sid, name, seq: target.seq, revision: target.revision, deleted: false, recordedAt: session.seq },
            `label ${name} -> ${sid} seq ${target.seq} (revision ${shortDigest(target.revision)}), recorded at seq ${session.seq}`,
          );
        });
      }),
    );
};
