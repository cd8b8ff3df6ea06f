/** `palimpsest rewrite <id>`: a validated rewrite of a message range (revisions.md §3), recorded as a commit. */
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { Option, type Command } from 'commander';
import type { Message, MessageInput } from '../../model/message.ts';
import type { TranscriptRewriteCommit } from '../../transcript/index.ts';
import type { Session } from '../../session/session.ts';
import { done, type Store } from '../context.ts';
import { fileError, usageError, type TaggedError } from '../errors.ts';
import { helpAfter, ID_HELP, withSession, intArg, collect } from '../shared.ts';
import type { Run } from '../program.ts';
import { commitText } from './revisions.ts';

/** What `commitRewrite` needs. `expectedSeq` defaults to the session's newest seq when loaded. */
export interface RewriteRequest {
  readonly start: number;
  readonly end: number;
  readonly replacement: readonly MessageInput[];
  readonly reason: { readonly kind: string; readonly note?: string };
  readonly actor?: string;
  readonly expectedSeq?: number;
}

/** A committed rewrite: the record's seq, the commit, the session after it. */
export interface RewriteDone {
  readonly seq: number;
  readonly commit: TranscriptRewriteCommit;
  readonly session: Session;
}

/**
 * Appends one `transcript_rewritten` command to `sid` with `expectedSeq` (the
 * given one, or the seq just loaded) and `expectedParentRevision` = the loaded
 * head, so a concurrent writer makes it fail (`SeqConflict`) instead of
 * rewriting a transcript the caller did not see. Replacement messages without
 * `createdAt` get the current time.
 */
export const commitRewrite = async (store: Store, sid: string, req: RewriteRequest, now: () => number = Date.now): Promise<E.Either<TaggedError, RewriteDone>> => {
  const { stampMessage } = await import('../../model/message.ts');
  const l = await store.load(sid);
  if (E.isLeft(l)) return l;
  const before = l.right;
  const at = now();
  const command = {
    type: 'transcript_rewritten',
    selection: { type: 'message_range', start: req.start, end: req.end },
    replacement: req.replacement.map((m): Message => stampMessage(m, at)),
    reason: req.reason,
    ...(req.actor !== undefined ? { actor: req.actor } : {}),
    expectedParentRevision: before.transcriptRevision(),
  };
  const r = await store.append(sid, [command], { expectedSeq: req.expectedSeq ?? before.seq });
  if (E.isLeft(r)) return r;
  const record = r.right.records[0];
  const commit = r.right.session.transcriptHistory()?.commits.at(-1);
  if (record === undefined || commit === undefined) throw new Error('a rewrite was accepted but recorded no commit');
  return E.right({ seq: record.seq, commit, session: r.right.session });
};

/** JSON of a committed rewrite. */
export const rewriteJson = (sid: string, d: RewriteDone): Record<string, unknown> => ({
  sessionId: sid,
  seq: d.seq,
  commit: d.commit,
  messages: d.session.messageCount,
  revision: d.session.transcriptRevision(),
});

/** Parses one `--message-json` value (a message or an array of them; `@file` reads the file). */
export const parseMessagesJson = async (value: string): Promise<E.Either<TaggedError, MessageInput[]>> => {
  const { decodeMessageInput } = await import('../../model/message.ts');
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8');
    } catch (e) {
      return E.left(fileError(value.slice(1), e));
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return E.left(usageError(`--message-json is not JSON: ${(e as Error).message}`));
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  const out: MessageInput[] = [];
  for (const [i, m] of items.entries()) {
    const d = decodeMessageInput(m);
    if (E.isLeft(d)) return E.left(usageError(`--message-json${Array.isArray(parsed) ? `[${i}]` : ''} is not a valid message: ${d.left.message}`));
    out.push(d.right);
  }
  return E.right(out);
};

/** A conversational user message with one text block. */
export const userText = (text: string): MessageInput => ({ role: 'user', content: [{ type: 'text', text }], transcriptRole: 'conversational' });

interface RewriteOpts {
  start: number;
  end: number;
  messageJson?: string[];
  text?: string[];
  reason: string;
  note?: string;
  actor?: string;
  expectSeq?: number;
}

export const registerRewrite = (program: Command, run: Run): void => {
  program
    .command('rewrite')
    .description('replace messages [start, end) with new ones as a validated rewrite commit (the old revision stays readable)')
    .argument('<id>', ID_HELP)
    .requiredOption('--start <n>', 'first message index replaced', intArg('--start'))
    .requiredOption('--end <n>', 'end of the range (exclusive); --start = --end inserts', intArg('--end'))
    .addOption(new Option('--message-json <json>', 'a replacement message or JSON array of them (repeatable; @file reads a file; [] deletes the range)').argParser(collect))
    .addOption(new Option('--text <text>', 'a replacement user message with this text (repeatable)').argParser(collect).conflicts('messageJson'))
    .option('--reason <kind>', 'reason kind recorded in the commit', 'edit')
    .option('--note <note>', 'reason note recorded in the commit')
    .option('--actor <name>', 'who made the rewrite (recorded in the commit)')
    .option('--expect-seq <seq>', 'refuse (SeqConflict, exit 1) unless the newest record is <seq>', intArg('--expect-seq'))
    .addHelpText(
      'after',
      helpAfter({
        prints:
          'The commit: the seq of the record, the selection, parent and new revision, the\ndigests of the original span and of the replacement, messages before -> after,\nreason and actor (full sha256 digests). The result must pass the transcript shape\nrules (tool calls answered by the next tool_results message).',
        json: '{ sessionId, seq, commit: TranscriptRewriteCommit, messages, revision }',
        notes:
          'Refusals (exit 1): InvalidRewriteRange, InvalidTranscriptShape, NoOpRewrite (the result equals\nthe current transcript), SeqConflict, SessionArchived. Exactly one of --message-json / --text\nis required; an invalid message is a usage error (exit 2).\nExample: palimpsest rewrite pi:abc --start 3 --end 5 --text "shorter question" --reason redaction --actor alice',
      }),
    )
    .action(async (id: string, opts: RewriteOpts, cmd: Command) =>
      run(cmd, async (ctx) => {
        if (opts.messageJson === undefined && opts.text === undefined) return E.left(usageError('give the replacement with --message-json <json> or --text <text>'));
        if (opts.end < opts.start) return E.left(usageError(`--end (${opts.end}) must be >= --start (${opts.start})`));
        const replacement: MessageInput[] = [];
        for (const j of opts.messageJson ?? []) {
          const m = await parseMessagesJson(j);
          if (E.isLeft(m)) return m;
          replacement.push(...m.right);
        }
        for (const t of opts.text ?? []) replacement.push(userText(t));
        return withSession(ctx, id, async (store, r) => {
          const sid = r.sessionId;
          const d = await commitRewrite(store, sid, {
            start: opts.start,
            end: opts.end,
            replacement,
            reason: { kind: opts.reason, ...(opts.note !== undefined ? { note: opts.note } : {}) },
            ...(opts.actor !== undefined ? { actor: opts.actor } : {}),
            ...(opts.expectSeq !== undefined ? { expectedSeq: opts.expectSeq } : {}),
          });
          if (E.isLeft(d)) return d;
          return done(rewriteJson(sid, d.right), `rewrote ${sid}\n${commitText(d.right.seq, d.right.commit)}`);
        });
      }),
    );
};
