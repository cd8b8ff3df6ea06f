/**
 * `checkCompactor`: a correct compaction strategy passes; deliberately broken
 * ones are caught with the invariant they break named, on a shrunk
 * counterexample that reproduces from the reported seed and path.
 */
import { describe, expect, it } from 'vitest';
import { compactionSummary, transcriptDigest, type Message } from '../../src/model/index.ts';
import type { TranscriptRewriteRequest } from '../../src/transcript/index.ts';
import { assertCompactor, checkCompaction, checkCompactor, CompactorInvariantError, leadingSystemMessages, type Compactor, type CompactorInvariant } from '../../src/testing/index.ts';

const summaryOf = (ms: readonly Message[]) => compactionSummary(`summary of ${ms.length} messages ${transcriptDigest(ms)}`);

const request = (start: number, end: number, replacement: TranscriptRewriteRequest['replacement']): TranscriptRewriteRequest => ({
  selection: { type: 'message_range', start, end },
  replacement,
  reason: { kind: 'compaction' },
});

/** Keeps the system prompt and the last two messages; cuts only where no tool results follow. */
const correct: Compactor = (ms) => {
  const start = leadingSystemMessages(ms);
  let end = ms.length - 2;
  while (end > start && ms[end]?.role === 'tool_results') end--;
  return end > start ? request(start, end, [summaryOf(ms.slice(start, end))]) : undefined;
};

/** Cuts at a fixed distance from the end, ignoring tool pairing. */
const cutsThroughToolResults: Compactor = (ms) => {
  const start = leadingSystemMessages(ms);
  const end = ms.length - 1;
  return end > start ? request(start, end, [summaryOf(ms.slice(start, end))]) : undefined;
};

/** Drops the last tool results to save tokens, keeping the call. */
const dropsToolResults: Compactor = (ms) => {
  const i = ms.map((m) => m.role).lastIndexOf('tool_results');
  return i < 0 ? undefined : request(i, i + 1, []);
};

/** Summarizes everything, the system prompt included. */
const eatsSystemPrompt: Compactor = (ms) => (ms.length > 0 ? request(0, ms.length, [summaryOf(ms)]) : undefined);

/** Summarizes from after the system prompt to the very end. */
const eatsLastMessage: Compactor = (ms) => {
  const start = leadingSystemMessages(ms);
  return ms.length > start ? request(start, ms.length, [summaryOf(ms.slice(start))]) : undefined;
};

/** Rewrites the last message to itself. */
const noOp: Compactor = (ms) => (ms.length > 0 ? request(ms.length - 1, ms.length, [ms[ms.length - 1]!]) : undefined);

/** Selects past the end. */
const outOfRange: Compactor = (ms) => request(0, ms.length + 1, [summaryOf(ms)]);

/** Returns a summary message of an unknown role. */
const badMessage: Compactor = (ms) => ({ ...request(0, 0, []), replacement: [{ role: 'summary', text: String(ms.length) }] }) as unknown as TranscriptRewriteRequest;

/** Fails on transcripts holding an image. */
const throwsOnImages: Compactor = async (ms) => {
  if (ms.some((m) => m.role === 'user' && m.content.some((b) => b.type === 'image'))) throw new Error('cannot summarize images');
  return correct(ms);
};

describe('checkCompactor', () => {
  it('passes a correct compactor over generated transcripts and counts what it did', async () => {
    const report = await checkCompactor(correct, { numRuns: 150, keepSuffix: 2 });
    expect(report).toMatchObject({ ok: true, runs: 150 });
    if (!report.ok) return;
    expect(report.compacted + report.declined).toBe(150);
    expect(report.compacted).toBeGreaterThan(20);
  });

  // [what it does, compactor, invariant it must be caught on, keepSuffix, most messages of the shrunk counterexample]
  const broken: ReadonlyArray<readonly [string, Compactor, CompactorInvariant, number, number]> = [
    ['cuts through tool results', cutsThroughToolResults, 'orphaned_tool_result', 0, 3],
    ['drops tool results', dropsToolResults, 'dangling_tool_call', 0, 3],
    ['eats the system prompt', eatsSystemPrompt, 'changed_prefix', 0, 3],
    ['eats the last message', eatsLastMessage, 'changed_suffix', 1, 2],
    ['rewrites to the same', noOp, 'no_op', 0, 2],
    ['selects past the end', outOfRange, 'invalid_record', 0, 2],
    ['returns an invalid message', badMessage, 'invalid_record', 0, 2],
    ['throws on images', throwsOnImages, 'compactor_threw', 0, 3],
  ];

  for (const [name, compactor, invariant, keepSuffix, most] of broken) {
    it(`catches a compactor that ${name}: ${invariant} on a shrunk counterexample`, async () => {
      // a fixed seed: shrinking through `chain` (tool exchanges) reaches different minima from different seeds
      const report = await checkCompactor(compactor, { numRuns: 300, keepSuffix, seed: 20261203 });
      expect(report.ok).toBe(false);
      if (report.ok) return;
      expect(report.violation.invariant).toBe(invariant);
      expect(report.violation.transcript.length).toBeLessThanOrEqual(most);
      expect(report.shrinks).toBeGreaterThanOrEqual(0);
      // the same counterexample again, from the reported seed and path
      const again = await checkCompactor(compactor, { numRuns: 300, keepSuffix, seed: report.seed, path: report.path });
      expect(again.ok === false && again.violation.transcript).toEqual(report.violation.transcript);
      expect(await checkCompaction(compactor, report.violation.transcript, { keepSuffix })).toMatchObject({ invariant });
    });
  }

  it('names the message where pairing breaks', async () => {
    const ms: Message[] = [
      { role: 'user', content: [{ type: 'text', text: 'go' }], transcriptRole: 'conversational', createdAt: 1 },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'c1', name: 'ls', args: {} }], stopReason: 'tool_use', createdAt: 2 },
      { role: 'tool_results', results: [{ toolUseId: 'c1', content: [], isError: false }], createdAt: 3 },
    ];
    expect(await checkCompaction(cutsThroughToolResults, ms)).toMatchObject({
      invariant: 'orphaned_tool_result',
      message: 'result message 1: tool_results at message 1 resolves "c1", which follows no tool call',
    });
    expect(await checkCompaction(dropsToolResults, ms)).toMatchObject({ invariant: 'dangling_tool_call', message: 'result message 1: tool calls ["c1"] of the last message (1) have no results' });
    expect(await checkCompaction(correct, ms)).toBeUndefined();
    expect(await checkCompaction(correct, ms.slice(0, 1))).toBe('declined');
  });

  it('assertCompactor resolves for a correct compactor and throws a readable error for a broken one', async () => {
    await expect(assertCompactor(correct, { numRuns: 50, keepSuffix: 2 })).resolves.toBeUndefined();
    const err = await assertCompactor(dropsToolResults, { numRuns: 200, seed: 20261203 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CompactorInvariantError);
    const e = err as CompactorInvariantError;
    expect(e.report.violation.invariant).toBe('dangling_tool_call');
    expect(e.message).toMatch(/^compactor broke dangling_tool_call: result message \d+: tool calls/);
    expect(e.message).toContain(`replay with { seed: ${e.report.seed}, path: ${JSON.stringify(e.report.path)} }`);
  });
});
