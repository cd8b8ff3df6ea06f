/**
 * Property specifications of the Chat Completions conversions.
 *
 * - `toChatMessages` never throws on valid transcripts: with a blob resolver it
 *   always succeeds; without one it fails only with `UnresolvedBlob` and only
 *   when a user message holds a blob image.
 * - One wire message per message, one `tool` message per tool result, ids in order.
 * - Round trip message → wire → `fromChatCompletion`: tool-call ids, names and
 *   arguments survive exactly, and so does the assistant's visible text.
 * - `parseToolArguments ∘ formatToolArguments` is the identity on `Json`.
 * - `accumulateChatStream` over any chunking of a completion equals
 *   `fromChatCompletion` of it.
 * - `fromChatCompletion` / `accumulateChatStream` never throw on arbitrary input.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import type { ChatCompletion, ChatCompletionAssistantMessageParam, ChatCompletionChunk } from 'openai/resources/chat/completions';
import { accumulateChatStream, formatToolArguments, fromChatCompletion, parseToolArguments, toChatMessages } from '../../../src/adapters/openai/index.ts';
import type { Message } from '../../../src/model/message.ts';
import { assistantVisibleText, toolUses } from '../../../src/model/projections.ts';
import { arbJson, arbMessageByRole, arbPlainAssistant, arbToolExchange, arbTranscript } from '../../arbitraries/messages.ts';

const resolveBlob = (id: string, mt: string): string => `https://blobs.example/${mt}/${id}`;
const hasBlobImage = (ms: readonly Message[]): boolean =>
  ms.some((m) => m.role === 'user' && m.content.some((b) => b.type === 'image' && b.source.type === 'blob'));
const callsOf = (m: Message) => toolUses(m).map((u) => ({ id: u.id, name: u.name, args: u.args }));

const completionOf = (p: ChatCompletionAssistantMessageParam): ChatCompletion => ({
  id: 'chatcmpl-p',
  object: 'chat.completion',
  created: 0,
  model: 'gpt-test',
  choices: [
    {
      index: 0,
      logprobs: null,
      finish_reason: p.tool_calls && p.tool_calls.length > 0 ? 'tool_calls' : 'stop',
      message: {
        role: 'assistant',
        content: typeof p.content === 'string' ? p.content : null,
        refusal: null,
        ...(p.tool_calls ? { tool_calls: p.tool_calls } : {}),
      },
    },
  ],
});

const assistantParam = (m: Message): ChatCompletionAssistantMessageParam => {
  const out = toChatMessages([m]);
  if (E.isLeft(out)) throw new Error('unexpected Left');
  const p = out.right[0];
  if (p?.role !== 'assistant') throw new Error('expected an assistant param');
  return p;
};

/** Cuts `s` at the given fractions (any UTF-16 index, so surrogate pairs may split). */
const cut = (s: string, fractions: readonly number[]): string[] => {
  const idx = [...new Set(fractions.map((f) => Math.floor(f * s.length)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const i of idx) {
    if (i > prev) out.push(s.slice(prev, i));
    prev = Math.max(prev, i);
  }
  out.push(s.slice(prev));
  return out;
};

describe('toChatMessages', () => {
  it('never throws; needs a resolver only for user blob images', () => {
    fc.assert(
      fc.property(arbTranscript(), (t) => {
        const withResolver = toChatMessages(t, { resolveBlob });
        expect(E.isRight(withResolver)).toBe(true);
        const without = toChatMessages(t);
        if (hasBlobImage(t)) expect(E.isLeft(without) && without.left._tag).toBe('UnresolvedBlob');
        else expect(without).toEqual(withResolver);
        if (E.isRight(withResolver)) {
          const expected = t.reduce((n, m) => n + (m.role === 'tool_results' ? m.results.length : 1), 0);
          expect(withResolver.right).toHaveLength(expected);
          const toolIds = withResolver.right.flatMap((p) => (p.role === 'tool' ? [p.tool_call_id] : []));
          expect(toolIds).toEqual(t.flatMap((m) => (m.role === 'tool_results' ? m.results.map((r) => r.toolUseId) : [])));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('round-trips tool-call ids, names, arguments and visible text through fromChatCompletion', () => {
    const arbAssistant = fc.oneof(arbPlainAssistant, arbMessageByRole.assistant, arbToolExchange.map((x) => x[0]!));
    fc.assert(
      fc.property(arbAssistant, (m) => {
        const back = fromChatCompletion(completionOf(assistantParam(m)));
        if (E.isLeft(back)) throw new Error(JSON.stringify(back.left));
        const msg = back.right.message as Message;
        expect(callsOf(msg)).toEqual(callsOf(m));
        expect(assistantVisibleText(back.right.message)).toBe(assistantVisibleText(m as Extract<Message, { role: 'assistant' }>));
        expect(back.right.stopReason).toBe(callsOf(m).length > 0 ? 'tool_use' : 'end_turn');
      }),
      { numRuns: 200 },
    );
  });

  it('formats and parses tool arguments losslessly', () => {
    fc.assert(
      fc.property(fc.oneof(arbJson, fc.string(), fc.constantFrom('', ' ', '{', '"x"', '1e999', '[1,', 'null')), (a) => {
        expect(parseToolArguments(formatToolArguments(a))).toEqual(a);
      }),
      { numRuns: 300 },
    );
  });
});

describe('accumulateChatStream', () => {
  it('equals fromChatCompletion over any chunking', async () => {
    const arbCase = fc.record({
      m: fc.oneof(arbPlainAssistant, arbToolExchange.map((x) => x[0]!)),
      cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
      usage: fc.option(fc.record({ prompt: fc.nat({ max: 10_000 }), completion: fc.nat({ max: 10_000 }) }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(arbCase, async ({ m, cuts, usage }) => {
        const whole = completionOf(assistantParam(m));
        const msg = whole.choices[0]!.message;
        const base = { id: whole.id, object: 'chat.completion.chunk' as const, created: 0, model: whole.model };
        const chunk = (delta: ChatCompletionChunk.Choice['delta'], finish: ChatCompletionChunk.Choice['finish_reason'] = null): ChatCompletionChunk => ({
          ...base,
          choices: [{ index: 0, delta, finish_reason: finish }],
        });
        const chunks: ChatCompletionChunk[] = [chunk({ role: 'assistant' })];
        for (const piece of cut(msg.content ?? '', cuts)) if (piece !== '') chunks.push(chunk({ content: piece }));
        (msg.tool_calls ?? []).forEach((tc, index) => {
          if (tc.type !== 'function') return;
          chunks.push(chunk({ tool_calls: [{ index, id: tc.id, type: 'function', function: { name: tc.function.name, arguments: '' } }] }));
          for (const piece of cut(tc.function.arguments, cuts)) if (piece !== '') chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
        });
        chunks.push(chunk({}, whole.choices[0]!.finish_reason));
        const withUsage = usage ? { ...whole, usage: { prompt_tokens: usage.prompt, completion_tokens: usage.completion, total_tokens: usage.prompt + usage.completion } } : whole;
        if (withUsage.usage) chunks.push({ ...base, choices: [], usage: withUsage.usage });
        expect(await accumulateChatStream(chunks)).toEqual(fromChatCompletion(withUsage));
      }),
      { numRuns: 150 },
    );
  });

  it('never throws on arbitrary input', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything(), fc.array(fc.anything(), { maxLength: 4 }), async (one, many) => {
        const r = fromChatCompletion(one);
        expect(E.isLeft(r) ? r.left._tag : 'ok').toMatch(/MalformedResponse|ok/);
        const s = await accumulateChatStream(many);
        expect(E.isLeft(s) ? s.left._tag : 'ok').toMatch(/MalformedStreamEvent|MalformedResponse|IncompleteStream|ok/);
      }),
      { numRuns: 200 },
    );
  });
});
