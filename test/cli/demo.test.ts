/**
 * `palimpsest demo` (npm start) as a child process: the report on the bundled
 * real session, a second run in the same store, --json, and the refusals that
 * keep it from deleting a directory it does not own.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, cliJson, cleanup, REAL, REAL_ID, tempDir } from './helpers.ts';

afterAll(cleanup);

const FORK_ID = `${REAL_ID}~fork`;

describe('palimpsest demo', () => {
  it('prints the report and exits 0, twice in a row in the default store ./.palimpsest', async () => {
    const cwd = tempDir('demo');
    const t0 = performance.now();
    const first = await cli(['demo'], cwd);
    const firstMs = performance.now() - t0;
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const out = first.stdout;
    expect(out).toContain(`palimpsest demo: store ${nodePath.join(fs.realpathSync(cwd), '.palimpsest')}`);
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
    expect(out).toMatch(/sessions: +2\n/);
    expect(out).toMatch(/records: +\d+\n/);
    expect(out).toMatch(/revisions: +\d+ distinct/);
    expect(out).toMatch(/timings: +import \d+(\.\d)? ms .*total \d+(\.\d)? ms/);
    expect(fs.existsSync(nodePath.join(cwd, '.palimpsest', 'CURRENT'))).toBe(true);

    const second = await cli(['demo'], cwd);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('reset: removed 2 sessions of the previous run');
    expect(second.stdout).toMatch(/verify: ok: 2 sessions/);

    // The demo's store is a normal store: the other commands read it.
    const sessions = await cliJson(['sessions'], cwd);
    expect(sessions.code).toBe(0);
    expect(sessions.json.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual([REAL_ID, FORK_ID]);
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

  it('refuses to reset a directory that is not its own, and deletes nothing', async () => {
    const cwd = tempDir('demo-refuse');
    // Not a store: a directory with someone's files.
    fs.mkdirSync(nodePath.join(cwd, 'notes'));
    fs.writeFileSync(nodePath.join(cwd, 'notes', 'todo.txt'), 'keep me');
    const a = await cliJson(['--store', 'notes', 'demo'], cwd);
    expect(a.code).toBe(1);
    expect(a.json.error).toMatchObject({ _tag: 'DemoStoreRefused', path: nodePath.join(fs.realpathSync(cwd), 'notes') });
    expect(fs.readFileSync(nodePath.join(cwd, 'notes', 'todo.txt'), 'utf8')).toBe('keep me');

    // A store holding a session the demo did not create.
    const fixture = nodePath.join(cwd, 'other.jsonl');
    const lines = fs.readFileSync(REAL, 'utf8').split('\n').slice(0, 10);
    lines[0] = JSON.stringify({ ...JSON.parse(lines[0]!), id: 'someone-else' });
    fs.writeFileSync(fixture, `${lines.join('\n')}\n`);
    expect((await cli(['--store', 'mine', 'import', 'other.jsonl'], cwd)).code).toBe(0);
    const b = await cli(['--store', 'mine', 'demo'], cwd);
    expect(b.code).toBe(1);
    expect(b.stdout).toBe('');
    expect(b.stderr).toMatch(/the demo will not reset .*mine: it holds 1 session the demo did not create \(pi:someone-else\).*\[DemoStoreRefused\]/);
    const still = await cliJson(['--store', 'mine', 'sessions'], cwd);
    expect(still.json.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual(['pi:someone-else']);
  });
});
