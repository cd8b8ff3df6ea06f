/**
 * `palimpsest demo` (npm start) as a child process: the report on the bundled
 * real session in the demo's own store, --json, re-runs that leave every
 * earlier session (and what a user did to it) intact, and the refusal to write
 * among someone's files.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, cliJson, cleanup, REAL, tempDir } from './helpers.ts';

afterAll(cleanup);

const PI_ID = 'd703a1a9-1b7b-4fb1-b512-c9738b1fe617';
/** The ids demo run `n` writes. */
const runIds = (n: number): { main: string; fork: string } => ({ main: `demo-${n}:${PI_ID}`, fork: `demo-${n}:${PI_ID}~fork` });
const { main: REAL_ID, fork: FORK_ID } = runIds(1);

interface Summary {
  readonly sessionId: string;
  readonly lastSeq: number;
  readonly revision: string;
  readonly updatedAt: number;
}
const sessionsOf = async (store: string, cwd: string): Promise<Summary[]> => {
  const r = await cliJson(['--store', store, 'sessions'], cwd);
  expect(r.code).toBe(0);
  return r.json.sessions as Summary[];
};

describe('palimpsest demo', () => {
  it('prints the report and exits 0 in its own store ./.palimpsest-demo, never touching ./.palimpsest', async () => {
    const cwd = tempDir('demo');
    // The user's default store, with a session of their own.
    expect((await cli(['import', REAL], cwd)).code).toBe(0);
    const userBefore = await sessionsOf('.palimpsest', cwd);
    const t0 = performance.now();
    const first = await cli(['demo'], cwd);
    const firstMs = performance.now() - t0;
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const out = first.stdout;
    expect(out).toContain(`palimpsest demo, run 1: store ${nodePath.join(fs.realpathSync(cwd), '.palimpsest-demo')}`);
    expect(out).toContain('it deletes nothing');
    // import: messages, tool calls, repairs
    expect(out).toContain('1. import data/pi-large-session.jsonl');
    expect(out).toMatch(/914 messages, 391 tool calls, 373 tool results/);
    expect(out).toMatch(/repairs: +21 \(/);
    expect(out).toContain('aborted_tool_call ×18');
    // the rewrite commit with its revisions and span digests
    expect(out).toMatch(/commit at seq \d+: \[0,\d+\) -> 1 message, reason compaction/);
    expect(out).toMatch(/parent revision: +sha256:[0-9a-f]{64}/);
    expect(out).toMatch(/new revision: +sha256:[0-9a-f]{64}/);
    expect(out).toMatch(/original span: +sha256:[0-9a-f]{64} \(\d+ messages\)/);
    expect(out).toMatch(/replacement: +sha256:[0-9a-f]{64} \(1 message\)/);
    expect(out).toMatch(/messages: +1014 -> 41/);
    // the fork, isolation, lineage
    expect(out).toContain(`3. fork ${FORK_ID} = forkAt(`);
    expect(out).toContain('unchanged (isolated)');
    expect(out).toContain(`${FORK_ID}  fork (at) of ${REAL_ID} at seq`);
    expect(out).toContain(`${REAL_ID}  root`);
    // verify and the totals
    expect(out).toMatch(/verify: ok: 2 sessions, \d+ records/);
    expect(out).toMatch(/sessions: +2 written by this run \(2 in the store\)\n/);
    expect(out).toMatch(/records: +\d+\n/);
    expect(out).toMatch(/revisions: +\d+ distinct/);
    expect(out).toMatch(/timings: +import \d+(\.\d)? ms .*total \d+(\.\d)? ms/);
    expect(out).toContain('\n  npx palimpsest --store .palimpsest-demo sessions\n');
    expect(fs.existsSync(nodePath.join(cwd, '.palimpsest-demo', 'CURRENT'))).toBe(true);

    // The demo's store is a normal store: the other commands read it; the user's store did not move.
    expect((await sessionsOf('.palimpsest-demo', cwd)).map((s) => s.sessionId)).toEqual([REAL_ID, FORK_ID]);
    expect(await sessionsOf('.palimpsest', cwd)).toEqual(userBefore);
    console.log(`demo (child process, incl. ~0.6 s start-up): first run ${Math.round(firstMs)} ms`);
  });

  it('--json prints one document with the report', async () => {
    const cwd = tempDir('demo-json');
    const r = await cliJson(['--store', 'st', 'demo', '--keep-last', '10'], cwd);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const d = r.json;
    expect(d.ok).toBe(true);
    expect(d.store).toBe(nodePath.join(fs.realpathSync(cwd), 'st'));
    expect(d.run).toBe(1);
    expect(d.sessions).toEqual([REAL_ID, FORK_ID]);
    expect(d.import.report).toMatchObject({ messages: 914, toolCalls: 391, toolResults: 373 });
    expect(d.compaction.commit).toMatchObject({ reason: { kind: 'compaction' }, selection: { type: 'message_range', start: 0 }, messagesBefore: 1014 });
    const sel = d.compaction.commit.selection;
    expect(d.compaction.messages).toBe(1014 - (sel.end - sel.start) + 1);
    expect(d.compaction.messages - 1).toBeGreaterThanOrEqual(10); // the cut may move back to keep a tool call with its results
    expect(d.fork.parent.unchanged).toBe(true);
    expect(d.fork.lineage.map((l: { sessionId: string }) => l.sessionId)).toEqual([FORK_ID, REAL_ID]);
    expect(d.verify.ok).toBe(true);
    expect(d.totals.sessions).toBe(2);
    for (const k of ['importMs', 'compactMs', 'forkMs', 'verifyMs', 'totalMs']) expect(typeof d.timings[k]).toBe('number');
    // The summary message is a compaction_summary user message.
    const show = await cliJson(['--store', 'st', 'show', REAL_ID, '--tail', '100'], cwd);
    expect(show.json.messages[0]).toMatchObject({ role: 'user', transcriptRole: 'compaction_summary' });
  });

  it('re-running after a user forked and rewrote demo sessions leaves them intact, and adds a new run', async () => {
    const cwd = tempDir('demo-rerun');
    expect((await cli(['demo'], cwd)).code).toBe(0);
    const S = '.palimpsest-demo';
    // What a user tries next: fork the demo's session, rewrite the demo's fork, append to nothing else.
    expect((await cli(['--store', S, 'fork', REAL_ID, '--at', '10', '--id', 'my-experiment'], cwd)).code).toBe(0);
    const compacted = await cli(['--store', S, 'compact', FORK_ID, '--keep-last', '4', '--summary', 'my own summary'], cwd);
    expect(compacted.stderr).toBe('');
    expect(compacted.code).toBe(0);
    const before = await sessionsOf(S, cwd);
    expect(before.map((s) => s.sessionId)).toEqual([REAL_ID, FORK_ID, 'my-experiment']);
    const logBefore = await cli(['--store', S, '--json', 'log', FORK_ID], cwd);

    const second = await cli(['demo'], cwd);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('palimpsest demo, run 2:');
    expect(second.stdout).toMatch(/verify: ok: 2 sessions/);
    const after = await sessionsOf(S, cwd);
    // Every earlier session is exactly as the user left it (seq, revision, update time); run 2 only added its own.
    expect(after.filter((s) => !s.sessionId.startsWith('demo-2:'))).toEqual(before);
    expect(after.map((s) => s.sessionId).filter((id) => id.startsWith('demo-2:'))).toEqual([runIds(2).main, runIds(2).fork]);
    expect((await cli(['--store', S, '--json', 'log', FORK_ID], cwd)).stdout).toBe(logBefore.stdout);
    const verified = await cliJson(['--store', S, 'verify'], cwd);
    expect(verified.code).toBe(0);
    expect(verified.json.ok).toBe(true);
  }, 300_000); // two demo runs and six commands, each a child process, on a shared machine

  it('adds to a store holding other sessions without touching them, and refuses a directory that is not a store', async () => {
    const cwd = tempDir('demo-refuse');
    // Not a store: a directory with someone's files.
    fs.mkdirSync(nodePath.join(cwd, 'notes'));
    fs.writeFileSync(nodePath.join(cwd, 'notes', 'todo.txt'), 'keep me');
    const a = await cliJson(['--store', 'notes', 'demo'], cwd);
    expect(a.code).toBe(1);
    expect(a.json.error).toMatchObject({ _tag: 'DemoStoreRefused', path: nodePath.join(fs.realpathSync(cwd), 'notes') });
    expect(fs.readdirSync(nodePath.join(cwd, 'notes'))).toEqual(['todo.txt']);
    expect(fs.readFileSync(nodePath.join(cwd, 'notes', 'todo.txt'), 'utf8')).toBe('keep me');

    // A store holding a session the demo did not create.
    const fixture = nodePath.join(cwd, 'other.jsonl');
    const lines = fs.readFileSync(REAL, 'utf8').split('\n').slice(0, 10);
    lines[0] = JSON.stringify({ ...JSON.parse(lines[0]!), id: 'someone-else' });
    fs.writeFileSync(fixture, `${lines.join('\n')}\n`);
    expect((await cli(['--store', 'mine', 'import', 'other.jsonl'], cwd)).code).toBe(0);
    const before = await sessionsOf('mine', cwd);
    const b = await cli(['--store', 'mine', 'demo', 'other.jsonl', '--keep-last', '2'], cwd);
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    const after = await sessionsOf('mine', cwd);
    expect(after.filter((s) => s.sessionId === 'pi:someone-else')).toEqual(before);
    expect(after.map((s) => s.sessionId)).toEqual(['demo-1:someone-else', 'demo-1:someone-else~fork', 'pi:someone-else']);
  });
});
