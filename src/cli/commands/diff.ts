/** `palimpsest diff <id> <a> <b>`: the message-level diff of the transcripts a session had at two points (and, with --text, the line diffs). */
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import type { Message } from '../../model/message.ts';
import { comparePoints, type Comparison, type PointInfo } from '../../inspect/compare.ts';
import type { DiffHunk } from '../../inspect/diff.ts';
import { parsePoint, type Point } from '../../inspect/points.ts';
import { patchText } from '../../inspect/textDiff.ts';
import { done } from '../context.ts';
import { usageError, type TaggedError } from '../errors.ts';
import { messageSummary, roleLabel, shortDigest } from '../format.ts';
import { helpAfter, ID_HELP, withSession } from '../shared.ts';
import type { Run } from '../program.ts';

const pointText = (p: Point): string => {
  switch (p.kind) {
    case 'head':
      return 'head';
    case 'seq':
      return `seq ${p.seq}`;
    case 'revision':
      return `revision ${shortDigest(p.revision)}`;
    case 'label':
      return `label ${JSON.stringify(p.label)}`;
  }
};

const sideText = (name: string, s: PointInfo): string =>
  `${name}: ${pointText(s.point)} -> ${s.sessionId !== undefined ? `${s.sessionId} ` : ''}record ${s.seq} (${shortDigest(s.recordHash)}), revision ${s.revision}, ${s.messages} messages`;

const spanText = (s: { start: number; end: number }): string => `[${s.start},${s.end})`;

/** One line per hunk: kind, the old and new spans, message counts. */
const hunkLine = (h: DiffHunk): string[] => {
  switch (h.kind) {
    case 'kept':
      return ['kept', `a${spanText(h.a)}`, `b${spanText(h.b)}`, `${h.digests.length} messages`];
    case 'removed':
      return ['removed', `a${spanText(h.a)}`, `b@${h.b.start}`, `${h.removed.length} messages`];
    case 'added':
      return ['added', `a@${h.a.start}`, `b${spanText(h.b)}`, `${h.added.length} messages`];
    case 'replaced':
      return ['replaced', `a${spanText(h.a)}`, `b${spanText(h.b)}`, `${h.removed.length} -> ${h.added.length} messages`];
  }
};

/** The changed messages of a hunk, one line each: `-`/`+`, side and index, digest, role, summary. */
const changedLines = (h: DiffHunk, a: readonly Message[], b: readonly Message[]): string[] => {
  if (h.kind === 'kept') return [];
  const lines: string[] = [];
  const side = (sign: string, name: string, msgs: readonly Message[], start: number, digests: readonly string[]): void => {
    digests.forEach((d, k) => {
      const m = msgs[start + k]!;
      lines.push(`  ${sign} ${name}#${start + k}  ${shortDigest(d)}  ${roleLabel(m)}  ${messageSummary(m, 80)}`);
    });
  };
  if (h.kind === 'removed' || h.kind === 'replaced') side('-', 'a', a, h.a.start, h.removed);
  if (h.kind === 'added' || h.kind === 'replaced') side('+', 'b', b, h.b.start, h.added);
  return lines;
};

/** The human output of `diff`. */
export const comparisonText = (c: Comparison, a: readonly Message[], b: readonly Message[]): string => {
  const n = c.diff.counts;
  const head = [
    `session ${c.sessionId}`,
    sideText('a', c.a),
    sideText('b', c.b),
    `kept ${n.kept}, removed ${n.removed}, added ${n.added}, replaced ${n.replaced} -> ${n.replacements}${c.diff.coarse ? ' (middle too different for a message-level match: shown as one replaced span)' : ''}`,
  ].join('\n');
  if (c.diff.hunks.length === 0) return `${head}\n\n(both transcripts are empty)`;
  const hunks = c.diff.hunks.map((h) => {
    const [kind, sa, sb, count] = hunkLine(h);
    return [`${kind!.padEnd(9)} ${sa!.padEnd(16)} ${sb!.padEnd(16)} ${count}`, ...changedLines(h, a, b)].join('\n');
  });
  const texts = (c.texts ?? []).map((t) => patchText(t, `hunk ${t.hunk} (${t.kind})`).trimEnd());
  return [head, '', 'hunks:', ...hunks, ...(texts.length > 0 ? ['', ...texts] : [])].join('\n');
};

/** Parses a point argument; an invalid one is a usage error (exit 2). */
const pointArg = (value: string, which: string): E.Either<TaggedError, Point> =>
  E.mapLeft((e: { message: string }) => usageError(`<${which}>: ${e.message}`))(parsePoint(value));

export const registerDiff = (program: Command, run: Run): void => {
  program
    .command('diff')
    .description('print the message-level diff of the transcripts a session had at two points <a> and <b> (kept, removed, replaced, added, with indexes and digests)')
    .argument('<id>', ID_HELP)
    .argument('<a>', 'the old point: head, a record seq, a revision (sha256:<hex> or a unique prefix of 4+ hex digits) or a label (label:<name>, or <name> when it is not hex)')
    .argument('<b>', 'the new point (same forms as <a>)')
    .option('--text', 'also print a unified line diff of the texts of the changed messages', false)
    .addHelpText(
      'after',
      helpAfter({
        prints:
          'Both points (record seq and hash, revision, message count), the counts (kept,\nremoved, added, replaced -> replacements), then one line per hunk (kind, span in a,\nspan in b, messages) followed by each changed message: -/+, side#index, digest\n(12 hex digits), role, summary. With --text, a unified diff (3 lines of context)\nof the texts of each changed hunk; each message is a "#<index> <role>" line then its text.',
        json:
          '{ sessionId, a: { point, sessionId? (an ancestor\'s record), seq, recordHash, revision, messages }, b: {…},\n  diff: { aCount, bCount, counts: { kept, removed, added, replaced, replacements }, coarse,\n    hunks: [{ kind: "kept", a: {start,end}, b: {start,end}, digests } |\n            { kind: "removed"|"added"|"replaced", a, b, removed?, added? }] },\n  texts?: [{ hunk, kind, patch: [{ oldStart, oldLines, newStart, newLines, lines }] }] }',
        notes:
          'Messages are compared by digest (the bytes they add to the revision). A point that is not\nhead, a seq, a revision or a label is a usage error (exit 2); SeqOutOfRange,\nRevisionNotFound, AmbiguousRevision, LabelNotFound are exit 1. A label (set by\n`palimpsest label` or a pi import) is checked against the log first: one whose recorded\nrevision differs from the log at its seq is LabelMismatch (exit 1). A label a fork inherited\nnames its parent\'s record; that side then names the parent session.',
      }),
    )
    .action(async (id: string, a: string, b: string, opts: { text: boolean }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const pa = pointArg(a, 'a');
        if (E.isLeft(pa)) return pa;
        const pb = pointArg(b, 'b');
        if (E.isLeft(pb)) return pb;
        return withSession(ctx, id, async (store, r) => {
          const c = await comparePoints(store, r.sessionId, pa.right, pb.right, { text: opts.text });
          if (E.isLeft(c)) return c;
          const { comparison, aMessages, bMessages } = c.right;
          return done(comparison, comparisonText(comparison, aMessages, bMessages));
        });
      }),
    );
};
