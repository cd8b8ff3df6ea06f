/**
 * Property: export to pi JSONL v3, then import, gives the same transcript digest
 * (README §7, model.md §9) for generated shape-valid transcripts, including what
 * pi cannot express (system messages, injected context, structured and spoken
 * blocks, notices of any kind), and the import needs no repair.
 *
 * Outside the property by the spec's own mapping: `stop_sequence` and
 * `content_filter` come back as `end_turn`, and `null` tool-result details come
 * back absent (checked as examples at the end).
 */
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AssistantBlock, ContentBlock, StopReason, ToolResult } from '../../../src/model/content.ts';
import { transcriptDigest } from '../../../src/model/digest.ts';
import type { Json } from '../../../src/model/json.ts';
import { decodeMessages, type Message } from '../../../src/model/message.ts';
import { exportPiJsonl } from '../../../src/adapters/pi/export.ts';
import { PiEntryCodec } from '../../../src/adapters/pi/format.ts';
import { noticeForEntry } from '../../../src/adapters/pi/map.ts';
import { parsePiJsonl } from '../../../src/adapters/pi/parse.ts';
import { planPiImport, plannedMessages } from '../../../src/adapters/pi/plan.ts';
import { decodeWith } from '../../../src/model/decode.ts';

const T0 = Date.UTC(2025, 0, 1);
const time = fc.integer({ min: T0, max: T0 + 10 ** 9 });
const text = fc.string({ maxLength: 12 });
const json: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
const nonNullJson = json.filter((j) => j !== null);

const image: fc.Arbitrary<ContentBlock> = fc
  .record({ bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }), mediaType: fc.constantFrom('image/png', 'image/jpeg', 'image/webp') })
  .map(({ bytes, mediaType }) => ({ type: 'image', mediaType, source: { type: 'inline', data: Buffer.from(bytes).toString('base64') } }));
const blobImage: fc.Arbitrary<ContentBlock> = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => ({ type: 'image', mediaType: 'image/png', source: { type: 'blob', blobId: `sha256:${Buffer.from(b).toString('hex')}` } }));
const textBlock: fc.Arbitrary<ContentBlock> = text.map((t) => ({ type: 'text', text: t }));
const structured: fc.Arbitrary<ContentBlock> = json.map((data) => ({ type: 'structured', data }));
const block = fc.oneof({ weight: 5, arbitrary: textBlock }, { weight: 2, arbitrary: image }, { weight: 1, arbitrary: structured }, { weight: 1, arbitrary: blobImage });

const user: fc.Arbitrary<Message> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ content: fc.array(fc.oneof(textBlock, image), { minLength: 1, maxLength: 3 }), createdAt: time }).map((r) => ({ role: 'user' as const, transcriptRole: 'conversational' as const, ...r })) },
  { weight: 1, arbitrary: fc.record({ content: fc.array(block, { minLength: 1, maxLength: 3 }), createdAt: time }).map((r) => ({ role: 'user' as const, transcriptRole: 'conversational' as const, ...r })) },
  { weight: 1, arbitrary: fc.record({ t: text, createdAt: time }).map(({ t, createdAt }) => ({ role: 'user' as const, transcriptRole: 'compaction_summary' as const, content: [{ type: 'text' as const, text: t }], createdAt })) },
  { weight: 1, arbitrary: fc.record({ content: fc.array(block, { minLength: 1, maxLength: 2 }), createdAt: time }).map((r) => ({ role: 'user' as const, transcriptRole: 'injected_context' as const, ...r })) },
);

const system: fc.Arbitrary<Message> = fc.record({ text, createdAt: time }).map((r) => ({ role: 'system' as const, ...r }));

/** A notice as the importer makes it from a pi entry (exported back as that entry). */
const piEntryBody: fc.Arbitrary<Record<string, unknown>> = fc.oneof<fc.Arbitrary<Record<string, unknown>>[]>(
  fc.record({ type: fc.constant('model_change'), provider: text, modelId: text }),
  fc.record({ type: fc.constant('thinking_level_change'), thinkingLevel: fc.constantFrom('off', 'low', 'high') }),
  fc.record({ type: fc.constant('label'), targetId: text }, { requiredKeys: ['type', 'targetId'] }).chain((r) => fc.option(text, { nil: undefined }).map((label) => (label === undefined ? r : { ...r, label }))),
  fc.record({ type: fc.constant('session_info'), name: text }),
  fc.record({ type: fc.constant('custom'), customType: fc.constantFrom('ext', 'state'), data: json }),
  fc.record({ type: fc.constant('custom_message'), customType: text, content: fc.oneof(text, fc.constant([{ type: 'text', text: 'x' }])), display: fc.boolean() }),
  fc.record({ type: fc.constant('branch_summary'), fromId: text, summary: text }),
  fc.record({ type: fc.constant('future_entry'), payload: json }),
  fc.record({
    type: fc.constant('message'),
    message: fc.record({ role: fc.constant('bashExecution'), command: text, output: text, exitCode: fc.integer({ min: 0, max: 3 }), cancelled: fc.boolean(), truncated: fc.boolean(), timestamp: time }),
  }),
);
const piNotice: fc.Arbitrary<Message> = fc.record({ body: piEntryBody, createdAt: time }).map(({ body, createdAt }) => {
  const decoded = decodeWith(PiEntryCodec, { ...body, timestamp: new Date(createdAt).toISOString() });
  if (E.isLeft(decoded)) throw new Error(decoded.left.message);
  return noticeForEntry(decoded.right, createdAt)!;
});
const otherNotice: fc.Arbitrary<Message> = fc
  .record({ kind: fc.constantFrom('generic', 'tool_scope', 'model_change', 'external_event'), text, createdAt: time, data: fc.option(json, { nil: undefined }) })
  .map(({ data, ...r }) => (data === undefined ? { role: 'system_notice' as const, ...r } : { role: 'system_notice' as const, ...r, data }));

const stopReason: fc.Arbitrary<StopReason> = fc.constantFrom('end_turn', 'max_tokens', 'tool_use', 'error', 'cancelled');
const sig = fc.option(text, { nil: undefined });
const withSig = <B extends object>(b: B, s: string | undefined): B => (s === undefined ? b : { ...b, signature: s });
const outBlock: fc.Arbitrary<AssistantBlock> = fc.oneof(
  fc.record({ t: text, s: sig }).map(({ t, s }) => withSig({ type: 'text' as const, text: t }, s)),
  fc.record({ t: text, s: sig }).map(({ t, s }) => withSig({ type: 'reasoning' as const, text: t }, s)),
);
const usage = fc.record({ uncached: fc.nat(10000), out: fc.nat(10000), cw: fc.nat(1000), cr: fc.nat(1000) }).map(({ uncached, out, cw, cr }) => ({
  inputTokens: uncached + cw + cr,
  outputTokens: out,
  cacheCreationTokens: cw,
  cacheReadTokens: cr,
}));
const origin = fc.record({ provider: fc.constantFrom('anthropic', 'openai'), model: fc.constantFrom('m1', 'm2'), api: fc.constantFrom('anthropic-messages', 'openai-responses') });

/** An assistant turn: the assistant message and, when it calls tools, its tool_results. */
const turn: fc.Arbitrary<Message[]> = fc
  .record({
    before: fc.array(outBlock, { maxLength: 2 }),
    calls: fc.array(fc.record({ name: fc.constantFrom('bash', 'read', 'edit'), args: json, s: sig }), { maxLength: 3 }),
    spoken: fc.boolean(),
    stopReason,
    errorMessage: fc.option(text, { nil: undefined }),
    origin: fc.option(origin, { nil: undefined }),
    usage: fc.option(usage, { nil: undefined }),
    createdAt: time,
    results: fc.array(fc.record({ content: fc.array(block, { maxLength: 2 }), isError: fc.boolean(), details: fc.option(nonNullJson, { nil: undefined }), order: fc.nat() }), { minLength: 3, maxLength: 3 }),
    resultsAt: time,
    idSeed: fc.nat(1000),
  })
  .map((r) => {
    const calls = r.calls.map((c, i): AssistantBlock => withSig({ type: 'tool_use' as const, id: `call_${r.idSeed}_${i}`, name: c.name, args: c.args }, c.s));
    const content: AssistantBlock[] = [...r.before, ...(r.spoken && r.calls.length === 0 ? [{ type: 'transcript' as const, text: 'said', source: 'spoken' as const }] : []), ...calls];
    const a: Message = { role: 'assistant', content, stopReason: r.stopReason, createdAt: r.createdAt };
    if (r.errorMessage !== undefined) a.errorMessage = r.errorMessage;
    if (r.origin !== undefined) a.origin = r.origin;
    if (r.usage !== undefined) a.usage = r.usage;
    if (calls.length === 0) return [a];
    const results: ToolResult[] = calls
      .map((c, i) => ({ c, res: r.results[i]! }))
      .sort((x, y) => x.res.order - y.res.order)
      .map(({ c, res }) => {
        const tr: ToolResult = { toolUseId: (c as { id: string }).id, content: res.content, isError: res.isError };
        if (res.details !== undefined) tr.details = res.details;
        return tr;
      });
    return [a, { role: 'tool_results', results, createdAt: r.resultsAt }];
  });

const transcript: fc.Arbitrary<Message[]> = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: user.map((m) => [m]) },
      { weight: 4, arbitrary: turn },
      { weight: 2, arbitrary: piNotice.map((m) => [m]) },
      { weight: 1, arbitrary: otherNotice.map((m) => [m]) },
      { weight: 1, arbitrary: system.map((m) => [m]) },
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.flat());

const metadata = fc.dictionary(fc.constantFrom('project', 'owner', 'pi.cwd', 'pi.provider', 'pi.thinkingLevel'), fc.string({ maxLength: 6 }));

const roundTrip = (messages: Message[], md: Record<string, Json> = {}) => {
  const out = exportPiJsonl({ sessionId: 'spec-session', createdAt: T0, metadata: md, messages });
  const parsed = parsePiJsonl(out, 'spec.jsonl');
  if (E.isLeft(parsed)) throw new Error(parsed.left.message);
  const plan = planPiImport(parsed.right);
  if (E.isLeft(plan)) throw new Error(plan.left.message);
  return { out, plan: plan.right, back: plannedMessages(plan.right.sessions, plan.right.sessions[0]!.key) };
};

describe('pi export → import', () => {
  it('generated transcripts are valid messages', () => {
    fc.assert(fc.property(transcript, (ms) => E.isRight(decodeMessages(JSON.parse(JSON.stringify(ms))))), { numRuns: 200 });
  });

  it('keeps the transcript digest and needs no repair', () => {
    fc.assert(
      fc.property(transcript, metadata, (messages, md) => {
        const { plan, back } = roundTrip(messages, md);
        expect(plan.sessions).toHaveLength(1);
        // An entry of a type pi does not define is reported on every import; nothing else is repaired.
        expect(plan.report.repairs.filter((r) => r.kind !== 'unknown_entry')).toEqual([]);
        expect(transcriptDigest(back)).toBe(transcriptDigest(messages));
        expect(back.length).toBe(messages.length);
      }),
      { numRuns: 300 },
    );
  });

  it('writes pi-native entries for pi-shaped transcripts (no embedded palimpsest messages)', () => {
    const piShaped = transcript.filter((ms) =>
      ms.every((m) => {
        const native = (bs: readonly ContentBlock[]) => bs.every((b) => b.type === 'text' || (b.type === 'image' && b.source.type === 'inline'));
        switch (m.role) {
          case 'system':
            return false;
          case 'system_notice':
            return ['model_change', 'thinking_level_change', 'label', 'session_info', 'custom', 'custom_message', 'branch_summary', 'bash_execution', 'pi_entry'].includes(m.kind) && m.data !== undefined && typeof m.data === 'object' && m.data !== null && 'type' in m.data;
          case 'user':
            return m.transcriptRole === 'conversational' ? native(m.content) : m.transcriptRole === 'compaction_summary';
          case 'assistant':
            return m.content.every((b) => b.type !== 'transcript');
          case 'tool_results':
            return m.results.every((r) => native(r.content));
        }
      }),
    );
    fc.assert(
      fc.property(piShaped, (messages) => {
        const { out } = roundTrip(messages);
        expect(out).not.toContain('"customType":"palimpsest.message"');
      }),
      { numRuns: 100 },
    );
  });

  it('maps stop_sequence and content_filter to pi stop (end_turn on re-import), null details to absent', () => {
    for (const stopReason of ['stop_sequence', 'content_filter'] as const) {
      const { back } = roundTrip([{ role: 'assistant', content: [{ type: 'text', text: 'x' }], stopReason, createdAt: T0 }]);
      expect(back[0]).toMatchObject({ role: 'assistant', stopReason: 'end_turn' });
    }
    const { back } = roundTrip([
      { role: 'assistant', content: [{ type: 'tool_use', id: 'c', name: 'n', args: {} }], stopReason: 'tool_use', createdAt: T0 },
      { role: 'tool_results', results: [{ toolUseId: 'c', content: [], isError: false, details: null }], createdAt: T0 },
    ]);
    expect(back[1]).toEqual({ role: 'tool_results', results: [{ toolUseId: 'c', content: [], isError: false }], createdAt: T0 });
  });
});
