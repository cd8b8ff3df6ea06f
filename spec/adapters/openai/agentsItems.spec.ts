/**
 * Properties of the OpenAI Agents SDK item conversion (`agentsItems.ts`):
 *
 * - random item sequences (SDK-shaped turns with tool calls, plus noise: pending
 *   and orphan calls, mismatched and duplicate ids, hosted calls, items with
 *   provider fields, non-JSON arguments, user messages palimpsest cannot hold)
 *   convert to messages that decode and pass `validateTranscriptShape` in full,
 *   and convert back to exactly the normalized items;
 * - adding the items in random chunks through `planAgentsAddItems` builds the same
 *   transcript (by digest) as converting them at once, and every intermediate
 *   transcript is shape-valid;
 * - popping through `planAgentsPopItem` returns the items last to first and leaves
 *   the conversion of the remaining prefix each time;
 * - `lastAgentItems(messages, k)` is the last `k` normalized items.
 */
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AgentInputItem } from '@openai/agents-core';
import {
  applyAgentsPlan,
  itemsToMessages,
  lastAgentItems,
  messagesToItems,
  normalizeAgentItem,
  planAgentsAddItems,
  planAgentsPopItem,
  type AgentsTranscriptPlan,
} from '../../../src/adapters/openai/agentsItems.ts';
import { transcriptDigest } from '../../../src/model/digest.ts';
import type { Json } from '../../../src/model/json.ts';
import { decodeMessage, stampMessage, type Message, type MessageInput } from '../../../src/model/message.ts';
import { validateTranscriptShape } from '../../../src/transcript/index.ts';

type Item = Record<string, unknown>;
const asItems = (xs: readonly Item[]): AgentInputItem[] => xs as unknown as AgentInputItem[];

// ---------------------------------------------------------------------------
// Arbitraries

const text = fc.string({ maxLength: 10 });
const json = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
const callId = fc.constantFrom('call_a', 'call_b', 'call_c', 'call_d');
const toolName = fc.constantFrom('get_weather', 'search', 'x');
const providerData = fc.dictionary(fc.constantFrom('annotations', 'model', 'encryptedContent', 'x'), json, { minKeys: 1, maxKeys: 2 });
const pngDataUrl = fc.uint8Array({ minLength: 1, maxLength: 6 }).map((b) => `data:image/png;base64,${Buffer.from(b).toString('base64')}`);

/** Optional extra fields an item may carry. */
const extras = (keys: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Item> => fc.record(keys, { requiredKeys: [] }) as fc.Arbitrary<Item>;

const userPart: fc.Arbitrary<Item> = fc.oneof(
  { weight: 4, arbitrary: text.map((t) => ({ type: 'input_text', text: t })) },
  { weight: 2, arbitrary: pngDataUrl.map((image) => ({ type: 'input_image', image })) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('input_image'), image: fc.constant('https://example.com/a.png'), detail: fc.constantFrom('auto', 'low') }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('input_file'), file: fc.constant('file-123'), filename: fc.constant('a.pdf') }) },
  { weight: 1, arbitrary: text.map((t) => ({ type: 'input_text', text: t, providerData: { x: 1 } })) },
);
const userItem: fc.Arbitrary<Item> = fc
  .tuple(fc.oneof(text, fc.array(userPart, { maxLength: 3 })), fc.boolean(), extras({ id: fc.constant('msg_u'), providerData }))
  .map(([content, typed, more]) => ({ ...(typed ? { type: 'message' } : {}), role: 'user', content, ...more }));
const systemItem: fc.Arbitrary<Item> = fc
  .tuple(text, fc.boolean(), extras({ providerData }))
  .map(([content, typed, more]) => ({ ...(typed ? { type: 'message' } : {}), role: 'system', content, ...more }));
const assistantPart: fc.Arbitrary<Item> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(text, extras({ providerData })).map(([t, more]) => ({ type: 'output_text', text: t, ...more })) },
  { weight: 1, arbitrary: text.map((t) => ({ type: 'refusal', refusal: t })) },
  { weight: 1, arbitrary: fc.constant({ type: 'audio', audio: 'aud_1', transcript: 'hi' }) },
);
const assistantItem: fc.Arbitrary<Item> = fc
  .tuple(
    fc.array(assistantPart, { maxLength: 3 }),
    fc.constantFrom('completed', 'incomplete', 'in_progress'),
    fc.boolean(),
    extras({ id: fc.constant('msg_a'), providerData, phase: fc.constantFrom('commentary', 'final_answer') }),
  )
  .map(([content, status, typed, more]) => ({ ...(typed ? { type: 'message' } : {}), role: 'assistant', status, content, ...more }));
const reasoningItem: fc.Arbitrary<Item> = fc
  .tuple(
    fc.array(text.map((t) => ({ type: 'input_text', text: t })), { maxLength: 2 }),
    extras({
      id: fc.constant('rs_1'),
      rawContent: fc.array(text.map((t) => ({ type: 'reasoning_text', text: t })), { maxLength: 2 }),
      providerData: fc.record({ encryptedContent: fc.base64String({ minLength: 4, maxLength: 12 }) }),
    }),
  )
  .map(([content, more]) => ({ type: 'reasoning', content, ...more }));

const argumentsString = fc.oneof(
  json.map((j) => JSON.stringify(j)),
  json.map((j) => JSON.stringify(j, null, 1)),
  fc.constant('{"b": 1, "1": 2}'),
  fc.constant('not json {'),
  fc.constant('"quoted"'),
  fc.constant(''),
  text,
);
const callItem = (id: fc.Arbitrary<string>): fc.Arbitrary<Item> =>
  fc
    .tuple(id, toolName, argumentsString, extras({ status: fc.constantFrom('completed', 'in_progress'), providerData, id: fc.constant('fc_1'), namespace: fc.constant('ns') }))
    .map(([cid, name, args, more]) => ({ type: 'function_call', callId: cid, name, arguments: args, ...more }));
const output: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: text.map((t) => ({ type: 'text', text: t })) },
  { weight: 2, arbitrary: text },
  {
    weight: 2,
    arbitrary: fc.array(
      fc.oneof(
        text.map((t) => ({ type: 'input_text', text: t })),
        pngDataUrl.map((image) => ({ type: 'input_image', image })),
        fc.constant({ type: 'input_file', file: { url: 'https://example.com/a.pdf' } }),
      ),
      { maxLength: 3 },
    ),
  },
  { weight: 1, arbitrary: pngDataUrl.map((image) => ({ type: 'image', image })) },
);
const resultItem = (id: fc.Arbitrary<string>, name: fc.Arbitrary<string> = toolName): fc.Arbitrary<Item> =>
  fc
    .tuple(id, name, output, fc.constantFrom('completed', 'incomplete'), extras({ providerData, caller: fc.constant({ type: 'direct' }) }))
    .map(([cid, n, out, status, more]) => ({ type: 'function_call_result', name: n, callId: cid, status, output: out, ...more }));

/** A complete tool-call turn as the SDK writes it: calls with distinct ids, then their results (any order). */
const toolTurn: fc.Arbitrary<Item[]> = fc
  .uniqueArray(fc.constantFrom('call_1', 'call_2', 'call_3'), { minLength: 1, maxLength: 3 })
  .chain((ids) =>
    fc.tuple(
      fc.tuple(...ids.map((id) => callItem(fc.constant(id)))),
      fc.shuffledSubarray(ids, { minLength: ids.length, maxLength: ids.length }),
    ),
  )
  .chain(([calls, order]) =>
    fc.tuple(...order.map((id) => resultItem(fc.constant(id), fc.constant(String(calls.find((c) => c.callId === id)!.name))))).map((results) => [...calls, ...results]),
  );

const hostedItem: fc.Arbitrary<Item> = fc.oneof(
  fc.constant({ type: 'hosted_tool_call', name: 'web_search_call', status: 'completed', id: 'ws_1' }),
  fc.constant({ type: 'computer_call', callId: 'cu_1', status: 'completed', action: { type: 'screenshot' } }),
  fc.constant({ type: 'compaction', encrypted_content: 'enc' }),
  fc.constant({ type: 'unknown', providerData: { anything: [1, 2] } }),
);

const item: fc.Arbitrary<Item> = fc.oneof(
  { weight: 3, arbitrary: userItem },
  { weight: 1, arbitrary: systemItem },
  { weight: 3, arbitrary: assistantItem },
  { weight: 2, arbitrary: reasoningItem },
  { weight: 2, arbitrary: callItem(callId) },
  { weight: 2, arbitrary: resultItem(callId) },
  { weight: 1, arbitrary: hostedItem },
);

/** Sequences mixing SDK-shaped tool turns with arbitrary items. */
const items: fc.Arbitrary<Item[]> = fc.array(fc.oneof({ weight: 3, arbitrary: item.map((i) => [i]) }, { weight: 2, arbitrary: toolTurn }), { maxLength: 8 }).map((xs) => xs.flat());

// ---------------------------------------------------------------------------
// Helpers

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected Right, got ${JSON.stringify(e.left)}`);
  return e.right;
};
const stamp = (ms: readonly MessageInput[]): Message[] => ms.map((m) => stampMessage(m, 1));
const normalized = (xs: readonly Item[]): unknown[] => asItems(xs).map(normalizeAgentItem);
const expectValidTranscript = (ms: readonly MessageInput[]): void => {
  for (const m of stamp(ms)) expect(E.isRight(decodeMessage(m))).toBe(true);
  expect(validateTranscriptShape(stamp(ms))).toEqual(E.right(undefined));
};
const applyAll = (ms: readonly MessageInput[], plan: AgentsTranscriptPlan): MessageInput[] => applyAgentsPlan(ms, plan);

/** Random cut points of a list into consecutive chunks. */
const chunked = <A>(xs: readonly A[], cuts: readonly number[]): A[][] => {
  const points = [...new Set(cuts.map((c) => c % (xs.length + 1)))].sort((a, b) => a - b);
  const out: A[][] = [];
  let from = 0;
  for (const p of [...points, xs.length]) {
    out.push(xs.slice(from, p));
    from = p;
  }
  return out;
};

// ---------------------------------------------------------------------------

describe('agents items ⇄ messages', () => {
  it('converts random item sequences to shape-valid transcripts and back to the normalized items', () => {
    fc.assert(
      fc.property(items, (xs) => {
        const ms = right(itemsToMessages(asItems(xs)));
        expectValidTranscript(ms);
        expect(messagesToItems(ms)).toEqual(normalized(xs));
        // Normalization is idempotent and converting normalized items is exact.
        expect(messagesToItems(right(itemsToMessages(asItems(normalized(xs) as Item[]))))).toEqual(normalized(xs));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps SDK-shaped tool turns native: one assistant message of tool uses, one tool_results message', () => {
    fc.assert(
      fc.property(toolTurn, (turn) => {
        const ms = right(itemsToMessages(asItems(turn)));
        expect(ms.map((m) => m.role)).toEqual(['assistant', 'tool_results']);
        const calls = turn.filter((i) => i.type === 'function_call');
        const first = ms[0]!;
        expect(first.role === 'assistant' && first.content.map((b) => (b.type === 'tool_use' ? b.id : b.type))).toEqual(calls.map((c) => c.callId));
      }),
      { numRuns: 100 },
    );
  });

  it('builds the same transcript when the items are added in chunks (planAgentsAddItems), valid at every step', () => {
    fc.assert(
      fc.property(items, fc.array(fc.nat(), { maxLength: 6 }), (xs, cuts) => {
        let ms: MessageInput[] = [];
        for (const chunk of chunked(xs, cuts)) {
          const plan = right(planAgentsAddItems(stamp(ms), asItems(chunk)));
          if (chunk.length === 0) expect(plan).toEqual({ type: 'none' });
          ms = applyAll(ms, plan);
          expectValidTranscript(ms);
        }
        expect(transcriptDigest(ms)).toBe(transcriptDigest(right(itemsToMessages(asItems(xs)))));
      }),
      { numRuns: 300 },
    );
  });

  it('pops the items last to first, leaving the conversion of the remaining prefix', () => {
    fc.assert(
      fc.property(items, (xs) => {
        const want = normalized(xs);
        let ms: MessageInput[] = right(itemsToMessages(asItems(xs)));
        for (let k = xs.length; k > 0; k--) {
          const popped = planAgentsPopItem(stamp(ms));
          expect(popped).toBeDefined();
          expect(popped!.item).toEqual(want[k - 1]);
          expect(popped!.plan.type).toBe('rewrite');
          ms = applyAll(ms, popped!.plan);
          expectValidTranscript(ms);
          expect(transcriptDigest(ms)).toBe(transcriptDigest(right(itemsToMessages(asItems(xs.slice(0, k - 1))))));
        }
        expect(ms).toEqual([]);
        expect(planAgentsPopItem([])).toBeUndefined();
      }),
      { numRuns: 150 },
    );
  });

  it('lastAgentItems(messages, k) is the last k items in order (MemorySession semantics)', () => {
    fc.assert(
      fc.property(items, fc.integer({ min: -2, max: 40 }), (xs, k) => {
        const ms = right(itemsToMessages(asItems(xs)));
        const all = normalized(xs);
        expect(lastAgentItems(ms)).toEqual(all);
        expect(lastAgentItems(ms, k)).toEqual(k <= 0 ? [] : all.slice(Math.max(all.length - k, 0)));
      }),
      { numRuns: 200 },
    );
  });
});

describe('agents items: examples', () => {
  const call = (id: string, args: string, more: Item = {}): Item => ({ type: 'function_call', callId: id, name: 'f', arguments: args, status: 'completed', ...more });
  const result = (id: string, out: unknown = { type: 'text', text: 'ok' }): Item => ({ type: 'function_call_result', name: 'f', callId: id, status: 'completed', output: out });

  it('keeps an arguments string that is not JSON as a JSON string, and returns it identical', () => {
    const ms = right(itemsToMessages(asItems([call('c1', 'not json {'), result('c1')])));
    const a = ms[0]!;
    expect(a.role === 'assistant' && a.content[0]).toEqual({ type: 'tool_use', id: 'c1', name: 'f', args: 'not json {' });
    expect(messagesToItems(ms)[0]).toEqual(call('c1', 'not json {'));
  });

  it('parses JSON arguments and keeps a non-canonical spelling verbatim in the signature', () => {
    const ms = right(itemsToMessages(asItems([call('c1', '{"city": "Paris"}'), result('c1')])));
    const a = ms[0]!;
    const block = a.role === 'assistant' ? a.content[0] : undefined;
    expect(block?.type === 'tool_use' && block.args).toEqual({ city: 'Paris' });
    expect(messagesToItems(ms)[0]).toEqual(call('c1', '{"city": "Paris"}'));
    const compact = right(itemsToMessages(asItems([call('c1', '{"city":"Paris"}'), result('c1')])))[0]!;
    expect(compact.role === 'assistant' && compact.content[0]).toEqual({ type: 'tool_use', id: 'c1', name: 'f', args: { city: 'Paris' } });
  });

  it('groups consecutive calls into one assistant message and their results into one tool_results message', () => {
    const ms = right(itemsToMessages(asItems([call('a', '{}'), call('b', '{}'), result('b'), result('a')])));
    expect(ms).toHaveLength(2);
    expect(ms[1]!.role === 'tool_results' && ms[1]!.results.map((r) => r.toolUseId)).toEqual(['b', 'a']);
  });

  it('keeps pending, orphan and mismatched calls as agents_item notices', () => {
    for (const xs of [[call('a', '{}')], [result('a')], [call('a', '{}'), call('b', '{}'), result('a')], [call('a', '{}'), result('a'), result('a')]]) {
      const ms = right(itemsToMessages(asItems(xs)));
      expect(ms.every((m) => m.role === 'system_notice' && m.kind === 'agents_item')).toBe(true);
      expect(messagesToItems(ms)).toEqual(xs);
    }
  });

  it('maps reasoning with encrypted content to a reasoning block whose signature carries it', () => {
    const r: Item = { type: 'reasoning', id: 'rs_1', content: [{ type: 'input_text', text: 'thinking' }], providerData: { encryptedContent: 'gAAA' } };
    const ms = right(itemsToMessages(asItems([r])));
    const block = ms[0]!.role === 'assistant' ? ms[0]!.content[0] : undefined;
    expect(block?.type).toBe('reasoning');
    expect(block?.type === 'reasoning' && block.text).toBe('thinking');
    expect(block?.type === 'reasoning' && block.signature).toContain('gAAA');
    expect(messagesToItems(ms)).toEqual([r]);
  });

  it('normalizes user text input to the SDK spelling', () => {
    expect(normalizeAgentItem({ role: 'user', content: [{ type: 'input_text', text: 'hi' }] } as AgentInputItem)).toEqual({ type: 'message', role: 'user', content: 'hi' });
    const ms = right(itemsToMessages(asItems([{ role: 'user', content: 'hi' }])));
    expect(ms[0]).toEqual({ role: 'user', content: [{ type: 'text', text: 'hi' }], transcriptRole: 'conversational' });
  });

  it('refuses what is not a JSON object with a typed error', () => {
    const bad = itemsToMessages(asItems([{ role: 'user', content: 'ok' }, { type: 'function_call_result', callId: 'a', output: { data: new Uint8Array([1]) } }]));
    expect(E.isLeft(bad) && bad.left).toMatchObject({ _tag: 'UnsupportedAgentItem', index: 1, reason: 'not_json', path: '$[1].output.data' });
    const notObject = itemsToMessages(['text'] as unknown as AgentInputItem[]);
    expect(E.isLeft(notObject) && notObject.left).toMatchObject({ _tag: 'UnsupportedAgentItem', index: 0, reason: 'not_an_object' });
  });

  it('reads messages written by others, best effort', () => {
    const foreign: Message[] = [
      { role: 'system_notice', kind: 'tool_scope', text: 'tools changed', createdAt: 1 },
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'structured', data: { k: 1 } }], transcriptRole: 'injected_context', createdAt: 1 },
      {
        role: 'assistant',
        content: [
          { type: 'reasoning', text: 'hmm', signature: 'anthropic-sig' },
          { type: 'text', text: 'let me look' },
          { type: 'tool_use', id: 't1', name: 'read', args: { p: 1 } },
        ],
        stopReason: 'tool_use',
        createdAt: 1,
      },
      { role: 'tool_results', results: [{ toolUseId: 't1', content: [{ type: 'text', text: 'boom' }], isError: true }], createdAt: 1 },
    ];
    expect(messagesToItems(foreign)).toEqual([
      { type: 'message', role: 'system', content: '[notice tool_scope] tools changed' },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'a' }, { type: 'input_text', text: '{"k":1}' }] },
      { type: 'reasoning', content: [{ type: 'input_text', text: 'hmm' }] },
      { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'let me look' }] },
      { type: 'function_call', callId: 't1', name: 'read', arguments: '{"p":1}', status: 'completed' },
      { type: 'function_call_result', name: 'read', callId: 't1', status: 'completed', output: { type: 'text', text: '[tool error] boom' } },
    ]);
  });
});
