/**
 * The subcommands of `palimpsest` as a child process against one temp store
 * holding the bundled real session: output, --json documents, and the exit
 * codes 0 (success), 1 (a refused command), 2 (bad usage).
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliJson, cleanup, REAL, REAL_ID, tempDir } from './helpers.ts';
import { machineList } from '../../src/machines/registry.ts';

afterAll(cleanup);

let cwd = '';
const S = ['--store', 'st'];
const run = (...args: string[]) => cli([...S, ...args], cwd);
const runJson = (...args: string[]) => cliJson([...S, ...args], cwd);
const sessionsNow = async () => (await runJson('sessions')).json.sessions;

beforeAll(async () => {
  cwd = tempDir('commands');
  const r = await run('import', REAL);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`imported ${REAL}`);
  expect(r.stdout).toMatch(/1018: 914 messages, 391 tool calls, 373 tool results/);
  expect(r.stdout).toContain(`${REAL_ID}  `);
  expect(r.stdout).toMatch(/repairs: +21 \(/);
});

describe('import', () => {
  it('refuses a second import of the same file (exit 1) and leaves the store unchanged', async () => {
    const before = await sessionsNow();
    const again = await run('import', REAL);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[SessionExists]');
    expect(await sessionsNow()).toEqual(before);
  });

  it('reports a malformed line with file and line (exit 1); nothing is written', async () => {
    const lines = fs.readFileSync(REAL, 'utf8').split('\n').slice(0, 8);
    lines.splice(3, 0, '{"type":"message","timestamp":');
    fs.writeFileSync(nodePath.join(cwd, 'bad.jsonl'), `${lines.join('\n')}\n`);
    const before = await sessionsNow();
    const human = await run('import', 'bad.jsonl');
    expect(human.code).toBe(1);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/^palimpsest: bad\.jsonl:4: .*\[PiParseError\]\n$/);
    const json = await runJson('import', 'bad.jsonl');
    expect(json.code).toBe(1);
    expect(json.json.error).toMatchObject({ _tag: 'PiParseError', file: 'bad.jsonl', line: 4, reason: 'malformed_json' });
    expect(await sessionsNow()).toEqual(before);
  });

  it('a missing file is PiFileError (exit 1) and creates no store', async () => {
    const r = await cliJson(['--store', 'fresh', 'import', 'nope.jsonl'], cwd);
    expect(r.code).toBe(1);
    expect(r.json.error).toMatchObject({ _tag: 'PiFileError', file: 'nope.jsonl', code: 'ENOENT' });
    expect(fs.existsSync(nodePath.join(cwd, 'fresh'))).toBe(false);
  });
});

describe('reading', () => {
  it('sessions lists the store', async () => {
    const r = await run('sessions');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^session +records +messages +revision +status +updated +fork of\n/);
    expect(r.stdout).toMatch(new RegExp(`${REAL_ID} +\\d+ +1014 +[0-9a-f]{12} +active`));
  });

  it('log shows seq, ISO time, type, short revision and a summary per record', async () => {
    const r = await run('log', REAL_ID, '--from', '1', '--to', '6');
    expect(r.code).toBe(0);
    const rows = r.stdout.split('\n').slice(1, 7);
    // An imported session: time = when it happened (pi's first entry), imported = when the record was written.
    expect(r.stdout.split('\n')[0]).toMatch(/^ *seq +time +imported +command +revision +summary/);
    expect(rows[0]).toMatch(/^ *1 +2025-11-20T23:33:01\.550Z +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z +session_created +[0-9a-f]{12} +root session, 8 metadata keys/);
    expect(rows[1]).toMatch(/^ *2 +2025-11-20T\S+ +\S+ +messages_appended +[0-9a-f]{12} +1 message \(user\)$/);
    expect(rows[1]).not.toMatch(/^ *2 +2025-11-20T\S+ +2025-11-20T/);
    const plain = await run('log', REAL_ID, '--from', '1', '--to', '2', '--import-time');
    expect(plain.stdout.split('\n')[0]).toMatch(/^ *seq +time +command +revision +summary/);
    expect(r.stdout).toContain(`6 records of ${REAL_ID} (seq 1..6 of`);
    const j = await runJson('log', 'd703a1a9', '--from', '7', '--to', '7');
    expect(j.code).toBe(0);
    expect(j.json.sessionId).toBe(REAL_ID);
    expect(j.json.records).toHaveLength(1);
    expect(j.json.records[0].occurred).toMatch(/^2025-11-20T/);
    expect(j.json.records[0].occurredAt).toBeLessThan(j.json.records[0].at);
    expect(j.json.records[0]).toMatchObject({ seq: 7, command: { type: 'usage_recorded' }, summary: expect.stringMatching(/^\+in \d+ \/ out \d+ tokens/) });
    expect((await run('log', REAL_ID, '--from', '999999')).code).toBe(1);
  });

  it('show prints the session, --state the machines, --at an earlier seq or revision', async () => {
    const r = await run('show', REAL_ID, '--tail', '2', '--state');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^session: +pi:d703/);
    expect(r.stdout).toMatch(/messages: +1014 \(/);
    for (const m of ['lifecycle:', 'deferredTurn:', 'systemContext:', 'toolVisibility:', 'realtime:', 'transcriptHistory:']) expect(r.stdout).toContain(`\n${m}`);
    expect(r.stdout).toMatch(/transcript \(last 2 of 1014\):\n +# +time +role +summary\n1012 /);
    const at10 = await runJson('show', REAL_ID, '--at', '10');
    expect(at10.json).toMatchObject({ seq: 10 });
    const rev = at10.json.revision.slice('sha256:'.length, 'sha256:'.length + 10);
    const byRev = await runJson('show', REAL_ID, '--at', rev);
    expect(byRev.code).toBe(0);
    expect(byRev.json.revision).toBe(at10.json.revision);
    expect(byRev.json.messageCount).toBe(at10.json.messageCount);
    expect((await run('show', REAL_ID, '--at', 'not-a-rev')).code).toBe(2);
  });

  it('show --range A..B prints messages A to B-1; --message N prints one message in full', async () => {
    const r = await run('show', REAL_ID, '--range', '10..13');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/transcript \(messages 10\.\.13 of 1014\):\n +# +time +role +summary\n *10 [^\n]+\n *11 [^\n]+\n *12 [^\n]+\n$/);
    const j = await runJson('show', REAL_ID, '--range', '10..13');
    expect([j.json.messagesFrom, j.json.messages.length]).toEqual([10, 3]);
    // The longest text of the transcript, printed whole (the transcript table cuts it).
    const all = (await runJson('show', REAL_ID)).json.messages as Array<{ role: string; content?: Array<{ type: string; text?: string }> }>;
    const texts = all.flatMap((m, i) => (m.content ?? []).flatMap((b) => (b.type === 'text' && b.text !== undefined ? [{ i, text: b.text }] : [])));
    const longest = texts.reduce((a, b) => (b.text.length > a.text.length ? b : a));
    expect(longest.text.length).toBeGreaterThan(200);
    const one = await run('show', REAL_ID, '--message', String(longest.i));
    expect(one.code).toBe(0);
    expect(one.stdout).toContain(`message ${longest.i}  `);
    for (const line of longest.text.split('\n')) expect(one.stdout).toContain(line);
    expect((await run('show', REAL_ID, '--message', '5000')).code).toBe(1);
    for (const bad of [['--range', '5..2'], ['--range', 'x'], ['--tail', '2', '--message', '1']]) expect([bad, (await run('show', REAL_ID, ...bad)).code]).toEqual([bad, 2]);
  });
});

describe('writing', () => {
  it('rewrite commits a validated rewrite; the old revision stays readable; NoOpRewrite and SeqConflict exit 1', async () => {
    const before = (await runJson('show', REAL_ID, '--tail', '0')).json;
    const r = await runJson('rewrite', REAL_ID, '--start', '0', '--end', '1', '--text', 'a redacted first question', '--reason', 'redaction', '--note', 'PII', '--actor', 'alice');
    expect(r.code).toBe(0);
    expect(r.json.commit).toMatchObject({
      parentRevision: before.revision,
      selection: { type: 'message_range', start: 0, end: 1 },
      messagesBefore: 1014,
      messagesAfter: 1014,
      reason: { kind: 'redaction', note: 'PII' },
      actor: 'alice',
    });
    expect(r.json.seq).toBe(before.seq + 1);
    const old = await runJson('show', REAL_ID, '--at', before.revision, '--tail', '0');
    expect(old.json.revision).toBe(before.revision);

    const noop = await runJson('rewrite', REAL_ID, '--start', '0', '--end', '1', '--text', 'a redacted first question');
    expect(noop.code).toBe(1);
    expect(noop.json.error._tag).toBe('NoOpRewrite');
    const conflict = await runJson('rewrite', REAL_ID, '--start', '0', '--end', '1', '--text', 'x', '--expect-seq', '1');
    expect(conflict.code).toBe(1);
    expect(conflict.json.error).toMatchObject({ _tag: 'SeqConflict', sessionId: REAL_ID, expected: 1, actual: before.seq + 1 });
    const shape = await run('rewrite', REAL_ID, '--start', '5', '--end', '6', '--message-json', '[]');
    expect(shape.code).toBe(1);
    expect(shape.stderr).toContain('[InvalidTranscriptShape]');

    const log = await run('log', REAL_ID, '--from', String(r.json.seq));
    expect(log.stdout).toMatch(/transcript_rewritten +[0-9a-f]{12} +\[0,1\) -> 1 message, reason redaction \(PII\), actor alice/);
  });

  it('compact replaces all but the last N messages with a compaction_summary', async () => {
    const r = await run('compact', REAL_ID, '--keep-last', '30', '--summary', 'What happened so far.');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/commit at seq \d+: \[0,\d+\) -> 1 message, reason compaction/);
    const shown = (await runJson('show', REAL_ID)).json;
    expect(shown.messages[0]).toMatchObject({ role: 'user', transcriptRole: 'compaction_summary', content: [{ type: 'text', text: 'What happened so far.' }] });
    const revs = await runJson('revisions', REAL_ID);
    expect(revs.json.commits.map((c: { commit: { reason: { kind: string } } }) => c.commit.reason.kind)).toEqual(['redaction', 'compaction']);
    const human = await run('revisions', REAL_ID, '--commits');
    expect(human.stdout).toMatch(/original span: +sha256:[0-9a-f]{64} \(\d+ messages\)/);
    const nothing = await runJson('compact', REAL_ID, '--keep-last', '1000', '--summary', 's');
    expect(nothing.code).toBe(1);
    expect(nothing.json.error._tag).toBe('NothingToCompact');
  });

  it('fork, lineage and export; the export re-imports to the same revision', async () => {
    const f = await runJson('fork', REAL_ID, '--at', '5', '--id', 'child');
    expect(f.code).toBe(0);
    expect(f.json).toMatchObject({ sessionId: 'child', mode: 'at', seq: 1, messages: 5, from: { sessionId: REAL_ID } });
    expect((await runJson('fork', REAL_ID, '--id', 'child')).json.error._tag).toBe('SessionExists');
    const lineage = await run('lineage', 'child');
    expect(lineage.code).toBe(0);
    expect(lineage.stdout).toMatch(new RegExp(`^child  fork \\(at\\) of ${REAL_ID} at seq \\d+ \\(record [0-9a-f]{12}\\)\\n  ${REAL_ID}  root\\nchildren: none`));
    const parentLineage = await runJson('lineage', REAL_ID);
    expect(parentLineage.json.children).toEqual([expect.objectContaining({ sessionId: 'child', mode: 'at' })]);

    const ex = await run('export', 'child', '--out', 'child.jsonl');
    expect(ex.code).toBe(0);
    expect(ex.stdout).toMatch(/^exported child: \d+ lines, \d+ bytes/);
    const stdoutExport = await run('export', 'child');
    expect(stdoutExport.stdout).toBe(fs.readFileSync(nodePath.join(cwd, 'child.jsonl'), 'utf8'));
    const im = await cliJson(['--store', 'st2', 'import', 'child.jsonl'], cwd);
    expect(im.code).toBe(0);
    expect(im.json.sessions[0].revision).toBe(f.json.revision);
  });
});

describe('exit codes and --json errors', () => {
  it('bad usage exits 2, with a UsageError document under --json', async () => {
    const cases: string[][] = [['bogus'], ['log'], ['log', REAL_ID, '--from', 'x'], ['log', REAL_ID, '--bogus'], ['rewrite', REAL_ID, '--start', '0', '--end', '1'], ['rewrite', REAL_ID, '--start', '2', '--end', '1', '--text', 'x'], ['fork', REAL_ID, '--at', '-3'], []];
    const results = await Promise.all(cases.map(async (c) => [c, await run(...c), await runJson(...c)] as const));
    for (const [c, human, json] of results) {
      expect([c, human.code]).toEqual([c, 2]);
      expect(human.stdout).toBe('');
      expect(human.stderr).not.toBe('');
      // commander's own usage errors in the CLI's form (a bare `palimpsest` prints the help instead)
      if (c.length > 0) expect([c, human.stderr]).toEqual([c, expect.stringMatching(/^palimpsest: [^\n]+ \[UsageError\]\n$/)]);
      expect([c, json.code]).toEqual([c, 2]);
      expect(json.json.error._tag).toBe('UsageError');
      expect(json.stderr).toBe('');
    }
  });

  it('an unknown session and a missing store exit 1', async () => {
    const r = await run('show', 'no-such-session');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('palimpsest: no session "no-such-session" in ' + nodePath.join(fs.realpathSync(cwd), 'st') + ' [SessionNotFound]\n');
    const j = await cliJson(['--store', 'missing', 'sessions'], cwd);
    expect(j.code).toBe(1);
    expect(j.json.error._tag).toBe('StoreNotFound');
    expect(fs.existsSync(nodePath.join(cwd, 'missing'))).toBe(false);
    // An existing directory that is not a store is refused too, and gets no LevelDB files.
    fs.mkdirSync(nodePath.join(cwd, 'empty-dir'));
    for (const c of [['sessions'], ['log', 'x'], ['verify']]) {
      const e = await cliJson(['--store', 'empty-dir', ...c], cwd);
      expect([c, e.code, e.json.error._tag]).toEqual([c, 1, 'StoreNotFound']);
    }
    expect(fs.readdirSync(nodePath.join(cwd, 'empty-dir'))).toEqual([]);
  });

  it('--help of every command exits 0 and states what it prints and the exit codes', async () => {
    const commands = ['demo', 'import', 'sessions', 'log', 'show', 'revisions', 'fork', 'rewrite', 'compact', 'verify', 'export', 'lineage', 'anchor'];
    const top = await cli(['--help'], cwd);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Exit codes: 0');
    for (const c of commands) expect(top.stdout).toContain(`  ${c}`);
    const results = await Promise.all(commands.map(async (c) => [c, await cli([c, '--help'], cwd)] as const));
    for (const [c, r] of results) {
      expect([c, r.code]).toEqual([c, 0]);
      expect(r.stdout).toContain(`Usage: palimpsest ${c}`);
      expect(r.stdout).toContain('Prints:');
      expect(r.stdout).toContain('With --json:');
      expect(r.stdout).toMatch(/Exit codes: 0 .*; 1 .*; 2 bad usage/);
    }
    // `show --state` names every registered machine (taken from the registry, so a new machine appears by itself)
    const show = results.find(([c]) => c === 'show')![1].stdout.replace(/\s+/g, ' ');
    for (const m of machineList) expect(show).toContain(m.name);
  });
});
