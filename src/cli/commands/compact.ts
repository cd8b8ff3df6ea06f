/** `palimpsest compact <id>`: replace all but the last N messages with one summary message (a rewrite with reason `compaction`). */
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import type { Message, MessageInput } from '../../model/message.ts';
import { done, type Store } from '../context.ts';
import { usageError, type TaggedError } from '../errors.ts';
import { helpAfter, ID_HELP, withSession, intArg } from '../shared.ts';
import type { Run } from '../program.ts';
import { commitRewrite, rewriteJson, type RewriteDone } from './rewrite.ts';
import { commitText } from './revisions.ts';

/** Default number of trailing messages `compact` keeps. */
export const DEFAULT_KEEP_LAST = 20;

/** Nothing before the kept messages to compact. */
export interface NothingToCompact {
  readonly _tag: 'NothingToCompact';
  readonly sessionId: string;
  readonly messages: number;
  readonly keepLast: number;
  readonly message: string;
}

/**
 * The span a compaction replaces: `[start, cut)` where `start` skips a leading
 * system message and `cut = length - keepLast`, moved back while it would
 * separate a tool_results message from the call it answers. `undefined` when
 * the span is empty.
 */
export const compactionSpan = (messages: readonly Message[], keepLast: number): { start: number; end: number } | undefined => {
  const start = messages[0]?.role === 'system' ? 1 : 0;
  let cut = Math.max(start, messages.length - keepLast);
  while (cut > start && messages[cut]?.role === 'tool_results') cut--;
  return cut > start ? { start, end: cut } : undefined;
};

/** The summary message of a compaction: a user message with `transcriptRole: 'compaction_summary'`. */
export const summaryMessage = (text: string): MessageInput => ({ role: 'user', content: [{ type: 'text', text }], transcriptRole: 'compaction_summary' });

/** Options of `compactSession`. */
export interface CompactOptions {
  readonly keepLast: number;
  readonly summary: string;
  readonly note?: string;
  readonly actor?: string;
  readonly expectedSeq?: number;
}

/** Compacts `sid`: one validated rewrite, reason `compaction`. `NothingToCompact` when nothing precedes the kept messages. */
export const compactSession = async (store: Store, sid: string, o: CompactOptions): Promise<E.Either<TaggedError, RewriteDone>> => {
  const l = await store.load(sid);
  if (E.isLeft(l)) return l;
  const messages = l.right.messages;
  const span = compactionSpan(messages, o.keepLast);
  if (span === undefined) {
    return E.left({
      _tag: 'NothingToCompact',
      sessionId: sid,
      messages: messages.length,
      keepLast: o.keepLast,
      message: `session ${sid} has ${messages.length} messages: nothing before the last ${o.keepLast} to compact`,
    } satisfies NothingToCompact);
  }
  const kept = messages.length - span.end;
  return commitRewrite(store, sid, {
    ...span,
    replacement: [summaryMessage(o.summary)],
    reason: { kind: 'compaction', note: o.note ?? `summarized messages [${span.start},${span.end}), kept the last ${kept}` },
    ...(o.actor !== undefined ? { actor: o.actor } : {}),
    expectedSeq: o.expectedSeq ?? l.right.seq,
  });
};

export const registerCompact = (program: Command, run: Run): void => {
  program
    .command('compact')
    .description('compact a session: replace everything but the last N messages with one summary message (a validated rewrite, reason compaction)')
    .argument('<id>', ID_HELP)
    .requiredOption('--summary <text>', 'the summary text (becomes a user message with transcriptRole compaction_summary)')
    .option('--keep-last <n>', 'messages kept at the end (the cut moves back so a tool call keeps its results)', intArg('--keep-last'), DEFAULT_KEEP_LAST)
    .option('--note <note>', 'reason note (default: which span was summarized)')
    .option('--actor <name>', 'who compacted (recorded in the commit)')
    .option('--expect-seq <seq>', 'refuse (SeqConflict, exit 1) unless the newest record is <seq>', intArg('--expect-seq'))
    .addHelpText(
      'after',
      helpAfter({
        prints:
          'The commit, as `rewrite` prints it: seq, selection [start,end), parent and new\nrevision, original-span and replacement digests, messages before -> after. A\nleading system message is kept.',
        json: '{ sessionId, seq, commit: TranscriptRewriteCommit, messages, revision }',
        notes: 'NothingToCompact (exit 1) when the session has no more than --keep-last messages.',
      }),
    )
    .action(async (id: string, opts: { summary: string; keepLast: number; note?: string; actor?: string; expectSeq?: number }, cmd: Command) =>
      run(cmd, async (ctx) => {
        if (opts.summary.trim() === '') return E.left(usageError('--summary must not be empty'));
        return withSession(ctx, id, async (store, r) => {
          const sid = r.sessionId;
          const d = await compactSession(store, sid, {
            keepLast: opts.keepLast,
            summary: opts.summary,
            ...(opts.note !== undefined ? { note: opts.note } : {}),
            ...(opts.actor !== undefined ? { actor: opts.actor } : {}),
            ...(opts.expectSeq !== undefined ? { expectedSeq: opts.expectSeq } : {}),
          });
          if (E.isLeft(d)) return d;
          return done(rewriteJson(sid, d.right), `compacted ${sid}\n${commitText(d.right.seq, d.right.commit)}`);
        });
      }),
    );
};
