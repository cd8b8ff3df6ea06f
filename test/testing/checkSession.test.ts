/**
 * `checkReplay`, `checkSessionInvariants` and the command-sequence and pi-tree
 * arbitraries of `palimpsest/testing`.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { assistantToolCalls, toolResult, toolResults, userText, type Message } from '../../src/model/index.ts';
import { Session } from '../../src/session/index.ts';
import { transcriptFromMessages } from '../../src/transcript/index.ts';
import { parsePiJsonl } from '../../src/adapters/pi/parse.ts';
import { planPiImport } from '../../src/adapters/pi/plan.ts';
import { arbCommandSequence, arbPiTree, checkReplay, checkSessionInvariants } from '../../src/testing/index.ts';
import { right, ticking } from '../support/either.ts';

const user = (text: string, createdAt = 1): Message => ({ role: 'user', content: [{ type: 'text', text }], transcriptRole: 'conversational', createdAt });

describe('checkReplay', () => {
  it('applies a sequence, reports refused commands by position, and checks the replay', () => {
    const report = checkReplay([
      { type: 'messages_appended', messages: [user('hi')] },
      { type: 'transcript_rewritten', selection: { type: 'message_range', start: 0, end: 1 }, replacement: [user('hi')], reason: { kind: 'compaction' } },
      { type: 'no_such_command' },
      { type: 'metadata_set', key: 'k', value: [1, 2] },
      { type: 'transcript_rewritten', selection: { type: 'message_range', start: 0, end: 1 }, replacement: [user('hello')], reason: { kind: 'compaction' } },
    ]);
    expect(report.ok).toBe(true);
    expect(report.refused.map((r) => [r.index, r.error._tag])).toEqual([
      [1, 'NoOpRewrite'],
      [2, 'InvalidCommand'],
    ]);
    expect(report.ok && report.records).toBe(4); // genesis, append, metadata, rewrite
  });

  it('generated command sequences are mostly accepted', () => {
    const samples = fc.sample(arbCommandSequence({ maxCommands: 20 }), { numRuns: 40, seed: 7 });
    const commands = samples.reduce((n, s) => n + s.length, 0);
    const refused = samples.reduce((n, s) => n + checkReplay(s).refused.length, 0);
    expect(commands).toBeGreaterThan(100);
    expect(refused / commands).toBeLessThan(0.2);
  });
});

describe('checkSessionInvariants', () => {
  it('passes a session with a running tool call at the end', () => {
    let s = Session.create({ id: 's', clock: ticking() });
    s = right(s.push(userText('go')));
    s = right(s.push(assistantToolCalls([{ id: 'c1', name: 'ls', args: {} }])));
    expect(checkSessionInvariants(s)).toMatchObject({ ok: true, records: 3 });
    s = right(s.push(toolResults([toolResult('c1', 'done')])));
    expect(checkSessionInvariants(s)).toEqual({ ok: true, records: 4, revision: s.transcriptRevision() });
  });

  it('names an orphaned tool result in a session built from a state that never passed the shape rules', () => {
    const s = Session.create({ id: 's', clock: ticking() });
    const orphan: Message = { role: 'tool_results', results: [{ toolUseId: 'x', content: [], isError: false }], createdAt: 2 };
    const broken = Session.fromState({ ...s.state, transcript: transcriptFromMessages([user('a'), orphan]) });
    expect(E.isRight(broken)).toBe(true);
    if (E.isLeft(broken)) return;
    expect(checkSessionInvariants(broken.right)).toEqual({
      ok: false,
      violations: [{ invariant: 'orphaned_tool_result', index: 1, message: 'tool_results at message 1 resolves "x", which follows no tool call' }],
    });
  });
});

describe('arbPiTree', () => {
  it('every generated tree imports without repairs, one session per leaf', () => {
    fc.assert(
      fc.property(arbPiTree(), (tree) => {
        const parsed = right(parsePiJsonl(tree.jsonl, 'tree.jsonl'));
        const plan = right(planPiImport(parsed));
        expect(plan.sessions).toHaveLength(tree.leaves.length);
        expect(plan.report.repairs).toEqual([]);
        expect(plan.report.entries).toBe(tree.entries.length);
      }),
      { numRuns: 100 },
    );
  });
});
