/**
 * The bundled real pi session (README §7): a version 1 file with 914 messages,
 * 391 tool calls and 373 tool results. Every expected figure here is computed
 * from the raw JSONL with JSON.parse, independently of the adapter.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, type Message } from '../../../src/model/message.ts';
import { transcriptDigest } from '../../../src/model/digest.ts';
import { addUsage, emptyUsage } from '../../../src/model/usage.ts';
import { exportPiJsonl } from '../../../src/adapters/pi/export.ts';
import type { PiImportPlan, PiPlanSession } from '../../../src/adapters/pi/plan.ts';
import { finalMessages, finalMetadata, importText, shapeViolation, usageOpsSum } from './helpers.ts';

const FILE = fileURLToPath(new URL('../../../data/pi-large-session.jsonl', import.meta.url));
const text = readFileSync(FILE, 'utf8');

type Raw = Record<string, any>;
/** Independent reading of the raw file: every non-blank line with its 1-based number. */
const rawLines: Array<{ line: number; value: Raw }> = text
  .split('\n')
  .map((l, i) => ({ l, line: i + 1 }))
  .filter(({ l }) => l.trim() !== '')
  .map(({ l, line }) => ({ line, value: JSON.parse(l) as Raw }));
const rawEntries = rawLines.slice(1);
const rawMessages = rawEntries.filter((e) => e.value['type'] === 'message');
const rawAssistants = rawMessages.filter((e) => e.value['message'].role === 'assistant');
const rawCalls = rawAssistants.flatMap((e) =>
  (e.value['message'].content as Raw[]).filter((b) => b['type'] === 'toolCall').map((b) => ({ line: e.line, id: b['id'] as string, partial: 'partialJson' in b })),
);
const rawResults = rawMessages.filter((e) => e.value['message'].role === 'toolResult');
const answered = new Set(rawResults.map((e) => e.value['message'].toolCallId as string));
const unanswered = rawCalls.filter((c) => !answered.has(c.id));
const rawNonMessages = rawEntries.filter((e) => e.value['type'] !== 'message');
const rawUsers = rawMessages.filter((e) => e.value['message'].role === 'user');
const assistantsWithCalls = rawAssistants.filter((e) => (e.value['message'].content as Raw[]).some((b) => b['type'] === 'toolCall'));

describe('the bundled real pi session', () => {
  let plan: PiImportPlan;
  let session: PiPlanSession;
  let messages: Message[];

  beforeAll(() => {
    plan = importText(text, 'pi-large-session.jsonl');
    session = plan.sessions[0]!;
    messages = finalMessages(plan, session.key);
  });

  it('has the documented raw figures', () => {
    expect(rawMessages.length).toBe(914);
    expect(rawCalls.length).toBe(391);
    expect(rawResults.length).toBe(373);
    expect(unanswered.length).toBe(391 - 373);
  });

  it('reports the same counts as the raw file', () => {
    const r = plan.report;
    expect(r.file).toBe('pi-large-session.jsonl');
    expect(r.version).toBe(1);
    expect(r.entries).toBe(rawEntries.length);
    expect(r.messages).toBe(rawMessages.length);
    expect(r.toolCalls).toBe(rawCalls.length);
    expect(r.toolResults).toBe(rawResults.length);
    expect(r.sessions).toBe(1);
    expect(r.warnings).toEqual([]);
  });

  it('is one linear session keyed by the pi id, with header metadata', () => {
    expect(plan.sessions).toHaveLength(1);
    expect(session.key).toBe(rawLines[0]!.value['id']);
    expect(session.forkOf).toBeUndefined();
    const h = rawLines[0]!.value;
    expect(session.metadata).toMatchObject({
      'pi.sessionId': h['id'],
      'pi.version': 1,
      'pi.cwd': h['cwd'],
      'pi.provider': h['provider'],
      'pi.modelId': h['modelId'],
      'pi.thinkingLevel': h['thinkingLevel'],
    });
    for (const k of Object.keys(finalMetadata(session))) expect(k.toLowerCase().startsWith('palimpsest')).toBe(false);
    // The last thinking level change wins.
    const lastLevel = [...rawNonMessages].reverse().find((e) => e.value['type'] === 'thinking_level_change')!.value['thinkingLevel'];
    expect(finalMetadata(session)['pi.thinkingLevel']).toBe(lastLevel);
  });

  it('repairs every aborted tool call with an isError result, reported with the line of its call', () => {
    const aborted = plan.report.repairs.filter((r) => r.kind === 'aborted_tool_call');
    expect(aborted.length).toBe(unanswered.length);
    expect(aborted.map((r) => [r.toolUseId, r.line]).sort()).toEqual(unanswered.map((c) => [c.id, c.line]).sort());
    const results = messages.flatMap((m) => (m.role === 'tool_results' ? m.results : []));
    expect(results.length).toBe(rawCalls.length);
    const inserted = results.filter((r) => !answered.has(r.toolUseId));
    expect(inserted.length).toBe(unanswered.length);
    for (const r of inserted) {
      expect(r.isError).toBe(true);
      expect(JSON.stringify(r.content)).toMatch(/aborted/);
    }
  });

  it('reports the dropped streaming residue and nothing unexplained', () => {
    const residue = plan.report.repairs.filter((r) => r.kind === 'streaming_residue');
    expect(residue.map((r) => [r.toolUseId, r.line]).sort()).toEqual(rawCalls.filter((c) => c.partial).map((c) => [c.id, c.line]).sort());
    const lineCount = text.split('\n').length;
    for (const r of plan.report.repairs) {
      expect(r.line).toBeGreaterThanOrEqual(1);
      expect(r.line).toBeLessThanOrEqual(lineCount);
      expect(r.message).toContain(`pi-large-session.jsonl:${r.line}:`);
    }
    expect(new Set(plan.report.repairs.map((r) => r.kind))).toEqual(new Set(['aborted_tool_call', 'streaming_residue']));
  });

  it('maps every pi message and entry onto palimpsest messages', () => {
    const count = (role: Message['role']) => messages.filter((m) => m.role === role).length;
    expect(count('user')).toBe(rawUsers.length);
    expect(count('assistant')).toBe(rawAssistants.length);
    expect(count('tool_results')).toBe(assistantsWithCalls.length);
    expect(count('system_notice')).toBe(rawNonMessages.length);
    expect(messages.length).toBe(rawUsers.length + rawAssistants.length + assistantsWithCalls.length + rawNonMessages.length);
    const kinds = new Set(messages.filter((m) => m.role === 'system_notice').map((m) => (m as { kind: string }).kind));
    expect(kinds).toEqual(new Set(rawNonMessages.map((e) => e.value['type'] as string)));
    expect(messages.some((m) => m.role === 'assistant' && m.content.some((b) => b.type === 'reasoning' && b.signature !== undefined))).toBe(true);
  });

  it('emits only messages that decode with MessageCodec', () => {
    for (const op of session.ops) {
      if (op.op !== 'append') continue;
      for (const m of op.messages) expect(E.isRight(decodeMessage(JSON.parse(JSON.stringify(m))))).toBe(true);
    }
  });

  it('ends with a shape-valid transcript, and every append keeps it valid', () => {
    expect(shapeViolation(messages)).toBeUndefined();
    // Incremental rule: nothing but tool_results may follow an assistant message with unresolved tool uses.
    const sofar: Message[] = [];
    for (const op of session.ops) {
      if (op.op !== 'append') continue;
      for (const m of op.messages) {
        const prev = sofar[sofar.length - 1];
        if (prev?.role === 'assistant' && prev.content.some((b) => b.type === 'tool_use')) expect(m.role).toBe('tool_results');
        sofar.push(m);
      }
    }
  });

  it('maps usage: inputTokens = input + cacheRead + cacheWrite; usage ops sum to the messages usage', () => {
    const raw = rawAssistants.map((e) => e.value['message'].usage as Raw);
    const assistants = messages.filter((m): m is Extract<Message, { role: 'assistant' }> => m.role === 'assistant');
    assistants.forEach((m, i) => {
      const u = raw[i]!;
      expect(m.usage).toEqual({ inputTokens: u['input'] + u['cacheRead'] + u['cacheWrite'], outputTokens: u['output'], cacheCreationTokens: u['cacheWrite'], cacheReadTokens: u['cacheRead'] });
    });
    const sum = assistants.reduce((acc, m) => addUsage(acc, m.usage ?? emptyUsage), emptyUsage);
    expect(usageOpsSum(session)).toEqual(sum);
    expect(sum.outputTokens).toBe(raw.reduce((a, u) => a + (u['output'] as number), 0));
  });

  it('keeps op times monotonic and not before createdAt', () => {
    let last = session.createdAt;
    for (const op of session.ops) {
      expect(op.at).toBeGreaterThanOrEqual(last);
      last = op.at;
    }
  });

  it('export → re-import gives the same digest', () => {
    const out = exportPiJsonl({ sessionId: session.key, createdAt: session.createdAt, metadata: finalMetadata(session), messages });
    const lines = out.trimEnd().split('\n').map((l) => JSON.parse(l) as Raw);
    expect(lines[0]).toMatchObject({ type: 'session', version: 3, id: session.key });
    // v3: every entry has an id and a parentId chaining to the previous one.
    lines.slice(1).forEach((e, i) => {
      expect(typeof e['id']).toBe('string');
      expect(e['parentId']).toBe(i === 0 ? null : lines[i]!['id']);
    });
    // toolName recovered from the call.
    const names = new Map(rawCalls.map((c) => [c.id, '']));
    for (const e of rawAssistants) for (const b of e.value['message'].content as Raw[]) if (b['type'] === 'toolCall') names.set(b['id'], b['name']);
    for (const e of lines) if (e['type'] === 'message' && e['message'].role === 'toolResult') expect(e['message'].toolName).toBe(names.get(e['message'].toolCallId));
    const again = importText(out, 'exported.jsonl');
    expect(again.sessions).toHaveLength(1);
    expect(again.report.version).toBe(3);
    const back = finalMessages(again, again.sessions[0]!.key);
    expect(back.length).toBe(messages.length);
    expect(transcriptDigest(back)).toBe(transcriptDigest(messages));
    // The repairs were made once: the exported file needs none.
    expect(again.report.repairs).toEqual([]);
    expect(usageOpsSum(again.sessions[0]!)).toEqual(usageOpsSum(session));
  });
});
