/** `palimpsest show <id>`: a session's state (at its newest record, or at an earlier seq or revision) and its transcript. */
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import type { Message } from '../../model/message.ts';
import type { Session } from '../../session/session.ts';
import { done, type Store } from '../context.ts';
import { usageError, type TaggedError } from '../errors.ts';
import { countList, fields, isoTime, jsonBrief, messageSummary, plural, readable, roleLabel, shortDigest, table, usageText } from '../format.ts';
import { helpAfter, ID_HELP, withSession, intArg } from '../shared.ts';
import type { Run } from '../program.ts';
import { resolveRevision } from '../../inspect/points.ts';
import { resolveLabel } from '../../store/labels.ts';
import { machineList } from '../../machines/registry.ts';
import { incompleteImportWarningOf, originalTimes, warnText } from '../importStatus.ts';

/** What `--at` names: a record seq, a revision (full, or a unique hex prefix of at least 4 digits), or a label. */
export type AtSpec = { readonly seq: number } | { readonly revision: string } | { readonly label: string };

/** Parses `--at`: `label:<name>` a label; digits a seq; `sha256:<hex>` or 4+ hex digits a revision (prefix). Else `UsageError`. */
export const parseAt = (value: string): E.Either<TaggedError, AtSpec> => {
  if (value.startsWith('label:')) return E.right({ label: value.slice('label:'.length) });
  const v = value.trim();
  const bad = (): E.Either<TaggedError, AtSpec> =>
    E.left(usageError(`--at must be a seq (an integer >= 1), a revision (sha256:<hex> or at least 4 hex digits) or label:<name>, got ${JSON.stringify(value)}`));
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) && n >= 1 ? E.right({ seq: n }) : bad();
  }
  if (/^(sha256:)?[0-9a-f]{4,64}$/.test(v)) return E.right({ revision: v.startsWith('sha256:') ? v : `sha256:${v}` });
  return bad();
};

/** A `--range A..B`: messages with index `start` ≤ i < `end` (either bound may be left out: `A..`, `..B`). */
export interface MessageRange {
  readonly start: number;
  readonly end?: number;
}

/** Parses `--range A..B` (non-negative integers, A ≤ B; half-open, like a rewrite selection). Else `UsageError`. */
export const parseRange = (value: string): E.Either<TaggedError, MessageRange> => {
  const m = /^\s*(\d*)\.\.(\d*)\s*$/.exec(value);
  const start = m?.[1] === undefined || m[1] === '' ? 0 : Number(m[1]);
  const end = m?.[2] === undefined || m[2] === '' ? undefined : Number(m[2]);
  if (m === null || !Number.isSafeInteger(start) || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    return E.left(usageError(`--range must be A..B with message indexes 0 <= A <= B (either may be left out), got ${JSON.stringify(value)}`));
  }
  return E.right(end === undefined ? { start } : { start, end });
};

/**
 * One message in full (`--message N`): index, time and role, then every block
 * with nothing cut: texts verbatim, tool arguments, structured data and other
 * fields as indented JSON.
 */
export const fullMessageText = (m: Message, index: number): string => {
  const head = `message ${index}  ${isoTime(m.createdAt)}  ${roleLabel(m)}`;
  const json = (v: unknown): string => indentLines(JSON.stringify(v, null, 2), '    ');
  const block = (b: { readonly type: string } & Record<string, unknown>): string => {
    const { type, ...rest } = b;
    if (typeof rest.text === 'string' && Object.keys(rest).every((k) => k === 'text' || k === 'signature')) return `  [${type}]\n${indentLines(rest.text, '    ')}`;
    return `  [${type}]\n${json(rest)}`;
  };
  switch (m.role) {
    case 'system':
      return `${head}\n${indentLines(m.text, '  ')}`;
    case 'system_notice':
      return `${head} (${m.kind})\n${indentLines(m.text, '  ')}${m.data !== undefined ? `\n  data:\n${json(m.data)}` : ''}`;
    case 'user':
      return `${head} (${m.transcriptRole})\n${m.content.map((b) => block(b as never)).join('\n')}`;
    case 'assistant': {
      const { role: _r, content, createdAt: _c, ...rest } = m;
      return `${head}\n${content.map((b) => block(b as never)).join('\n')}\n  fields:\n${json(rest)}`;
    }
    case 'tool_results':
      return `${head}\n${m.results.map((r) => { const { content, ...rest } = r; return `  [tool_result]\n${json(rest)}\n${content.map((b) => block(b as never)).join('\n')}`; }).join('\n')}`;
  }
};

const indentLines = (text: string, pad: string): string =>
  text
    .split('\n')
    .map((l) => `${pad}${l}`)
    .join('\n');

/** The full revision a (possibly abbreviated) revision names among the session's revisions (one rule with `palimpsest diff`). */
export { resolveRevision };

/** Loads `sid` at `--at` (or its newest record). */
export const loadAt = async (store: Store, sid: string, at: string | undefined): Promise<E.Either<TaggedError, Session>> => {
  if (at === undefined) return store.load(sid);
  const spec = parseAt(at);
  if (E.isLeft(spec)) return spec;
  if ('seq' in spec.right) return store.load(sid, { atSeq: spec.right.seq });
  if ('label' in spec.right) {
    const t = await resolveLabel(store, sid, spec.right.label);
    return E.isLeft(t) ? t : store.load(t.right.sessionId, { atSeq: t.right.seq });
  }
  const rev = await resolveRevision(store, sid, spec.right.revision);
  if (E.isLeft(rev)) return rev;
  return store.load(sid, { atRevision: rev.right });
};

/** The machine states (every registered machine, lifecycle first, then registry order) and transcript history of a session, as a JSON-ready object. */
export const machineStates = (s: Session): Record<string, unknown> => ({
  lifecycle: s.lifecycle,
  ...Object.fromEntries(machineList.map((m) => [m.name, s.state[m.name]])),
  transcriptHistory: s.transcriptHistory() ?? null,
});

/** The header block of `show`: identity, times, head, revision, counts, usage, fork origin. */
export const sessionFields = (s: Session, messages: readonly Message[]): string => {
  const f = s.state.forkedFrom;
  const history = s.transcriptHistory();
  return fields([
    ['session', s.id],
    ['created', isoTime(s.createdAt)],
    ['updated', isoTime(s.updatedAt)],
    ['seq', `${s.seq} (record hash ${shortDigest(s.head)})`],
    ['revision', s.transcriptRevision()],
    ['messages', `${messages.length}${messages.length > 0 ? ` (${countList(messages.map(roleLabel), 8)})` : ''}`],
    ['rewrites', history === undefined ? '0' : `${history.commits.length} (${plural(history.revisions.length, 'revision')} since genesis)`],
    ['usage', usageText(s.usage)],
    ['status', s.lifecycle.status],
    ...(f !== undefined ? [['fork of', `${f.from.sessionId} at seq ${f.from.seq} (${f.mode})`] as const] : []),
  ]);
};

const metadataText = (m: Readonly<Record<string, unknown>>): string => {
  const entries = Object.entries(m);
  if (entries.length === 0) return 'metadata: none';
  return ['metadata:', ...entries.map(([k, v]) => `  ${k}: ${jsonBrief(v, 100)}`)].join('\n');
};

const stateText = (s: Session): string =>
  Object.entries(machineStates(s))
    .map(([name, v]) => `${name}:\n${v === null ? '  (none)' : readable(v, '  ', 1)}`)
    .join('\n');

export const registerShow = (program: Command, run: Run): void => {
  program
    .command('show')
    .description('print a session: identity, head, counts, usage, metadata and its transcript (now, or at an earlier seq or revision)')
    .argument('<id>', ID_HELP)
    .option('--at <seq|revision|label:name>', 'show the session after record <seq>, when <revision> (sha256:<hex> or a unique prefix of 4+ hex digits) first became its head, or at the record label <name> points at')
    .option('--state', `also print each machine's state (${machineList.map((m) => m.name).join(', ')}) and the transcript history`, false)
    .option('--tail <n>', 'print only the last <n> messages of the transcript', intArg('--tail'))
    .option('--range <A..B>', 'print only messages A to B-1 of the transcript (A.. to the end, ..B from the start)')
    .option('--message <index>', 'print message <index> in full (every block, nothing cut) after the header', intArg('--message'))
    .addHelpText(
      'after',
      helpAfter({
        prints:
          'session, created/updated (ISO time), seq and record hash, revision, message count\nby role, rewrite commits, cumulative usage (tokens), status, fork origin; the user\nmetadata; with --state every machine state as indented key: value lines; then\nthe transcript, one line per message: index, time, role, summary.',
        json: '{ sessionId, seq, head, revision, createdAt, updatedAt (ms), happened?: { from, to } (ms, pi times of an import), messageCount, metadata,\n  usage, status, forkedFrom?, messages: [Message], state?: { lifecycle, deferredTurn,\n  systemContext, toolVisibility, realtime, transcriptHistory } }',
        notes: 'At most one of --tail, --range, --message. A --message past the end is MessageNotFound (exit 1).\nAn --at that is out of range is SeqOutOfRange / RevisionNotFound / LabelNotFound (exit 1); an --at that is\nneither a number nor hex is a usage error (exit 2). A session of a pi import that stopped\nbefore it finished says so first (and on stderr; JSON: incompleteImport, warning).',
      }),
    )
    .action(async (id: string, opts: { at?: string; state: boolean; tail?: number; range?: string; message?: number }, cmd: Command) =>
      run(cmd, async (ctx) => {
        if (opts.at !== undefined) {
          const p = parseAt(opts.at);
          if (E.isLeft(p)) return p;
        }
        if ([opts.tail, opts.range, opts.message].filter((o) => o !== undefined).length > 1) return E.left(usageError('give at most one of --tail, --range and --message'));
        const range = opts.range === undefined ? undefined : parseRange(opts.range);
        if (range !== undefined && E.isLeft(range)) return range;
        return withSession(ctx, id, async (store, r) => {
          const l = await loadAt(store, r.sessionId, opts.at);
          if (E.isLeft(l)) return l;
          const s = l.right;
          const w = await incompleteImportWarningOf(store, s.id);
          if (E.isLeft(w)) return w;
          warnText(ctx, w.right);
          const times = await originalTimes(store, s.id, s.metadata);
          if (E.isLeft(times)) return times;
          const happened = times.right === undefined ? undefined : { from: times.right[0]!, to: times.right[Math.min(s.seq, times.right.length) - 1]! };
          const read = s.readMessages();
          if (E.isLeft(read)) return read;
          const all = read.right;
          if (opts.message !== undefined && opts.message >= all.length) {
            return E.left({ _tag: 'MessageNotFound', sessionId: s.id, index: opts.message, message: `session ${s.id} has ${plural(all.length, 'message')}: no message ${opts.message}` } as TaggedError);
          }
          const window =
            opts.message !== undefined
              ? { start: opts.message, end: opts.message + 1 }
              : range !== undefined && E.isRight(range)
                ? { start: Math.min(range.right.start, all.length), end: Math.min(range.right.end ?? all.length, all.length) }
                : { start: opts.tail === undefined ? 0 : Math.max(0, all.length - opts.tail), end: all.length };
          const from = window.start;
          const shown = all.slice(window.start, window.end);
          const json = {
            sessionId: s.id,
            seq: s.seq,
            head: s.head,
            revision: s.transcriptRevision(),
            createdAt: s.createdAt,
            updatedAt: s.updatedAt,
            messageCount: all.length,
            metadata: s.metadata,
            usage: s.usage,
            status: s.lifecycle.status,
            ...(w.right !== undefined ? { incompleteImport: true, warning: w.right } : {}),
            ...(happened !== undefined ? { happened } : {}),
            ...(s.state.forkedFrom !== undefined ? { forkedFrom: { ...s.state.forkedFrom.from, mode: s.state.forkedFrom.mode } } : {}),
            ...(from > 0 || window.end < all.length ? { messagesFrom: from } : {}),
            messages: shown,
            ...(opts.state ? { state: machineStates(s) } : {}),
          };
          const transcript =
            shown.length === 0
              ? 'transcript: (no messages shown)'
              : opts.message !== undefined
                ? fullMessageText(shown[0]!, from)
                : `transcript${opts.tail !== undefined && from > 0 ? ` (last ${shown.length} of ${all.length})` : from > 0 || window.end < all.length ? ` (messages ${from}..${window.end} of ${all.length})` : ''}:\n${table(
                  ['#', 'time', 'role', 'summary'],
                  shown.map((m, i) => [String(from + i), isoTime(m.createdAt), roleLabel(m), messageSummary(m)]),
                  ['right'],
                )}`;
          const when = happened === undefined ? [] : [`happened:  ${isoTime(happened.from)} .. ${isoTime(happened.to)} (pi's times; created/updated above are when the records were written)`];
          const parts = [...(w.right !== undefined ? [w.right] : []), [sessionFields(s, all), ...when].join('\n'), metadataText(s.metadata), ...(opts.state ? [stateText(s)] : []), transcript];
          return done(json, parts.join('\n\n'));
        });
      }),
    );
};
