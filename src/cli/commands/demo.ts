/**
 * `palimpsest demo` (`npm start`): the guided tour on real data.
 *
 * 1. resets the demo's store (see `resetDemoStore`);
 * 2. imports the pi session bundled with the package (`data/pi-large-session.jsonl`,
 *    resolved against the package root, not the working directory);
 * 3. compacts the imported session with a validated rewrite (reason
 *    `compaction`, a `compaction_summary` user message replacing all but the
 *    last N messages);
 * 4. forks the compacted session at a message index (copy-on-write: one
 *    record) and appends one message to the child, then checks the parent is
 *    unchanged (isolation);
 * 5. verifies every session of the store;
 * 6. prints a report: sessions, records, revisions, the rewrite commit with its
 *    digests, the fork with its lineage, the verify verdict, timings in ms.
 *
 * Exit 1 when verify (or the isolation check) finds a problem.
 */
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import type { Message } from '../../model/message.ts';
import type { SessionSummary } from '../../store/index.ts';
import { EXIT } from '../exit.ts';
import { done, withStore, type Ctx, type Store } from '../context.ts';
import type { DemoStoreRefused, TaggedError } from '../errors.ts';
import { bytes, countList, fields, ms, plural, shortDigest } from '../format.ts';
import { helpAfter, intArg } from '../shared.ts';
import type { Run } from '../program.ts';
import { importText, importWithProgress } from './import.ts';
import { compactionSpan, compactSession } from './compact.ts';
import { commitText } from './revisions.ts';
import { lineageText } from './lineage.ts';
import { verifyText, verifyWithProgress, problemLines } from './verify.ts';

/** The package root (two levels above `src/cli/commands`). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The bundled pi session the demo imports, relative to the package root. */
export const DEMO_FILE_NAME = 'data/pi-large-session.jsonl';
/** Its absolute path. */
export const DEMO_FILE = nodePath.join(PACKAGE_ROOT, DEMO_FILE_NAME);
/** Messages the demo's compaction keeps. */
export const DEMO_KEEP_LAST = 40;
/** Suffix of the demo fork's id (appended to the imported session's id). */
export const DEMO_FORK_SUFFIX = '~fork';

/** File names LevelDB writes in its directory. */
const LEVELDB_FILE = /^(CURRENT|LOCK|LOG|LOG\.old|MANIFEST-\d+|\d+\.(log|ldb|sst|dbtmp))$/;

/** The id of the session the demo imports: `pi:` + the id in the bundled file's header. */
export const demoSessionId = async (file: string = DEMO_FILE): Promise<string> => {
  const { PI_ID_PREFIX, piSessionId } = await import('../../adapters/pi/store.ts');
  const first = readFileSync(file, 'utf8').split('\n', 1)[0] ?? '';
  const id = (JSON.parse(first) as { id?: unknown }).id;
  if (typeof id !== 'string') throw new Error(`${file}: the header has no id`);
  return piSessionId(id, PI_ID_PREFIX);
};

const refuse = (path: string, reason: string): DemoStoreRefused => ({
  _tag: 'DemoStoreRefused',
  path,
  reason,
  message: `the demo will not reset ${path}: ${reason}. Point it at another directory with --store DIR.`,
});

/**
 * Makes `path` ready for a fresh demo run. A missing or empty directory is
 * used as is. Otherwise the directory must look like a palimpsest store (only
 * LevelDB's files, and it opens as one) whose sessions all belong to the demo
 * (the imported session, its branches, and forks of those, at any depth);
 * then it is deleted. Anything else is refused (`DemoStoreRefused`), and a
 * store in use is `StoreLocked`: the demo never deletes data it did not make.
 * Returns how many sessions were removed.
 */
export const resetDemoStore = async (path: string, demoId: string): Promise<E.Either<TaggedError, { readonly removed: number }>> => {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) return E.right({ removed: 0 });
  if (!st.isDirectory()) return E.left(refuse(path, 'it is not a directory'));
  const names = readdirSync(path);
  if (names.length === 0) return E.right({ removed: 0 });
  const foreignFiles = names.filter((n) => !LEVELDB_FILE.test(n));
  if (foreignFiles.length > 0 || !names.includes('CURRENT')) {
    return E.left(refuse(path, `it does not look like a palimpsest store (${foreignFiles.length > 0 ? `it holds ${countList(foreignFiles.slice(0, 5))}` : 'no LevelDB CURRENT file'})`));
  }
  const { SessionStore } = await import('../../store/index.ts');
  const opened = await SessionStore.open(path);
  if (E.isLeft(opened)) {
    const e = opened.left;
    return E.left(e._tag === 'StoreIoError' || e._tag === 'UnsupportedVersion' ? refuse(path, e.message) : e);
  }
  const store = opened.right;
  let sessions: SessionSummary[];
  try {
    const l = await store.list();
    if (E.isLeft(l)) return E.left(refuse(path, `its sessions cannot be listed (${l.left.message})`));
    sessions = l.right;
  } finally {
    await store.close();
  }
  const byId = new Map(sessions.map((s) => [s.sessionId, s] as const));
  const owned = (s: SessionSummary, seen: Set<string> = new Set()): boolean => {
    if (s.sessionId === demoId || s.sessionId.startsWith(`${demoId}#`) || s.sessionId.startsWith(`${demoId}${DEMO_FORK_SUFFIX}`)) return true;
    if (s.parent === undefined || seen.has(s.sessionId)) return false;
    const p = byId.get(s.parent.sessionId);
    return p !== undefined && owned(p, new Set([...seen, s.sessionId]));
  };
  const foreign = sessions.filter((s) => !owned(s)).map((s) => s.sessionId);
  if (foreign.length > 0) {
    return E.left(refuse(path, `it holds ${plural(foreign.length, 'session')} the demo did not create (${countList(foreign.slice(0, 3))}${foreign.length > 3 ? ', …' : ''})`));
  }
  rmSync(path, { recursive: true, force: true });
  return E.right({ removed: sessions.length });
};

/** A deterministic summary of `messages` (what the demo's compaction writes). */
export const describeSpan = (messages: readonly Message[], start: number, end: number): string => {
  const span = messages.slice(start, end);
  const users = span.filter((m) => m.role === 'user').length;
  const assistants = span.filter((m) => m.role === 'assistant');
  const tools = assistants.flatMap((m) => (m.role === 'assistant' ? m.content.filter((b) => b.type === 'tool_use').map((b) => (b.type === 'tool_use' ? b.name : '')) : []));
  const counts = new Map<string, number>();
  for (const t of tools) counts.set(t, (counts.get(t) ?? 0) + 1);
  const top = [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 5)
    .map(([k, n]) => `${k} ×${n}`)
    .join(', ');
  const results = span.filter((m) => m.role === 'tool_results').reduce((n, m) => n + (m.role === 'tool_results' ? m.results.length : 0), 0);
  return (
    `[Compaction summary written by the palimpsest demo] Messages ${start} to ${end - 1} of this session were compacted: ` +
    `${plural(users, 'user message')}, ${plural(assistants.length, 'assistant turn')} making ${plural(tools.length, 'tool call')}` +
    `${top !== '' ? ` (${top})` : ''}, and ${plural(results, 'tool result')}. The conversation continues with the messages below.`
  );
};

/** The largest index <= `target` (and >= 1) at which a fork can take a new user message: the message before it is not an assistant with tool calls. */
export const forkIndex = (messages: readonly Message[], target: number): number => {
  let i = Math.min(Math.max(1, target), messages.length);
  while (i > 1) {
    const prev = messages[i - 1];
    if (!(prev?.role === 'assistant' && prev.content.some((b) => b.type === 'tool_use'))) break;
    i--;
  }
  return i;
};

const time = async <A>(f: () => Promise<A>): Promise<[A, number]> => {
  const t0 = performance.now();
  const a = await f();
  return [a, performance.now() - t0];
};

/** Runs the demo against an open store (already reset). */
const runDemo = async (ctx: Ctx, store: Store, opts: { keepLast: number; removed: number; resetMs: number }, t0: number): Promise<E.Either<TaggedError, { json: unknown; text: string; ok: boolean }>> => {
  // 1. import
  const [imported, importMs] = await time(() => importWithProgress(ctx, (f) => f(store), DEMO_FILE, { displayName: DEMO_FILE_NAME }));
  if (E.isLeft(imported)) return imported;
  const imp = imported.right;
  const main = imp.sessions[0];
  if (main === undefined) throw new Error('the bundled pi file planned no session');
  const mainId = main.sessionId;

  // 2. compact
  const loaded = await store.load(mainId);
  if (E.isLeft(loaded)) return loaded;
  const before = loaded.right.messages;
  const span = compactionSpan(before, opts.keepLast) ?? { start: 0, end: 0 };
  const [compacted, compactMs] = await time(() =>
    compactSession(store, mainId, { keepLast: opts.keepLast, summary: describeSpan(before, span.start, span.end), actor: 'palimpsest-demo' }),
  );
  if (E.isLeft(compacted)) return compacted;
  const rw = compacted.right;

  // 3. fork at an index, append one message to the child, check the parent did not move
  const after = rw.session.messages;
  const index = forkIndex(after, Math.floor(after.length / 2));
  const childId = `${mainId}${DEMO_FORK_SUFFIX}`;
  const [forked, forkMs] = await time(async () => {
    const c = await store.forkAt(mainId, index, { id: childId });
    if (E.isLeft(c)) return c;
    const appended = await store.append(
      childId,
      [
        {
          type: 'messages_appended',
          messages: [
            {
              role: 'user',
              content: [{ type: 'text', text: `(demo) A question asked only in the fork, after message ${index - 1}: what if we had taken another approach here?` }],
              transcriptRole: 'conversational',
              createdAt: Date.now(),
            },
          ],
        },
      ],
      { expectedSeq: c.right.seq },
    );
    if (E.isLeft(appended)) return appended;
    return E.right({ child: c.right, appended: appended.right });
  });
  if (E.isLeft(forked)) return forked;
  const { child, appended } = forked.right;
  const parentNow = await store.load(mainId);
  if (E.isLeft(parentNow)) return parentNow;
  const isolated = parentNow.right.seq === rw.seq && parentNow.right.transcriptRevision() === rw.session.transcriptRevision() && parentNow.right.messageCount === after.length;
  const lineage = await store.lineage(childId);
  if (E.isLeft(lineage)) return lineage;

  // 4. verify everything
  const verified = await verifyWithProgress(ctx, store);
  if (E.isLeft(verified)) return verified;
  const v = verified.right;

  // 5. totals
  const listed = await store.list();
  if (E.isLeft(listed)) return listed;
  let revisions = 0;
  for (const s of listed.right) {
    const g = await store.revisions(s.sessionId);
    if (E.isLeft(g)) return g;
    revisions += g.right.revisions.length;
  }
  const records = listed.right.reduce((n, s) => n + s.lastSeq, 0);
  const totalMs = performance.now() - t0;
  const ok = v.ok && isolated;

  const childAfter = appended.session;
  const timings = { resetMs: opts.resetMs, importMs, import: imp.timings, compactMs, forkMs, verifyMs: v.ms, totalMs };
  const json = {
    ok,
    store: ctx.storePath,
    removedSessions: opts.removed,
    import: imp,
    compaction: { sessionId: mainId, seq: rw.seq, commit: rw.commit, messages: rw.session.messageCount, revision: rw.session.transcriptRevision() },
    fork: {
      sessionId: childId,
      index,
      from: child.state.forkedFrom?.from,
      genesisSeq: child.seq,
      appendedSeq: appended.records[0]?.seq,
      messages: childAfter.messageCount,
      revision: childAfter.transcriptRevision(),
      parent: { sessionId: mainId, seq: parentNow.right.seq, messages: parentNow.right.messageCount, revision: parentNow.right.transcriptRevision(), unchanged: isolated },
      lineage: lineage.right,
    },
    verify: v,
    totals: { sessions: listed.right.length, records, revisions },
    timings,
  };

  const rep = imp.report;
  const c = rw.commit;
  const explore = ctx.storePath === nodePath.resolve(ctx.cwd, '.palimpsest') ? 'palimpsest' : `palimpsest --store ${JSON.stringify(ctx.storePath)}`;
  const text = [
    `palimpsest demo: store ${ctx.storePath}${opts.removed > 0 ? ` (reset: removed ${plural(opts.removed, 'session')} of the previous run)` : ''}`,
    '',
    `1. import ${importText(imp, 2, '     ', 'palimpsest --json demo lists them all').slice('imported '.length)}`,
    `     (${plural(rep.toolCalls - rep.toolResults, 'tool call')} never got a result in pi: each got an inserted isError result, repair aborted_tool_call)`,
    '',
    `2. compact ${mainId}: keep the last ${opts.keepLast} messages, replace the rest with one compaction_summary message`,
    commitText(rw.seq, c, '       '),
    '',
    `3. fork ${childId} = forkAt(${index}) of the compacted session (one genesis record, nothing copied)`,
    fields(
      [
        ['from', `${mainId} at seq ${child.state.forkedFrom?.from.seq ?? '?'} (record ${shortDigest(child.state.forkedFrom?.from.hash)})`],
        ['child', `${plural(childAfter.messageCount, 'message')} after appending one at seq ${appended.records[0]?.seq ?? '?'}, revision ${shortDigest(childAfter.transcriptRevision())}`],
        ['parent', `${plural(parentNow.right.messageCount, 'message')}, revision ${shortDigest(parentNow.right.transcriptRevision())}, seq ${parentNow.right.seq}: ${isolated ? 'unchanged (isolated)' : 'CHANGED (isolation broken)'}`],
      ],
      '     ',
    ),
    '     lineage:',
    lineageText(lineage.right)
      .split('\n')
      .map((l) => `       ${l}`)
      .join('\n'),
    '',
    `4. verify every session`,
    verifyText(v)
      .split('\n')
      .map((l) => (l === '' ? l : `     ${l}`))
      .join('\n'),
    '',
    'report',
    fields(
      [
        ['sessions', String(listed.right.length)],
        ['records', String(records)],
        ['revisions', `${revisions} distinct head revisions over all sessions`],
        ['rewrite', `seq ${rw.seq}: ${c.parentRevision} -> ${c.revision}`],
        ['fork', `${childId} <- ${mainId}@${child.state.forkedFrom?.from.seq ?? '?'}`],
        ['verify', v.ok ? `ok (${plural(v.records, 'record')}, ${bytes(v.bytes)})` : `FAILED: ${problemLines(v).slice(0, 3).join('; ')}`],
        [
          'timings',
          `import ${ms(importMs)} (read ${ms(imp.timings.readMs)}, parse+plan ${ms(imp.timings.parseMs)}, check ${ms(imp.timings.checkMs)}, write ${ms(imp.timings.writeMs)}), ` +
            `compact ${ms(compactMs)}, fork+append ${ms(forkMs)}, verify ${ms(v.ms)}, total ${ms(totalMs)}`,
        ],
      ],
      '  ',
    ),
    '',
    'explore:',
    ...['sessions', `log ${childId}`, `revisions ${mainId} --commits`, `show ${mainId} --tail 5 --state`].map((c) => `  ${explore} ${c}`),
  ].join('\n');
  return E.right({ json, text, ok });
};

export const registerDemo = (program: Command, run: Run): void => {
  program
    .command('demo')
    .description('import the bundled real pi session, compact it with a validated rewrite, fork it, verify everything, print a report')
    .option('--keep-last <n>', 'messages the compaction keeps', intArg('--keep-last', 1), DEMO_KEEP_LAST)
    .addHelpText(
      'after',
      helpAfter({
        prints:
          'What was imported (bytes, messages, tool calls, repairs), the rewrite commit (seq,\nselection, parent and new revision, span and replacement digests, messages\nbefore -> after), the fork (parent record, child and parent message counts and\nrevisions, lineage), the verify verdict (records, bytes), totals (sessions, records,\nrevisions) and timings in ms.',
        json: '{ ok, store, removedSessions, import, compaction: { sessionId, seq, commit, messages, revision },\n  fork: { sessionId, index, from, genesisSeq, appendedSeq, messages, revision, parent, lineage },\n  verify, totals: { sessions, records, revisions }, timings: { …Ms } }',
        notes:
          `The demo owns its store (default ${'./.palimpsest'}, or --store DIR): a second run deletes and\nrecreates it, but only if it looks like a palimpsest store holding nothing but the\ndemo's sessions (the imported session and forks of it); otherwise it refuses\n(DemoStoreRefused, exit 1) and deletes nothing.`,
        exits: 'Exit codes: 0 everything verified; 1 verify found a problem, or a step was refused; 2 bad usage.',
      }),
    )
    .action(async (opts: { keepLast: number }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const t0 = performance.now();
        const demoId = await demoSessionId();
        const [reset, resetMs] = await time(() => resetDemoStore(ctx.storePath, demoId));
        if (E.isLeft(reset)) return reset;
        const r = await withStore(ctx, (store) => runDemo(ctx, store, { keepLast: opts.keepLast, removed: reset.right.removed, resetMs }, t0));
        if (E.isLeft(r)) return r;
        return done(r.right.json, r.right.text, r.right.ok ? EXIT.ok : EXIT.failure);
      }),
    );
};
