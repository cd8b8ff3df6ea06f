/** `palimpsest log <id>`: the records of a session, one line each. */
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import { done } from '../context.ts';
import { commandSummary, isoTime, logTable, plural } from '../format.ts';
import { helpAfter, ID_HELP, withSession, intArg } from '../shared.ts';
import type { Run } from '../program.ts';
import { incompleteImportWarning, originalTimes, warnText } from '../importStatus.ts';
import { labelsOf } from '../../store/labels.ts';
import { labelsText } from './revisions.ts';

export const registerLog = (program: Command, run: Run): void => {
  program
    .command('log')
    .description("print a session's log: every record with seq, time, command, revision and a one-line summary")
    .argument('<id>', ID_HELP)
    .option('--from <seq>', 'first record (default 1)', intArg('--from', 1))
    .option('--to <seq>', 'last record, inclusive (default the newest)', intArg('--to', 1))
    .option('--import-time', 'for a session imported from pi, show only when each record was written (not when its event happened)', false)
    .addHelpText(
      'after',
      helpAfter({
        prints:
          'One line per record: seq, time (ISO 8601 UTC), command type, the transcript revision\nthe record produced (12 hex digits), and a summary, e.g.\n  messages_appended     2 messages (user, assistant)\n  transcript_rewritten  [0,40) -> 1 message, reason compaction (…)\n  usage_recorded        +in 1200 / out 340 tokens\nA fork\'s log starts at its genesis (session_forked); its parent\'s records are not repeated.\nFor a session imported from pi, time is when the event happened (pi\'s entry time) and an\nimported column gives when the record was written; --import-time shows only the latter.\nThen the labels (name -> seq, revision).',
        json: '{ "sessionId", "warning"?, "labels": [{ name, seq, revision }], "records": [{ v, sessionId, seq, at (ms), command, revision, prev,\n  hash, time (ISO of at), occurredAt? (ms, the pi time), occurred? (ISO), summary }] }',
        notes: 'A --from/--to outside the log is SeqOutOfRange (exit 1). A session of a pi import that\nstopped before it finished is named on stderr (JSON: "warning").',
      }),
    )
    .action(async (id: string, opts: { from?: number; to?: number; importTime?: boolean }, cmd: Command) =>
      run(cmd, async (ctx) => {
        return withSession(ctx, id, async (store, s) => {
          const sid = s.sessionId;
          const l = await store.log(sid, { ...(opts.from !== undefined ? { fromSeq: opts.from } : {}), ...(opts.to !== undefined ? { toSeq: opts.to } : {}) });
          if (E.isLeft(l)) return l;
          const records = l.right;
          const head = await store.load(sid);
          if (E.isLeft(head)) return head;
          const warning = incompleteImportWarning(sid, head.right.metadata);
          warnText(ctx, warning);
          const labels = labelsOf(head.right.metadata);
          const times = await originalTimes(store, sid, head.right.metadata);
          if (E.isLeft(times)) return times;
          const occurred = times.right === undefined ? undefined : (seq: number): number | undefined => times.right?.[seq - 1];
          const json = {
            sessionId: sid,
            ...(warning !== undefined ? { warning } : {}),
            labels,
            records: records.map((r) => {
              const o = occurred?.(r.seq);
              return { ...r, time: isoTime(r.at), ...(o !== undefined ? { occurredAt: o, occurred: isoTime(o) } : {}), summary: commandSummary(r.command) };
            }),
          };
          const range = records.length === 0 ? '' : ` (seq ${records[0]!.seq}..${records[records.length - 1]!.seq} of ${s.lastSeq})`;
          return done(json, `${logTable(records, opts.importTime === true ? undefined : occurred)}\n\n${plural(records.length, 'record')} of ${sid}${range}\n${labelsText(labels)}`);
        });
      }),
    );
};
