/**
 * In-process checks of the CLI's pure pieces: the one-line command summaries of
 * `palimpsest log`, table alignment, the `--at` parser, the compaction span,
 * the demo's fork index, and that progress bars draw only when asked (TTY).
 */
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/model/message.ts';
import type { SessionCommand } from '../../src/session/commands.ts';
import { commandSummary, countList, messageSummary, shortDigest, table } from '../../src/cli/format.ts';
import { progressBar, type Ctx } from '../../src/cli/context.ts';
import { parseAt } from '../../src/cli/commands/show.ts';
import { compactionSpan } from '../../src/cli/commands/compact.ts';
import { forkIndex } from '../../src/cli/commands/demo.ts';
import { runCli } from '../../src/cli/program.ts';

const D = `sha256:${'ab'.repeat(32)}`;
const user = (text: string): Message => ({ role: 'user', content: [{ type: 'text', text }], transcriptRole: 'conversational', createdAt: 1 });
const call = (id: string, name = 'bash'): Message => ({ role: 'assistant', content: [{ type: 'tool_use', id, name, args: {} }], stopReason: 'tool_use', createdAt: 1 });
const results = (id: string): Message => ({ role: 'tool_results', results: [{ toolUseId: id, content: [{ type: 'text', text: 'ok' }], isError: false }], createdAt: 1 });
const said = (text: string): Message => ({ role: 'assistant', content: [{ type: 'text', text }], stopReason: 'end_turn', createdAt: 1 });

describe('commandSummary', () => {
  it('summarizes the core commands by their key fields', () => {
    const cases: Array<[SessionCommand, string]> = [
      [{ type: 'messages_appended', messages: [user('hi'), said('hello')] }, '2 messages (user, assistant)'],
      [{ type: 'transcript_rewritten', selection: { type: 'message_range', start: 0, end: 40 }, replacement: [user('sum')], reason: { kind: 'compaction' } }, '[0,40) -> 1 message, reason compaction'],
      [{ type: 'metadata_set', key: 'pi.modelId', value: 'gpt-5' }, 'pi.modelId = "gpt-5"'],
      [{ type: 'usage_recorded', usage: { inputTokens: 1200, outputTokens: 340, cacheReadTokens: 800 } }, '+in 1200 / out 340 tokens (cache read 800)'],
      [{ type: 'session_forked', from: { sessionId: 'p', seq: 12, hash: D }, mode: 'at', index: 5 }, `fork (at message 5) of p at seq 12 (${'ab'.repeat(6)})`],
      [{ type: 'session_archived', reason: 'done' }, 'reason: done'],
      [{ type: 'turn_start_reverted', startSeq: 4 }, 'revert turn started at seq 4'],
      [{ type: 'tool_capability_set', imageToolResults: true }, 'imageToolResults=true'],
    ];
    for (const [c, s] of cases) expect(commandSummary(c)).toBe(s);
  });

  it('counts repeated roles and cuts long text', () => {
    expect(countList(['user', 'assistant', 'tool_results', 'assistant', 'tool_results'])).toBe('user, assistant ×2, tool_results ×2');
    expect(messageSummary(call('t1', 'read'))).toBe('-> 1 tool call: read (tool_use)');
    expect(messageSummary(user('x'.repeat(300)), 20)).toHaveLength(20);
    expect(shortDigest(D)).toBe('ab'.repeat(6));
  });

  it('aligns tables (numbers right, last column unpadded)', () => {
    expect(table(['seq', 'what'], [['1', 'a'], ['100', 'bb']], ['right'])).toBe('seq  what\n  1  a\n100  bb');
  });
});

describe('argument helpers', () => {
  it('--at takes a seq, a full revision or a hex prefix; anything else is a usage error', () => {
    expect(parseAt('12')).toEqual(E.right({ seq: 12 }));
    expect(parseAt(D)).toEqual(E.right({ revision: D }));
    expect(parseAt('abcdef')).toEqual(E.right({ revision: 'sha256:abcdef' }));
    expect(parseAt('0')).toEqual(E.left(expect.objectContaining({ _tag: 'UsageError', message: expect.stringContaining('or label:<name>') })));
    expect(parseAt('xyz')).toEqual(E.left(expect.objectContaining({ _tag: 'UsageError' })));
  });

  it('the compaction span keeps a leading system message and never separates a call from its results', () => {
    const sys: Message = { role: 'system', text: 'be brief', createdAt: 1 };
    const ms = [sys, user('a'), call('t1'), results('t1'), said('b'), user('c')];
    expect(compactionSpan(ms, 2)).toEqual({ start: 1, end: 4 });
    expect(compactionSpan(ms, 3)).toEqual({ start: 1, end: 2 }); // cut at 3 is a tool_results: back to the call
    expect(compactionSpan(ms, 5)).toBeUndefined();
  });

  it('the demo forks where a new user message is legal', () => {
    const ms = [user('a'), call('t1'), results('t1'), call('t2'), results('t2'), said('b')];
    expect(forkIndex(ms, 3)).toBe(3);
    expect(forkIndex(ms, 4)).toBe(3); // message 3 is a call: its results would be missing
    expect(forkIndex(ms, 2)).toBe(1);
  });
});

describe('progress bars and in-process runs', () => {
  const sink = (isTTY: boolean) => {
    const chunks: string[] = [];
    return { chunks, out: { isTTY, columns: 100, write: (s: string) => (chunks.push(s), true), on: () => undefined, removeListener: () => undefined } };
  };

  it('draws on stderr only when progress is on', () => {
    for (const on of [true, false]) {
      const err = sink(true);
      const ctx: Ctx = { storePath: '/x', cwd: '/', json: false, progress: on, io: { stdout: sink(true).out, stderr: err.out } };
      const bar = progressBar(ctx, 'verify', 'records');
      bar.update(10, 100);
      bar.update(100, 100);
      bar.stop();
      expect(err.chunks.join('').includes('records')).toBe(on);
    }
  });

  it('runCli returns the exit code and never exits the process', async () => {
    const out = sink(false);
    const err = sink(false);
    expect(await runCli(['--help'], { stdout: out.out, stderr: err.out })).toBe(0);
    expect(out.chunks.join('')).toContain('Usage: palimpsest');
    expect(await runCli(['--json', 'log'], { stdout: out.out, stderr: err.out })).toBe(2);
    expect(JSON.parse(out.chunks.slice(-1)[0]!)).toEqual({ error: { _tag: 'UsageError', code: 'commander.missingArgument', message: "missing required argument 'id'" } });
    expect(err.chunks).toEqual([]);
  });
});
