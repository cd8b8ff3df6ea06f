/**
 * `palimpsest demo [file]` (`npm start`): the guided tour on real data.
 *
 * 1. picks the run's session ids: run N of the demo in its store imports as
 *    `demo-N:<pi id>` (N = 1 + the highest `demo-<n>:` already there), so a
 *    run only ever writes new sessions;
 * 2. imports the pi session bundled with the source checkout
 *    (`data/pi-large-session.jsonl`, resolved against the package root; the
 *    npm package does not ship it, so there pass a pi JSONL file);
 * 3. compacts the imported session with a validated rewrite (reason
 *    `compaction`, a `compaction_summary` user message replacing all but the
 *    last N messages);
 * 4. forks the compacted session at a message index (copy-on-write: one
 *    record) and appends one message to the child, then checks the parent is
 *    unchanged (isolation);
 * 5. verifies the sessions of this run;
 * 6. prints a report: where the store is, sessions, records, revisions, the
 *    rewrite commit with its digests, the fork with its lineage, the verify
 *    verdict, timings in ms.
 *
 * The demo uses a store of its own (`./.palimpsest-demo`, or `--store DIR`),
 * never the CLI's default `./.palimpsest`, and deletes nothing: earlier runs,
 * and anything a user did to them (forks, rewrites), stay as they are.
 *
 * Exit 1 when verify (or the isolation check) finds a problem.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import type { Message } from '../../model/message.ts';
import type { SessionSummary } from '../../store/index.ts';
import { EXIT } from '../exit.ts';
import { done, withStore, type Ctx, type Store } from '../context.ts';
import type { DemoStoreRefused, FileError, TaggedError } from '../errors.ts';
import { bytes, countList, fields, ms, plural, shortDigest } from '../format.ts';
import { helpAfter, intArg } from '../shared.ts';
import type { Run } from '../program.ts';
import { importText, importWithProgress } from './import.ts';
import { compactionSpan, compactSession } from './compact.ts';
import { commitText } from './revisions.ts';
import { lineageText } from './lineage.ts';
import { verifyText, verifyWithProgress, problemLines, type VerifyOutcome } from './verify.ts';

/** The package root (two levels above `src/cli/commands`). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The bundled pi session the demo imports, relative to the package root. */
export const DEMO_FILE_NAME = 'data/pi-large-session.jsonl';
/** Its absolute path. */
export const DEMO_FILE = nodePath.join(PACKAGE_ROOT, DEMO_FILE_NAME);
/** The demo's own store, relative to the working directory (used unless --store is given). */
export const DEMO_STORE = './.palimpsest-demo';
/** Session ids of demo run `n` start with `demo-<n>:`. */
export const demoIdPrefix = (n: number): string => `demo-${n}:`;
const DEMO_RUN = /^demo-(\d+):/;
/** Messages the demo's compaction keeps. */
export const DEMO_KEEP_LAST = 40;
/** Suffix of the demo fork's id (appended to the imported session's id). */
export const DEMO_FORK_SUFFIX = '~fork';

/** File names LevelDB writes in its directory. */
const LEVELDB_FILE = /^(CURRENT|LOCK|LOG|LOG\.old|MANIFEST-\d+|\d+\.(log|ldb|sst|dbtmp))$/;

const refuse = (path: string, reason: string): DemoStoreRefused => ({
  _tag: 'DemoStoreRefused',
  path,
  reason,
  message: `the demo will not write to ${path}: ${reason}. Point it at another directory with --store DIR.`,
});

/**
 * Whether the demo may use `path` as its store: a missing or empty directory,
 * or a directory holding only LevelDB's files (a store; the demo only adds
 * sessions to it). Anything else is `DemoStoreRefused`, so the demo never
 * writes LevelDB files among someone's files. Reads only; deletes nothing.
 */
export const checkDemoStore = (path: string): E.Either<DemoStoreRefused, void> => {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) return E.right(undefined);
  if (!st.isDirectory()) return E.left(refuse(path, 'it is not a directory'));
  const names = readdirSync(path);
  if (names.length === 0) return E.right(undefined);
  const foreignFiles = names.filter((n) => !LEVELDB_FILE.test(n));
  if (foreignFiles.length > 0 || !names.includes('CURRENT')) {
    return E.left(refuse(path, `it does not look like a palimpsest store (${foreignFiles.length > 0 ? `it holds ${countList(foreignFiles.slice(0, 5))}` : 'no LevelDB CURRENT file'})`));
  }
  return E.right(undefined);
};

/** The number of this demo run: 1 + the highest `n` of a `demo-<n>:` session id in `ids` (1 for none). */
export const nextDemoRun = (ids: readonly string[]): number => ids.reduce((n, id) => Math.max(n, Number(DEMO_RUN.exec(id)?.[1] ?? 0) + 1), 1);

/** The pi file the demo imports: `file` (relative to the working directory), else the bundled session if this is a source checkout. */
const demoFile = (ctx: Ctx, file: string | undefined): E.Either<FileError, { readonly path: string; readonly displayName: string }> => {
  if (file !== undefined) return E.right({ path: nodePath.resolve(ctx.cwd, file), displayName: file });
  if (existsSync(DEMO_FILE)) return E.right({ path: DEMO_FILE, displayName: DEMO_FILE_NAME });
  return E.left({
    _tag: 'FileError',
    file: DEMO_FILE,
    code: 'ENOENT',
    message: `cannot read ${DEMO_FILE}: the demo's session (${DEMO_FILE_NAME}) ships with the source checkout, not with the npm package; pass a pi JSONL session file: palimpsest demo <file>`,
  });
};

/** Verifies each of `ids` and sums the outcomes. */
const verifySessions = async (ctx: Ctx, store: Store, ids: readonly string[]): Promise<E.Either<TaggedError, VerifyOutcome>> => {
  const outcomes: VerifyOutcome[] = [];
  for (const id of ids) {
    const v = await verifyWithProgress(ctx, store, id);
    if (E.isLeft(v)) return v;
    outcomes.push(v.right);
  }
  return E.right({
    ok: outcomes.every((o) => o.ok),
    sessions: outcomes.flatMap((o) => o.sessions),
    records: outcomes.reduce((n, o) => n + o.records, 0),
    bytes: outcomes.reduce((n, o) => n + o.bytes, 0),
    ms: outcomes.reduce((n, o) => n + o.ms, 0),
    incompleteImports: outcomes.flatMap((o) => o.incompleteImports),
  });
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

/** Runs the demo against an open store (checked by `checkDemoStore`): writes run N's sessions only. */
const runDemo = async (
  ctx: Ctx,
  store: Store,
  opts: { readonly keepLast: number; readonly file: { readonly path: string; readonly displayName: string } },
  t0: number,
): Promise<E.Either<TaggedError, { json: unknown; text: string; ok: boolean }>> => {
  // 0. this run's number, from the ids already in the store (nothing is deleted, ever)
  const existing = await store.list();
  if (E.isLeft(existing)) return existing;
  const run = nextDemoRun(existing.right.map((s) => s.sessionId));
  const idPrefix = demoIdPrefix(run);

  // 1. import
  const [imported, importMs] = await time(() => importWithProgress(ctx, (f) => f(store), opts.file.path, { displayName: opts.file.displayName, idPrefix }));
  if (E.isLeft(imported)) return imported;
  const imp = imported.right;
  const main = imp.sessions[0];
  if (main === undefined) throw new Error('the bundled pi file planned no session');
  const mainId = main.sessionId;

  // 2. compact
  const loaded = await store.load(mainId);
  if (E.isLeft(loaded)) return loaded;
  const readBefore = loaded.right.readMessages();
  if (E.isLeft(readBefore)) return readBefore;
  const before = readBefore.right;
  const span = compactionSpan(before, opts.keepLast) ?? { start: 0, end: 0 };
  const [compacted, compactMs] = await time(() =>
    compactSession(store, mainId, { keepLast: opts.keepLast, summary: describeSpan(before, span.start, span.end), actor: 'palimpsest-demo' }),
  );
  if (E.isLeft(compacted)) return compacted;
  const rw = compacted.right;

  // 3. fork at an index, append one message to the child, check the parent did not move
  const readAfter = rw.session.readMessages();
  if (E.isLeft(readAfter)) return readAfter;
  const after = readAfter.right;
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
  const runIds = [...imp.sessions.map((s) => s.sessionId), childId];
  const verified = await verifySessions(ctx, store, runIds);
  if (E.isLeft(verified)) return verified;
  const v = verified.right;

  // 5. totals
  const listed = await store.list();
  if (E.isLeft(listed)) return listed;
  const ours = listed.right.filter((s) => runIds.includes(s.sessionId));
  let revisions = 0;
  for (const s of ours) {
    const g = await store.revisions(s.sessionId);
    if (E.isLeft(g)) return g;
    revisions += g.right.revisions.length;
  }
  const records = ours.reduce((n, s) => n + s.lastSeq, 0);
  const totalMs = performance.now() - t0;
  const ok = v.ok && isolated;

  const childAfter = appended.session;
  const timings = { importMs, import: imp.timings, compactMs, forkMs, verifyMs: v.ms, totalMs };
  const json = {
    ok,
    store: ctx.storePath,
    run,
    sessions: runIds,
    storeSessions: listed.right.length,
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
    totals: { sessions: ours.length, records, revisions },
    timings,
  };

  const rep = imp.report;
  const c = rw.commit;
  const rel = nodePath.relative(ctx.cwd, ctx.storePath);
  const storeArg = rel !== '' && !rel.startsWith('..') && !nodePath.isAbsolute(rel) ? rel : ctx.storePath;
  const explore = `npx palimpsest --store ${/^[\w./-]+$/.test(storeArg) ? storeArg : JSON.stringify(storeArg)}`;
  const text = [
    `palimpsest demo, run ${run}: store ${ctx.storePath}`,
    `  (the demo's own store; this run wrote only the sessions ${idPrefix}…; it deletes nothing, so earlier runs and your changes to them stay)`,
    '',
    `1. import ${importText(imp, 2, '     ', 'npx palimpsest --json demo lists them all').slice('imported '.length)}`,
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
    `4. verify this run's sessions`,
    verifyText(v)
      .split('\n')
      .map((l) => (l === '' ? l : `     ${l}`))
      .join('\n'),
    '',
    'report',
    fields(
      [
        ['sessions', `${ours.length} written by this run (${listed.right.length} in the store)`],
        ['records', String(records)],
        ['revisions', `${revisions} distinct head revisions over this run's sessions`],
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
    .argument('[file]', 'a pi JSONL session to use (default: the bundled data/pi-large-session.jsonl of a source checkout)')
    .description(`import a real pi session into the demo's own store (${DEMO_STORE}), compact it with a validated rewrite, fork it, verify, print a report`)
    .option('--keep-last <n>', 'messages the compaction keeps', intArg('--keep-last', 1), DEMO_KEEP_LAST)
    .addHelpText(
      'after',
      helpAfter({
        prints:
          'What was imported (bytes, messages, tool calls, repairs), the rewrite commit (seq,\nselection, parent and new revision, span and replacement digests, messages\nbefore -> after), the fork (parent record, child and parent message counts and\nrevisions, lineage), the verify verdict (records, bytes), totals (sessions, records,\nrevisions) and timings in ms.',
        json: '{ ok, store, run, sessions, storeSessions, import, compaction: { sessionId, seq, commit, messages, revision },\n  fork: { sessionId, index, from, genesisSeq, appendedSeq, messages, revision, parent, lineage },\n  verify, totals: { sessions, records, revisions }, timings: { …Ms } }',
        notes:
          `The demo writes to its own store, ${DEMO_STORE} (not the default store of the other\ncommands), or to --store DIR. It never deletes: run N writes new sessions demo-N:<pi id>\nand demo-N:<pi id>~fork, so earlier runs and anything done to them stay intact. A\ndirectory holding anything but a store is refused (DemoStoreRefused, exit 1).\nExplore a run with palimpsest --store ${DEMO_STORE} <command>.`,
        exits: 'Exit codes: 0 everything verified; 1 verify found a problem, or a step was refused; 2 bad usage.',
      }),
    )
    .action(async (file: string | undefined, opts: { keepLast: number }, cmd: Command) =>
      run(cmd, async (given) => {
        const t0 = performance.now();
        // The demo's store unless --store was given: never the user's default ./.palimpsest.
        const ctx = cmd.getOptionValueSourceWithGlobals('store') === 'default' ? { ...given, storePath: nodePath.resolve(given.cwd, DEMO_STORE) } : given;
        const source = demoFile(ctx, file);
        if (E.isLeft(source)) return source;
        const checked = checkDemoStore(ctx.storePath);
        if (E.isLeft(checked)) return checked;
        const r = await withStore(ctx, (store) => runDemo(ctx, store, { keepLast: opts.keepLast, file: source.right }, t0));
        if (E.isLeft(r)) return r;
        return done(r.right.json, r.right.text, r.right.ok ? EXIT.ok : EXIT.failure);
      }),
    );
};
