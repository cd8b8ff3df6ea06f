/**
 * The less common repairs and plan errors, each with its line, and tree shapes
 * beyond two branches (a fork of a fork, a forest).
 */
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../../src/model/message.ts';
import type { PiPlanSession } from '../../../src/adapters/pi/plan.ts';
import { at, finalMessages, importEither, importText, jsonl, ms, piAssistant, piCall, piResult, piUser, shapeViolation } from './helpers.ts';

const ID = 'tree-session';
const header = (version?: number) => ({ type: 'session', ...(version !== undefined ? { version } : {}), id: ID, timestamp: at(0), cwd: '/w' });
const msg = (id: string, parentId: string | null, n: number, message: unknown) => ({ type: 'message', id, parentId, timestamp: at(n), message });
const v1 = (n: number, message: unknown) => ({ type: 'message', timestamp: at(n), message });
const userTexts = (ms: Message[]) => ms.filter((m) => m.role === 'user').map((m) => (m.role === 'user' ? (m.content[0] as { text: string }).text : ''));

describe('trees', () => {
  it('forks a fork: afterOp counts the parent session own ops', () => {
    const plan = importText(
      jsonl(
        header(3),
        msg('r1', null, 1, piUser('root', 1)),
        msg('r2', 'r1', 2, piAssistant([{ type: 'text', text: 'ok' }], 2)),
        msg('a1', 'r2', 3, piUser('A', 3)),
        msg('a2', 'a1', 4, piAssistant([{ type: 'text', text: 'a' }], 4)),
        msg('b1', 'r2', 5, piUser('B', 5)),
        msg('b2', 'b1', 6, piAssistant([{ type: 'text', text: 'b' }], 6)),
        msg('c1', 'b1', 7, piAssistant([{ type: 'text', text: 'c' }], 7)),
      ),
    );
    const [a, b, c] = plan.sessions as [PiPlanSession, PiPlanSession, PiPlanSession];
    expect([a.key, b.key, c.key]).toEqual([`${ID}#a2`, `${ID}#b2`, ID]);
    expect(b.forkOf).toEqual({ sessionKey: a.key, afterOp: 3 }); // r1, r2, usage(r2)
    expect(c.forkOf).toEqual({ sessionKey: b.key, afterOp: 1 }); // B's own op 0: append b1
    expect(userTexts(finalMessages(plan, c.key))).toEqual(['root', 'B']);
    expect(finalMessages(plan, c.key).map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(userTexts(finalMessages(plan, b.key))).toEqual(['root', 'B']);
    expect(userTexts(finalMessages(plan, a.key))).toEqual(['root', 'A']);
  });

  it('plans separate roots (pi resetLeaf) and orphaned entries as independent sessions', () => {
    const plan = importText(
      jsonl(
        header(2),
        msg('x1', null, 1, piUser('first', 1)),
        msg('y1', null, 2, piUser('second', 2)),
        msg('z1', 'missing', 3, piUser('third', 3)),
      ),
    );
    expect(plan.sessions.map((s) => s.forkOf)).toEqual([undefined, undefined, undefined]);
    expect(plan.sessions.map((s) => s.key)).toEqual([`${ID}#x1`, `${ID}#y1`, ID]);
    expect(plan.report.repairs).toEqual([expect.objectContaining({ kind: 'orphan_entry', line: 4 })]);
  });
});

describe('repairs', () => {
  it('a second result for one call becomes a notice (duplicate_tool_result)', () => {
    const plan = importText(
      jsonl(header(), v1(1, piUser('go', 1)), v1(2, piAssistant([piCall('t1'), piCall('t2')], 2, 'toolUse')), v1(3, piResult('t1', 'a', 3)), v1(4, piResult('t1', 'again', 4)), v1(5, piResult('t2', 'b', 5))),
    );
    const messages = finalMessages(plan, ID);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool_results', 'system_notice']);
    expect(plan.report.repairs.map((r) => [r.kind, r.line])).toEqual([
      ['duplicate_tool_result', 5],
      ['moved_after_tool_results', 5],
    ]);
    expect(shapeViolation(messages)).toBeUndefined();
  });

  it('reports a tool name mismatch, an empty user content, a canonicalized image, redacted thinking, v1 links', () => {
    const plan = importText(
      jsonl(
        header(),
        { ...v1(1, { role: 'user', content: [], timestamp: ms(1) }), id: 'x', parentId: null },
        v1(2, { role: 'user', content: [{ type: 'image', data: 'iVBORw0KGgo', mimeType: 'Image/PNG; q=1' }], timestamp: ms(2) }),
        v1(3, piAssistant([{ type: 'thinking', thinking: '[redacted]', thinkingSignature: 'enc', redacted: true }, piCall('t1', 'read')], 3, 'toolUse')),
        v1(4, piResult('t1', 'x', 4, { toolName: 'write' })),
      ),
    );
    expect(plan.report.repairs.map((r) => [r.kind, r.line])).toEqual([
      ['v1_entry_link_ignored', 2],
      ['empty_user_content', 2],
      ['image_canonicalized', 3],
      ['redacted_thinking', 4],
      ['tool_name_mismatch', 5],
    ]);
    const messages = finalMessages(plan, ID);
    expect(messages[0]).toMatchObject({ content: [{ type: 'text', text: '' }] });
    expect(messages[1]).toMatchObject({ content: [{ type: 'image', mediaType: 'image/png', source: { type: 'inline', data: 'iVBORw0KGgo=' } }] });
    expect(messages[2]).toMatchObject({ content: [{ type: 'reasoning', text: '', signature: 'enc' }, { type: 'tool_use', name: 'read' }] });
  });

  it('skips a compaction that would not change the transcript', () => {
    const plan = importText(
      jsonl(
        header(3),
        { type: 'compaction', id: 'c1', parentId: null, timestamp: at(1), summary: 'S', firstKeptEntryId: 'c1', tokensBefore: 5 },
        { type: 'compaction', id: 'c2', parentId: 'c1', timestamp: at(2), summary: 'S', firstKeptEntryId: 'c2', tokensBefore: 5 },
      ),
    );
    expect(plan.sessions[0]!.ops.filter((o) => o.op === 'rewrite')).toHaveLength(1);
    expect(plan.report.repairs.map((r) => [r.kind, r.line])).toEqual([['noop_compaction', 3]]);
  });

  it('holds a compaction recorded between a tool call and its results until after the results', () => {
    const plan = importText(
      jsonl(
        header(),
        v1(1, piUser('one', 1)),
        v1(2, piAssistant([piCall('t1')], 2, 'toolUse')),
        { type: 'compaction', timestamp: at(3), summary: 'S', firstKeptEntryIndex: 2, tokensBefore: 9 },
        v1(4, piResult('t1', 'x', 4)),
      ),
    );
    const messages = finalMessages(plan, ID);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool_results']);
    expect(messages[0]).toMatchObject({ transcriptRole: 'compaction_summary' });
    expect(plan.report.repairs.map((r) => r.kind)).toEqual(['moved_after_tool_results']);
    expect(shapeViolation(messages)).toBeUndefined();
  });

  it('reports a v1 compaction index that names no entry', () => {
    const plan = importText(jsonl(header(), v1(1, piUser('one', 1)), { type: 'compaction', timestamp: at(2), summary: 'S', firstKeptEntryIndex: 0, tokensBefore: 1 }));
    expect(plan.report.repairs.map((r) => r.kind)).toEqual(['compaction_index_invalid', 'compaction_first_kept_missing']);
    expect(finalMessages(plan, ID)).toHaveLength(1);
  });

  it('refuses embedded reserved metadata keys', () => {
    const plan = importText(jsonl(header(), { type: 'custom', timestamp: at(1), customType: 'palimpsest.metadata', data: { ok: 1, 'Palimpsest.x': 2 } }));
    const keys = plan.sessions[0]!.ops.flatMap((o) => (o.op === 'metadata_set' ? [o.key] : []));
    expect(keys).toEqual(['ok']);
    expect(plan.report.repairs).toEqual([expect.objectContaining({ kind: 'reserved_metadata_key', line: 2 })]);
  });
});

describe('plan errors', () => {
  it('refuses duplicate tool call ids in one assistant message', () => {
    const r = importEither(jsonl(header(), v1(1, piAssistant([piCall('t'), piCall('t')], 1, 'toolUse'))), 'dup.jsonl');
    expect(r).toEqual(E.left(expect.objectContaining({ _tag: 'PiPlanError', file: 'dup.jsonl', line: 2, reason: 'duplicate_tool_call_id' })));
  });

  it('refuses a message that does not decode (empty tool call id, non-image attachment)', () => {
    const empty = importEither(jsonl(header(), v1(1, piAssistant([piCall('')], 1, 'toolUse'))), 'e.jsonl');
    expect(empty).toEqual(E.left(expect.objectContaining({ _tag: 'PiPlanError', line: 2, reason: 'invalid_message', path: '$.content[0].id' })));
    const pdf = importEither(jsonl(header(), v1(1, { role: 'user', content: [{ type: 'image', data: 'AAAA', mimeType: 'application/pdf' }] })), 'p.jsonl');
    expect(pdf).toEqual(E.left(expect.objectContaining({ _tag: 'PiPlanError', line: 2, reason: 'invalid_message' })));
  });
});
