/**
 * Property specifications of the Responses API conversions.
 *
 * - `toResponsesInput` never throws on valid transcripts: with a blob resolver it
 *   always succeeds; without one it fails only with `UnresolvedBlob`.
 * - Round trip message → input items → `fromResponse` (any origin): tool-call ids,
 *   names and arguments survive exactly, and so does the visible text.
 * - Lossless signatures: a response turned into a message, sent back as input
 *   items and read again gives the same blocks (text message ids, reasoning items
 *   with `encrypted_content`, function-call item ids).
 * - `accumulateResponseStream` over any chunking of the deltas, with a terminal
 *   event lacking output, equals `fromResponse` of the full response.
 * - `fromResponse` / `accumulateResponseStream` never throw on arbitrary input.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import type { Response, ResponseInputItem, ResponseOutputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { accumulateResponseStream, fromResponse, toResponsesInput } from '../../../src/adapters/openai/index.ts';
import { stampMessage, type Message } from '../../../src/model/message.ts';
import { assistantVisibleText, toolUses } from '../../../src/model/projections.ts';
import { arbJson, arbMessageByRole, arbPlainAssistant, arbText, arbToolExchange, arbTranscript } from '../../arbitraries/messages.ts';

const resolveBlob = (id: string): string => `https://blobs.example/${id}`;
const callsOf = (m: Message) => toolUses(m).map((u) => ({ id: u.id, name: u.name, args: u.args }));

const response = (output: unknown[], extra: Partial<Response> = {}): Response => ({
  id: 'resp_p',
  object: 'response',
  created_at: 0,
  model: 'gpt-test',
  output: output as ResponseOutputItem[],
  output_text: '',
  error: null,
  incomplete_details: null,
  instructions: null,
  metadata: null,
  parallel_tool_calls: true,
  temperature: null,
  tool_choice: 'auto',
  tools: [],
  top_p: null,
  status: 'completed',
  ...extra,
});

/** Input items as output items: an easy assistant message becomes an output message without id. */
const asOutput = (items: readonly ResponseInputItem[]): unknown[] =>
  items.map((i) =>
    i.type === 'message' && i.role === 'assistant' && typeof i.content === 'string'
      ? { type: 'message', id: '', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: i.content, annotations: [] }] }
      : i,
  );

describe('toResponsesInput', () => {
  it('never throws; needs a resolver only for blob images', () => {
    fc.assert(
      fc.property(arbTranscript(), (t) => {
        const ok = toResponsesInput(t, { resolveBlob });
        expect(E.isRight(ok)).toBe(true);
        const without = toResponsesInput(t);
        if (E.isLeft(without)) expect(without.left._tag).toBe('UnresolvedBlob');
        else expect(without).toEqual(ok);
        if (E.isRight(ok)) {
          const outputs = ok.right.flatMap((i) => (i.type === 'function_call_output' ? [i.call_id] : []));
          expect(outputs).toEqual(t.flatMap((m) => (m.role === 'tool_results' ? m.results.map((r) => r.toolUseId) : [])));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('round-trips tool-call ids, names, arguments and visible text through fromResponse', () => {
    const arbAssistant = fc.oneof(arbPlainAssistant, arbMessageByRole.assistant, arbToolExchange.map((x) => x[0]!));
    const arbApi = fc.constantFrom(undefined, 'openai-responses', 'anthropic-messages');
    fc.assert(
      fc.property(arbAssistant, arbApi, (m0, api) => {
        const m: Message = m0.role === 'assistant' && api !== undefined ? { ...m0, origin: { provider: 'p', model: 'm', api } } : m0;
        const items = toResponsesInput([m]);
        if (E.isLeft(items)) throw new Error(JSON.stringify(items.left));
        const back = fromResponse(response(asOutput(items.right)));
        if (E.isLeft(back)) throw new Error(JSON.stringify(back.left));
        expect(callsOf(back.right.message as Message)).toEqual(callsOf(m));
        expect(assistantVisibleText(back.right.message)).toBe(assistantVisibleText(m as Extract<Message, { role: 'assistant' }>));
      }),
      { numRuns: 200 },
    );
  });
});

// arbitrary Responses output items with unique ids
const arbOutputItem = (n: number): fc.Arbitrary<ResponseOutputItem> =>
  fc.oneof(
    fc.array(arbText, { maxLength: 3 }).map(
      (texts): ResponseOutputItem => ({
        id: `msg_${n}`,
        type: 'message',
        role: 'assistant',
        status: 'completed',
        content: texts.map((text) => ({ type: 'output_text' as const, text, annotations: [] })),
      }),
    ),
    fc
      .record({ summary: fc.array(arbText, { maxLength: 2 }), content: fc.option(fc.array(arbText, { maxLength: 2 }), { nil: undefined }), enc: fc.option(fc.base64String({ minLength: 4, maxLength: 40 }), { nil: undefined }) })
      .map(
        ({ summary, content, enc }): ResponseOutputItem => ({
          id: `rs_${n}`,
          type: 'reasoning',
          summary: summary.map((text) => ({ type: 'summary_text' as const, text })),
          ...(content !== undefined ? { content: content.map((text) => ({ type: 'reasoning_text' as const, text })) } : {}),
          ...(enc !== undefined ? { encrypted_content: enc } : {}),
        }),
      ),
    fc
      .record({ name: arbText.filter((s) => s.length > 0), args: fc.oneof(arbJson.map((j) => JSON.stringify(j)), arbText), withId: fc.boolean() })
      .map(
        ({ name, args, withId }): ResponseOutputItem => ({
          type: 'function_call',
          call_id: `call_${n}`,
          name,
          arguments: args,
          ...(withId ? { id: `fc_${n}` } : {}),
        }),
      ),
  );
const arbOutput: fc.Arbitrary<ResponseOutputItem[]> = fc.integer({ min: 0, max: 5 }).chain((k) => fc.tuple(...Array.from({ length: k }, (_, i) => arbOutputItem(i))));

describe('signatures', () => {
  it('a response survives message → input items → response unchanged', () => {
    fc.assert(
      fc.property(arbOutput, (output) => {
        const first = fromResponse(response(output));
        if (E.isLeft(first)) throw new Error(JSON.stringify(first.left));
        const items = toResponsesInput([stampMessage(first.right.message, 0)]);
        if (E.isLeft(items)) throw new Error(JSON.stringify(items.left));
        const again = fromResponse(response(asOutput(items.right)));
        if (E.isLeft(again)) throw new Error(JSON.stringify(again.left));
        expect(again.right.message.content).toEqual(first.right.message.content);
        expect(again.right.stopReason).toBe(first.right.stopReason);
      }),
      { numRuns: 200 },
    );
  });
});

describe('accumulateResponseStream', () => {
  const cut = (s: string, fractions: readonly number[]): string[] => {
    const idx = [...new Set(fractions.map((f) => Math.floor(f * s.length)))].sort((a, b) => a - b);
    const out: string[] = [];
    let prev = 0;
    for (const i of idx) {
      if (i > prev) out.push(s.slice(prev, i));
      prev = Math.max(prev, i);
    }
    out.push(s.slice(prev));
    return out.filter((x) => x !== '');
  };

  it('assembles the same message from deltas as from the full response', async () => {
    await fc.assert(
      fc.asyncProperty(arbOutput, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }), async (output, cuts) => {
        const events: unknown[] = [{ type: 'response.created', sequence_number: 0, response: response([], { status: 'in_progress' }) }];
        output.forEach((item, oi) => {
          if (item.type === 'message') {
            events.push({ type: 'response.output_item.added', output_index: oi, item: { ...item, content: [] } });
            item.content.forEach((part, ci) => {
              if (part.type !== 'output_text') return;
              events.push({ type: 'response.content_part.added', output_index: oi, content_index: ci, item_id: item.id, part: { ...part, text: '' } });
              for (const d of cut(part.text, cuts)) events.push({ type: 'response.output_text.delta', output_index: oi, content_index: ci, item_id: item.id, delta: d, logprobs: [] });
              if (part.text === '') events.push({ type: 'response.output_text.delta', output_index: oi, content_index: ci, item_id: item.id, delta: '', logprobs: [] });
            });
          } else if (item.type === 'function_call') {
            events.push({ type: 'response.output_item.added', output_index: oi, item: { ...item, arguments: '' } });
            for (const d of cut(item.arguments, cuts)) events.push({ type: 'response.function_call_arguments.delta', output_index: oi, item_id: item.id, delta: d });
          } else {
            events.push({ type: 'response.output_item.done', output_index: oi, item });
          }
        });
        events.push({ type: 'response.completed', response: response([]) });
        const streamed = await accumulateResponseStream(events as ResponseStreamEvent[]);
        const whole = fromResponse(response(output));
        expect(E.isRight(streamed) ? streamed.right.message.content : streamed.left).toEqual(E.isRight(whole) ? whole.right.message.content : whole.left);
      }),
      { numRuns: 150 },
    );
  });

  it('never throws on arbitrary input', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything(), fc.array(fc.anything(), { maxLength: 4 }), async (one, many) => {
        const r = fromResponse(one);
        expect(E.isLeft(r) ? r.left._tag : 'ok').toMatch(/MalformedResponse|ok/);
        const s = await accumulateResponseStream(many);
        expect(E.isLeft(s) ? s.left._tag : 'ok').toMatch(/MalformedStreamEvent|StreamFailed|IncompleteStream|ok/);
      }),
      { numRuns: 200 },
    );
  });
});
