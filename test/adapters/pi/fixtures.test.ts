/**
 * Small hand-written pi files (versions 1, 2 and 3) for the rules the real session
 * does not exercise: trees and forks, compactions, hookMessage vs custom, notices
 * moved after tool results, orphan results, unknown entries, malformed lines.
 */
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { decodeMessage, type Message } from '../../../src/model/message.ts';
import { transcriptDigest } from '../../../src/model/digest.ts';
import { parsePiJsonl } from '../../../src/adapters/pi/parse.ts';
import { exportPiJsonl } from '../../../src/adapters/pi/export.ts';
import type { PiImportPlan, PiPlanSession } from '../../../src/adapters/pi/plan.ts';
import { at, finalMessages, finalMetadata, importEither, importText, jsonl, ms, piAssistant, piCall, piResult, piUser, shapeViolation, usageOpsSum } from './helpers.ts';

const ID = '11111111-2222-3333-4444-555555555555';
const header = (version?: number, extra: Record<string, unknown> = {}) => ({
  type: 'session',
  ...(version !== undefined ? { version } : {}),
  id: ID,
  timestamp: at(0),
  cwd: '/work/project',
  ...extra,
});

/** v2/v3 entry with tree links. */
const ent = (id: string, parentId: string | null, n: number, body: Record<string, unknown>) => ({ ...body, id, parentId, timestamp: at(n) });
const msg = (id: string, parentId: string | null, n: number, message: unknown) => ent(id, parentId, n, { type: 'message', message });

/** Checks the invariants every plan must hold: decodable messages, shape-valid results, round trip through export. */
const checkPlan = (plan: PiImportPlan): void => {
  for (const s of plan.sessions) {
    for (const op of s.ops) {
      const messages = op.op === 'append' ? op.messages : op.op === 'rewrite' ? op.replacement : [];
      for (const m of messages) expect(E.isRight(decodeMessage(JSON.parse(JSON.stringify(m))))).toBe(true);
      if (op.op === 'metadata_set') expect(op.key.toLowerCase().startsWith('palimpsest')).toBe(false);
    }
    const messages = finalMessages(plan, s.key);
    expect(shapeViolation(messages)).toBeUndefined();
    const out = exportPiJsonl({ sessionId: s.key, createdAt: s.createdAt, metadata: finalMetadata(s), messages });
    const again = importText(out, 'exported.jsonl');
    expect(again.sessions).toHaveLength(1);
    expect(transcriptDigest(finalMessages(again, again.sessions[0]!.key))).toBe(transcriptDigest(messages));
  }
};

const notices = (ms: Message[]) => ms.filter((m): m is Extract<Message, { role: 'system_notice' }> => m.role === 'system_notice');
const kinds = (plan: PiImportPlan) => plan.report.repairs.map((r) => r.kind);

describe('version 1 fixture', () => {
  const file = jsonl(
    header(undefined, { provider: 'anthropic', modelId: 'claude-sonnet-4-5', thinkingLevel: 'off' }),
    { type: 'message', timestamp: at(1), message: piUser('list files', 1) },
    { type: 'message', timestamp: at(2), message: piAssistant([{ type: 'thinking', thinking: 'hmm', thinkingSignature: 'sig' }, piCall('t1'), piCall('t2', 'read', { path: 'a' })], 2, 'toolUse') },
    { type: 'message', timestamp: at(3), message: piResult('t1', 'a\nb', 3, { details: null }) },
    { type: 'thinking_level_change', timestamp: at(4), thinkingLevel: 'high' },
    { type: 'message', timestamp: at(5), message: piResult('t2', 'contents', 5, { toolName: 'read', details: { diff: '+x' } }) },
    { type: 'message', timestamp: at(6), message: piAssistant([{ type: 'text', text: 'done', textSignature: 'ts' }], 6) },
    { type: 'model_change', timestamp: at(7), provider: 'openai', modelId: 'gpt-5' },
    { type: 'message', timestamp: at(8), message: { role: 'hookMessage', customType: 'todo', content: 'remember', display: true, timestamp: ms(8) } },
    { type: 'message', timestamp: at(9), message: { role: 'bashExecution', command: 'ls', output: 'a', exitCode: 1, cancelled: false, truncated: false, timestamp: ms(9) } },
    { type: 'message', timestamp: at(10), message: piResult('zz', 'stray', 10) },
    { type: 'message', timestamp: at(11), message: piUser('next', 11) },
  );

  it('maps messages, groups results, moves the notice recorded between call and result', () => {
    const plan = importText(file, 'v1.jsonl');
    expect(plan.report).toMatchObject({ version: 1, entries: 11, messages: 9, toolCalls: 2, toolResults: 3, sessions: 1 });
    expect(plan.sessions[0]!.key).toBe(ID);
    const messages = finalMessages(plan, ID);
    expect(messages.map((m) => (m.role === 'system_notice' ? `notice:${m.kind}` : m.role))).toEqual([
      'user',
      'assistant',
      'tool_results',
      'notice:thinking_level_change',
      'assistant',
      'notice:model_change',
      'notice:custom_message',
      'notice:bash_execution',
      'notice:orphan_tool_result',
      'user',
    ]);
    const a = messages[1] as Extract<Message, { role: 'assistant' }>;
    expect(a.content[0]).toEqual({ type: 'reasoning', text: 'hmm', signature: 'sig' });
    expect(a.content[1]).toEqual({ type: 'tool_use', id: 't1', name: 'bash', args: { command: 'ls' } });
    expect(a.stopReason).toBe('tool_use');
    expect(a.origin).toEqual({ provider: 'anthropic', model: 'claude-sonnet-4-5', api: 'anthropic-messages' });
    expect(a.usage).toEqual({ inputTokens: 12 + 2 + 1, outputTokens: 5, cacheCreationTokens: 1, cacheReadTokens: 2 });
    const tr = messages[2] as Extract<Message, { role: 'tool_results' }>;
    expect(tr.createdAt).toBe(ms(3));
    expect(tr.results).toEqual([
      { toolUseId: 't1', content: [{ type: 'text', text: 'a\nb' }], isError: false },
      { toolUseId: 't2', content: [{ type: 'text', text: 'contents' }], isError: false, details: { diff: '+x' } },
    ]);
    const done = messages[4] as Extract<Message, { role: 'assistant' }>;
    expect(done.content).toEqual([{ type: 'text', text: 'done', signature: 'ts' }]);
    expect(done.stopReason).toBe('end_turn');
    const moved = plan.report.repairs.find((r) => r.kind === 'moved_after_tool_results');
    expect(moved).toMatchObject({ line: 5 });
    expect(plan.report.repairs.find((r) => r.kind === 'orphan_tool_result')).toMatchObject({ line: 11, toolUseId: 'zz' });
    const n = notices(messages);
    expect(n[0]!.data).toEqual({ type: 'thinking_level_change', timestamp: at(4), thinkingLevel: 'high' });
    expect(n[2]!.data).toMatchObject({ type: 'message', message: { role: 'custom', customType: 'todo' } });
    expect(n[3]!.text).toContain('Command exited with code 1');
    expect(finalMetadata(plan.sessions[0]!)).toMatchObject({ 'pi.provider': 'openai', 'pi.modelId': 'gpt-5', 'pi.thinkingLevel': 'high', 'pi.version': 1 });
    checkPlan(plan);
  });

  it('orders metadata and usage ops with the messages, times monotonic', () => {
    const s = importText(file).sessions[0]!;
    expect(s.createdAt).toBe(ms(0));
    expect(s.ops.filter((o) => o.op === 'usage')).toHaveLength(2);
    expect(usageOpsSum(s)).toEqual({ inputTokens: 15 + 19, outputTokens: 10, cacheCreationTokens: 2, cacheReadTokens: 4 });
    const metaOps = s.ops.filter((o) => o.op === 'metadata_set');
    expect(metaOps.map((o) => (o.op === 'metadata_set' ? [o.key, o.value] : []))).toEqual([
      ['pi.thinkingLevel', 'high'],
      ['pi.provider', 'openai'],
      ['pi.modelId', 'gpt-5'],
    ]);
    let last = s.createdAt;
    for (const op of s.ops) {
      expect(op.at).toBeGreaterThanOrEqual(last);
      last = op.at;
    }
  });

  it('turns a v1 compaction (firstKeptEntryIndex, header at 0) into a rewrite', () => {
    const text = jsonl(
      header(),
      { type: 'message', timestamp: at(1), message: piUser('one', 1) },
      { type: 'message', timestamp: at(2), message: piAssistant([{ type: 'text', text: 'r1' }], 2) },
      { type: 'message', timestamp: at(3), message: piUser('two', 3) },
      { type: 'message', timestamp: at(4), message: piAssistant([{ type: 'text', text: 'r2' }], 4) },
      { type: 'compaction', timestamp: at(5), summary: 'talked about one', firstKeptEntryIndex: 3, tokensBefore: 4321 },
      { type: 'message', timestamp: at(6), message: piUser('three', 6) },
    );
    const plan = importText(text);
    const s = plan.sessions[0]!;
    const rewrite = s.ops.find((o) => o.op === 'rewrite');
    expect(rewrite).toMatchObject({ op: 'rewrite', start: 0, end: 2, reason: { kind: 'compaction' } });
    if (rewrite?.op !== 'rewrite') throw new Error('no rewrite');
    expect(rewrite.reason.note).toContain('4321');
    expect(rewrite.replacement).toEqual([{ role: 'user', content: [{ type: 'text', text: 'talked about one' }], transcriptRole: 'compaction_summary', createdAt: ms(5) }]);
    const messages = finalMessages(plan, ID);
    expect(messages.map((m) => (m.role === 'user' ? (m.content[0] as { text: string }).text : m.role))).toEqual(['talked about one', 'two', 'assistant', 'three']);
    expect(finalMetadata(s)['pi.compaction']).toMatchObject({ tokensBefore: 4321, firstKeptEntryIndex: 3 });
    checkPlan(plan);
  });

  it('repairs a tool call still open at the end of the file', () => {
    const text = jsonl(
      header(),
      { type: 'message', timestamp: at(1), message: piUser('go', 1) },
      { type: 'message', timestamp: at(2), message: piAssistant([piCall('t1'), piCall('t2')], 2, 'toolUse') },
      { type: 'message', timestamp: at(3), message: piResult('t1', 'ok', 3) },
      { type: 'thinking_level_change', timestamp: at(4), thinkingLevel: 'low' },
    );
    const plan = importText(text);
    const messages = finalMessages(plan, ID);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool_results', 'system_notice']);
    const tr = messages[2] as Extract<Message, { role: 'tool_results' }>;
    expect(tr.results.map((r) => [r.toolUseId, r.isError])).toEqual([
      ['t1', false],
      ['t2', true],
    ]);
    expect(plan.report.repairs.filter((r) => r.kind === 'aborted_tool_call')).toEqual([expect.objectContaining({ line: 3, toolUseId: 't2' })]);
    expect(plan.report.repairs.filter((r) => r.kind === 'moved_after_tool_results')).toEqual([expect.objectContaining({ line: 5 })]);
    checkPlan(plan);
  });
});

describe('version 2 tree fixture: two branches become two sessions', () => {
  // a1 user ─ a2 assistant ─ a3 user ─ a4 assistant(call t1) ─ a5 result ─ a6 assistant   (branch 1, leaf a6)
  //                       └ b1 branch_summary ─ b2 user ─ b3 assistant                  (branch 2, leaf b3, last line)
  const file = jsonl(
    header(2),
    msg('a1', null, 1, piUser('hi', 1)),
    msg('a2', 'a1', 2, piAssistant([{ type: 'text', text: 'hello' }], 2)),
    msg('a3', 'a2', 3, piUser('do X', 3)),
    msg('a4', 'a3', 4, piAssistant([piCall('t1')], 4, 'toolUse')),
    msg('a5', 'a4', 5, piResult('t1', 'x done', 5)),
    msg('a6', 'a5', 6, piAssistant([{ type: 'text', text: 'did X' }], 6)),
    ent('b1', 'a2', 7, { type: 'branch_summary', fromId: 'a6', summary: 'tried X' }),
    msg('b2', 'b1', 8, piUser('do Y instead', 8)),
    msg('b3', 'b2', 9, piAssistant([{ type: 'text', text: 'did Y' }], 9)),
  );

  it('plans the older branch first and forks the newer one at the branch point', () => {
    const plan = importText(file, 'tree.jsonl');
    expect(plan.report).toMatchObject({ version: 2, sessions: 2, messages: 8 });
    const [first, second] = plan.sessions as [PiPlanSession, PiPlanSession];
    expect(first.key).toBe(`${ID}#a6`);
    expect(first.forkOf).toBeUndefined();
    expect(second.key).toBe(ID); // the branch holding the file's last entry
    // Parent ops up to the branch point: append a1, append a2, usage a2.
    expect(first.ops.slice(0, 3).map((o) => o.op)).toEqual(['append', 'append', 'usage']);
    expect(second.forkOf).toEqual({ sessionKey: first.key, afterOp: 3 });
    expect(second.ops.map((o) => o.op)).toEqual(['append', 'append', 'append', 'usage']);
    expect(second.createdAt).toBe(ms(7));
    const texts = (ms: Message[]) => ms.map((m) => (m.role === 'user' ? (m.content[0] as { text: string }).text : m.role === 'assistant' ? `A:${(m.content[0] as { text?: string }).text ?? 'call'}` : m.role));
    expect(texts(finalMessages(plan, first.key))).toEqual(['hi', 'A:hello', 'do X', 'A:call', 'tool_results', 'A:did X']);
    expect(texts(finalMessages(plan, second.key))).toEqual(['hi', 'A:hello', 'system_notice', 'do Y instead', 'A:did Y']);
    const summary = notices(finalMessages(plan, second.key))[0]!;
    expect(summary.kind).toBe('branch_summary');
    expect(summary.data).toEqual({ type: 'branch_summary', timestamp: at(7), fromId: 'a6', summary: 'tried X' });
    expect(summary.text).toContain('tried X');
    // A fork's metadata is its parent's at the fork point; usage is inherited (full fork).
    expect(second.metadata).toEqual(first.metadata);
    checkPlan(plan);
  });

  it('forks before a branch point that falls between a tool call and its results', () => {
    const text = jsonl(
      header(2),
      msg('a1', null, 1, piUser('go', 1)),
      msg('a2', 'a1', 2, piAssistant([piCall('t1')], 2, 'toolUse')),
      msg('a3', 'a2', 3, piResult('t1', 'ok', 3)),
      msg('a4', 'a3', 4, piAssistant([{ type: 'text', text: 'fine' }], 4)),
      ent('c1', 'a2', 5, { type: 'label', targetId: 'a2', label: 'retry here' }),
      msg('c2', 'c1', 6, piUser('again', 6)),
    );
    const plan = importText(text);
    const [first, second] = plan.sessions as [PiPlanSession, PiPlanSession];
    // Shared: append a1, append a2, usage a2; the tool_results differ (real vs aborted).
    expect(second.forkOf).toEqual({ sessionKey: first.key, afterOp: 3 });
    const child = finalMessages(plan, second.key);
    expect(child.map((m) => m.role)).toEqual(['user', 'assistant', 'tool_results', 'system_notice', 'user']);
    expect((child[2] as Extract<Message, { role: 'tool_results' }>).results[0]!.isError).toBe(true);
    expect(kinds(plan)).toEqual(expect.arrayContaining(['aborted_tool_call', 'moved_after_tool_results']));
    checkPlan(plan);
  });

  it('refuses a version 2 entry without links and duplicate ids', () => {
    const noLinks = parsePiJsonl(jsonl(header(2), { type: 'message', timestamp: at(1), message: piUser('x', 1) }), 'v2.jsonl');
    expect(noLinks).toEqual(E.left(expect.objectContaining({ _tag: 'PiParseError', file: 'v2.jsonl', line: 2, reason: 'missing_entry_id' })));
    const dup = parsePiJsonl(jsonl(header(2), msg('a', null, 1, piUser('x', 1)), msg('a', 'a', 2, piUser('y', 2))), 'v2.jsonl');
    expect(dup).toEqual(E.left(expect.objectContaining({ line: 3, reason: 'duplicate_entry_id' })));
    const cycle = parsePiJsonl(jsonl(header(2), msg('a', 'b', 1, piUser('x', 1)), msg('b', 'a', 2, piUser('y', 2))), 'v2.jsonl');
    expect(cycle).toEqual(E.left(expect.objectContaining({ reason: 'tree_cycle' })));
  });
});

describe('version 3 fixture', () => {
  const file = jsonl(
    header(3),
    msg('e1', null, 1, piUser('one', 1)),
    msg('e2', 'e1', 2, piAssistant([{ type: 'text', text: 'r1' }], 2)),
    msg('e3', 'e2', 3, piUser('two', 3)),
    msg('e4', 'e3', 4, piAssistant([piCall('t9')], 4, 'toolUse')),
    msg('e5', 'e4', 5, piResult('t9', 'out', 5)),
    msg('e6', 'e5', 6, piAssistant([{ type: 'text', text: 'r2' }], 6)),
    ent('e7', 'e6', 7, { type: 'compaction', summary: 'S', firstKeptEntryId: 'e3', tokensBefore: 1234, details: { readFiles: ['a.ts'] } }),
    msg('e8', 'e7', 8, { role: 'custom', customType: 'note', content: [{ type: 'text', text: 'injected' }], display: false, details: { k: 1 }, timestamp: ms(8) }),
    ent('e9', 'e8', 9, { type: 'custom_message', customType: 'ext', content: 'hello', display: true }),
    ent('e10', 'e9', 10, { type: 'custom', customType: 'state', data: { n: 1 } }),
    ent('e11', 'e10', 11, { type: 'label', targetId: 'e3' }),
    ent('e12', 'e11', 12, { type: 'session_info', name: 'Refactor' }),
    ent('e13', 'e12', 13, { type: 'future_thing', payload: [1, 2] }),
    msg('e14', 'e13', 14, { role: 'branchSummary', summary: 'bs', fromId: 'e2', timestamp: ms(14) }),
    msg('e15', 'e14', 15, piUser('three', 15)),
  );

  it('compacts with a rewrite before the first kept message and keeps every other entry', () => {
    const plan = importText(file, 'v3.jsonl');
    const s = plan.sessions[0]!;
    expect(s.key).toBe(ID);
    const rewrite = s.ops.find((o) => o.op === 'rewrite');
    expect(rewrite).toMatchObject({ start: 0, end: 2, reason: { kind: 'compaction', note: expect.stringContaining('1234') } });
    const messages = finalMessages(plan, ID);
    expect(messages[0]).toMatchObject({ role: 'user', transcriptRole: 'compaction_summary', content: [{ type: 'text', text: 'S' }] });
    expect(messages.slice(1, 5).map((m) => m.role)).toEqual(['user', 'assistant', 'tool_results', 'assistant']);
    expect(notices(messages).map((n) => n.kind)).toEqual(['custom_message', 'custom_message', 'custom', 'label', 'session_info', 'pi_entry', 'branch_summary']);
    expect(notices(messages)[5]!.data).toEqual({ type: 'future_thing', timestamp: at(13), payload: [1, 2] });
    expect(plan.report.repairs).toEqual([expect.objectContaining({ kind: 'unknown_entry', line: 14 })]);
    expect(finalMetadata(s)).toMatchObject({ 'pi.name': 'Refactor', 'pi.compaction': { tokensBefore: 1234, firstKeptEntryId: 'e3', details: { readFiles: ['a.ts'] } } });
    checkPlan(plan);
  });

  it('writes unknown entries and notices back as their original entries on export', () => {
    const plan = importText(file);
    const s = plan.sessions[0]!;
    const out = exportPiJsonl({ sessionId: s.key, createdAt: s.createdAt, metadata: finalMetadata(s), messages: finalMessages(plan, s.key) });
    const lines = out.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l['type'] === 'future_thing')).toMatchObject({ payload: [1, 2], timestamp: at(13) });
    expect(lines.find((l) => l['type'] === 'label')).toMatchObject({ targetId: 'e3' });
    expect(lines.find((l) => l['type'] === 'custom')).toMatchObject({ customType: 'state', data: { n: 1 } });
    expect(lines.find((l) => (l['message'] as { role?: string } | undefined)?.role === 'compactionSummary')).toMatchObject({ message: { summary: 'S', tokensBefore: 1234 } });
    expect(lines.some((l) => l['customType'] === 'palimpsest.message')).toBe(false);
  });

  it('moves a compaction cut that falls inside a tool call back to the call', () => {
    const text = file.replace('"firstKeptEntryId":"e3"', '"firstKeptEntryId":"e5"');
    const plan = importText(text);
    const rewrite = plan.sessions[0]!.ops.find((o) => o.op === 'rewrite');
    expect(rewrite).toMatchObject({ start: 0, end: 3 });
    expect(kinds(plan)).toContain('compaction_cut_moved');
    checkPlan(plan);
  });

  it('summarizes everything when the first kept entry is not on the branch (as pi does)', () => {
    const text = file.replace('"firstKeptEntryId":"e3"', '"firstKeptEntryId":"nope"');
    const plan = importText(text);
    expect(plan.sessions[0]!.ops.find((o) => o.op === 'rewrite')).toMatchObject({ start: 0, end: 6 });
    expect(plan.report.repairs.find((r) => r.kind === 'compaction_first_kept_missing')).toMatchObject({ line: 8 });
    checkPlan(plan);
  });
});

describe('hookMessage (v1/v2) and custom (v3) are the same message', () => {
  it('gives the same notice and digest', () => {
    const body = { customType: 'hook', content: 'x', display: true, details: { a: 1 }, timestamp: ms(1) };
    const v2 = importText(jsonl(header(2), msg('h', null, 1, { role: 'hookMessage', ...body })));
    const v3 = importText(jsonl(header(3), msg('h', null, 1, { role: 'custom', ...body })));
    const a = finalMessages(v2, ID);
    const b = finalMessages(v3, ID);
    expect(a).toEqual(b);
    expect(a[0]).toMatchObject({ role: 'system_notice', kind: 'custom_message', text: '[hook] x' });
    expect(transcriptDigest(a)).toBe(transcriptDigest(b));
  });
});

describe('damaged files', () => {
  const good = jsonl(header(3), msg('e1', null, 1, piUser('one', 1)), msg('e2', 'e1', 2, piAssistant([{ type: 'text', text: 'r1' }], 2)));

  it('reports a half-written last line as a warning and imports the rest', () => {
    const text = `${good}{"type":"message","id":"e3","parentId":"e2","timestamp":"2025-01-01T00:0`;
    const plan = importText(text, 'crash.jsonl');
    expect(plan.report.warnings).toEqual([expect.objectContaining({ kind: 'truncated_last_line', line: 4 })]);
    expect(plan.report.warnings[0]!.message).toContain('crash.jsonl:4');
    expect(finalMessages(plan, ID).map((m) => m.role)).toEqual(['user', 'assistant']);
  });

  it('refuses a malformed middle line with file and line', () => {
    const lines = good.split('\n');
    const text = [lines[0], lines[1], '{"type":"message", oops', lines[2], ''].join('\n');
    const r = parsePiJsonl(text, 'broken.jsonl');
    expect(r).toEqual(E.left(expect.objectContaining({ _tag: 'PiParseError', file: 'broken.jsonl', line: 3, reason: 'malformed_json' })));
    if (E.isLeft(r)) expect(r.left.message).toMatch(/^broken\.jsonl:3: /);
  });

  it('refuses a malformed last line that was completely written (newline after it)', () => {
    const r = parsePiJsonl(`${good}{"type": nope}\n`, 'f.jsonl');
    expect(r).toEqual(E.left(expect.objectContaining({ line: 4, reason: 'malformed_json' })));
  });

  it('refuses an unknown message role with file and line', () => {
    const text = `${good}${JSON.stringify(msg('e3', 'e2', 3, { role: 'wizard', spell: 'x', timestamp: ms(3) }))}\n`;
    const r = importEither(text, 'role.jsonl');
    expect(r).toEqual(E.left(expect.objectContaining({ _tag: 'PiParseError', file: 'role.jsonl', line: 4, reason: 'unknown_role' })));
    if (E.isLeft(r)) expect(r.left.message).toContain('wizard');
  });

  it('refuses a line holding a JSON value that is not an entry', () => {
    for (const v of ['42', '"text"', '[1,2]', 'null']) {
      const r = parsePiJsonl(`${good}${v}\n${JSON.stringify(msg('e3', 'e2', 3, piUser('x', 3)))}\n`, 'v.jsonl');
      expect(r).toEqual(E.left(expect.objectContaining({ _tag: 'PiParseError', file: 'v.jsonl', line: 4, reason: 'not_an_object' })));
    }
  });

  it('refuses non-JSON text and non-finite numbers', () => {
    expect(parsePiJsonl(`${good}hello world\n`, 'x.jsonl')).toEqual(E.left(expect.objectContaining({ line: 4, reason: 'malformed_json' })));
    const inf = `${good}${JSON.stringify(msg('e3', 'e2', 3, piAssistant([], 3))).replace('"output":5', '"output":1e999')}\n`;
    expect(parsePiJsonl(inf, 'x.jsonl')).toEqual(E.left(expect.objectContaining({ line: 4, reason: 'invalid_entry', decodeReason: 'invalid_number' })));
  });

  it('refuses unknown fields (strict codecs) with the JSON path', () => {
    const text = `${good}${JSON.stringify(msg('e3', 'e2', 3, { ...piUser('x', 3), mood: 'happy' }))}\n`;
    expect(parsePiJsonl(text, 'x.jsonl')).toEqual(E.left(expect.objectContaining({ line: 4, reason: 'invalid_entry', decodeReason: 'unknown_field', path: '$.message.mood' })));
  });

  it('refuses a missing header, a second header and an unsupported version', () => {
    expect(parsePiJsonl(jsonl(msg('e1', null, 1, piUser('one', 1))), 'h.jsonl')).toEqual(E.left(expect.objectContaining({ line: 1, reason: 'missing_header' })));
    expect(parsePiJsonl('', 'h.jsonl')).toEqual(E.left(expect.objectContaining({ reason: 'missing_header' })));
    expect(parsePiJsonl(`${good}${JSON.stringify(header(3))}\n`, 'h.jsonl')).toEqual(E.left(expect.objectContaining({ line: 4, reason: 'duplicate_header' })));
    expect(parsePiJsonl(jsonl(header(4)), 'h.jsonl')).toEqual(E.left(expect.objectContaining({ line: 1, reason: 'unsupported_version' })));
  });

  it('repairs lone surrogates with toWellFormed and reports them', () => {
    const line = JSON.stringify(msg('e3', 'e2', 3, piUser('bad X end', 3))).replace('X', '\\ud800');
    const plan = importText(`${good}${line}\n`, 's.jsonl');
    const last = finalMessages(plan, ID).at(-1) as Extract<Message, { role: 'user' }>;
    expect(last.content[0]).toEqual({ type: 'text', text: 'bad \ufffd end' });
    expect(plan.report.repairs).toEqual([expect.objectContaining({ kind: 'lone_surrogate', line: 4, message: expect.stringContaining('$.message.content[0].text') })]);
  });

  it('imports a header-only file as an empty session', () => {
    const plan = importText(jsonl(header(3)));
    expect(plan.sessions).toEqual([expect.objectContaining({ key: ID, ops: [], createdAt: ms(0) })]);
  });
});

describe('export of what pi cannot express', () => {
  it('embeds system messages, injected context, structured results and user metadata, and gets them back', () => {
    const messages: Message[] = [
      { role: 'system', text: 'You are helpful.', createdAt: ms(1) },
      { role: 'user', content: [{ type: 'text', text: 'ctx' }], transcriptRole: 'injected_context', createdAt: ms(2) },
      { role: 'user', content: [{ type: 'text', text: 'hi' }], transcriptRole: 'conversational', createdAt: ms(3) },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'c1', name: 'q', args: { a: 1 } }], stopReason: 'tool_use', createdAt: ms(4) },
      { role: 'tool_results', results: [{ toolUseId: 'c1', content: [{ type: 'structured', data: { rows: [1] } }], isError: false }], createdAt: ms(5) },
      { role: 'system_notice', kind: 'background_job', text: 'job done', data: { id: 7 }, createdAt: ms(6) },
      { role: 'assistant', content: [{ type: 'transcript', text: 'spoken words', source: 'spoken' }], stopReason: 'end_turn', createdAt: ms(7) },
    ];
    const out = exportPiJsonl({ sessionId: 'sess', createdAt: ms(0), metadata: { project: 'x', 'pi.cwd': '/w' }, messages });
    const plan = importText(out);
    const s = plan.sessions[0]!;
    expect(transcriptDigest(finalMessages(plan, s.key))).toBe(transcriptDigest(messages));
    expect(finalMetadata(s)).toMatchObject({ project: 'x', 'pi.cwd': '/w' });
    expect(plan.report.repairs).toEqual([]);
  });
});
