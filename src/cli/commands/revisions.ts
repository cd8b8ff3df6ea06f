/** `palimpsest revisions <id>`: a session's revision graph: head, rewrite commits with their digests, every head revision. */
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import type { TranscriptRewriteCommit } from '../../transcript/index.ts';
import type { RevisionGraph } from '../../store/index.ts';
import { done } from '../context.ts';
import { fields, isoTime, plural, shortDigest, table } from '../format.ts';
import { helpAfter, ID_HELP, withSession } from '../shared.ts';
import type { Run } from '../program.ts';
import { labelsOf } from '../../store/labels.ts';
import { originalTimes } from '../importStatus.ts';

/** A rewrite commit as indented `key: value` lines (full digests). */
export const commitText = (seq: number, c: TranscriptRewriteCommit, indent = '  '): string => {
  const s = c.selection;
  const replaced = s.end - s.start;
  const replacement = c.messagesAfter - (c.messagesBefore - replaced);
  return [
    `${indent.slice(2)}commit at seq ${seq}: [${s.start},${s.end}) -> ${plural(replacement, 'message')}, reason ${c.reason.kind}${c.actor !== undefined ? `, actor ${c.actor}` : ''}`,
    fields(
      [
        ['parent revision', c.parentRevision],
        ['new revision', c.revision],
        ['original span', `${c.originalSpanDigest} (${plural(replaced, 'message')})`],
        ['replacement', `${c.replacementDigest} (${plural(replacement, 'message')})`],
        ['messages', `${c.messagesBefore} -> ${c.messagesAfter}`],
        ...(c.reason.note !== undefined ? [['note', c.reason.note] as const] : []),
        ['committed', isoTime(c.committedAt)],
      ],
      indent,
    ),
  ].join('\n');
};

/** The labels block: one line per label, `name -> seq <seq> (revision <12 hex>)`. */
export const labelsText = (labels: ReturnType<typeof labelsOf>): string =>
  labels.length === 0 ? 'labels: none' : `labels:\n${labels.map((l) => `  ${l.name} -> seq ${l.seq} (revision ${shortDigest(l.revision)})`).join('\n')}`;

const graphText = (g: RevisionGraph, commitsOnly: boolean, occurred?: readonly number[]): string => {
  const head = fields([
    ['session', g.sessionId],
    ['head', g.head],
    ['revisions', `${g.revisions.length} distinct, ${g.heads.length} head changes`],
    ['commits', String(g.commits.length)],
    ...(g.forkedFrom !== undefined ? [['fork of', `${g.forkedFrom.sessionId} at seq ${g.forkedFrom.seq} (${g.forkedFrom.mode}, record ${shortDigest(g.forkedFrom.hash)})`] as const] : []),
  ]);
  const commits = g.commits.length === 0 ? 'rewrite commits: none' : `rewrite commits:\n${g.commits.map((c) => commitText(c.seq, c.commit, '    ')).join('\n')}`;
  if (commitsOnly) return `${head}\n\n${commits}`;
  const heads =
    occurred === undefined
      ? table(
          ['seq', 'revision', 'by'],
          g.heads.map((h) => [String(h.seq), shortDigest(h.revision), h.commandType]),
          ['right'],
        )
      : table(
          ['seq', 'happened', 'revision', 'by'],
          g.heads.map((h) => [String(h.seq), occurred[h.seq - 1] !== undefined ? isoTime(occurred[h.seq - 1]!) : '-', shortDigest(h.revision), h.commandType]),
          ['right'],
        );
  return `${head}\n\n${commits}\n\nhead changes:\n${heads}`;
};

export const registerRevisions = (program: Command, run: Run): void => {
  program
    .command('revisions')
    .description("print a session's revision graph: head, rewrite commits (parent and new revision, span digests, reason) and every head change")
    .argument('<id>', ID_HELP)
    .option('--commits', 'print only the head and the rewrite commits, not every head change', false)
    .addHelpText(
      'after',
      helpAfter({
        prints:
          'The head revision, counts, the fork origin; each rewrite commit with the seq that\ncommitted it, its selection [start,end), parent and new revision, the digests of\nthe original span and of the replacement, messages before -> after, reason, actor\nand time (full sha256 digests); then every head change: seq, revision (12 hex\ndigits), command type that moved the head (for a pi import also when it happened, pi\'s\ntime); then the labels (name -> seq, revision).',
        json: '{ sessionId, head, revisions: [{ revision, seq }], heads: [{ revision, seq, commandType, occurredAt? }],\n  commits: [{ seq, commit: TranscriptRewriteCommit }], forkedFrom?, labels: [{ name, seq, revision }] }',
      }),
    )
    .action(async (id: string, opts: { commits: boolean }, cmd: Command) =>
      run(cmd, async (ctx) => {
        return withSession(ctx, id, async (store, r) => {
          const g = await store.revisions(r.sessionId);
          if (E.isLeft(g)) return g;
          const l = await store.load(r.sessionId);
          if (E.isLeft(l)) return l;
          const labels = labelsOf(l.right.metadata);
          const times = await originalTimes(store, r.sessionId, l.right.metadata);
          if (E.isLeft(times)) return times;
          const heads = g.right.heads.map((h) => (times.right?.[h.seq - 1] !== undefined ? { ...h, occurredAt: times.right[h.seq - 1] } : h));
          return done({ ...g.right, heads, labels }, `${graphText(g.right, opts.commits, times.right)}\n\n${labelsText(labels)}`);
        });
      }),
    );
};
