/**
 * Property specifications of the OpenAI Realtime mapper (realtime.md §8, §9).
 *
 * Random linear voice/text conversations are rendered as the server events the
 * OpenAI Realtime API sends (SDK-typed), then:
 *
 * - delivered in order through the mapper into a `Session`, they give exactly
 *   the expected transcript (one user message per user turn, one assistant
 *   message per response with its text or transcript and usage);
 * - delivered with redelivered events (same `event_id`, anywhere after the
 *   original) and a replayed suffix, through the same mapper or through a fresh
 *   one for the replay, they give the same transcript, usage and log length;
 * - every mapped event decodes with the machine's codec.
 *
 * And `map` never throws on arbitrary input.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import type { ConversationItem, RealtimeServerEvent } from 'openai/resources/realtime/realtime';
import { createOpenAIRealtimeMapper, type OpenAIRealtimeMapper } from '../../../src/adapters/openai/index.ts';
import { decodeRealtimeEvent } from '../../../src/machines/realtime.ts';
import type { Message } from '../../../src/model/message.ts';
import type { Usage } from '../../../src/model/usage.ts';
import { Session } from '../../../src/session/session.ts';

type UserTurn = { readonly kind: 'typed' | 'spoken'; readonly text: string };
type AssistantTurn = { readonly modality: 'text' | 'audio'; readonly deltas: readonly string[]; readonly usage?: { readonly input: number; readonly output: number; readonly cached: number } };
type Turn = { readonly user: UserTurn; readonly assistant: AssistantTurn };

const arbVisible = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.trim() !== '');
const arbTurn: fc.Arbitrary<Turn> = fc.record({
  user: fc.record({ kind: fc.constantFrom('typed' as const, 'spoken' as const), text: arbVisible }),
  assistant: fc.record(
    {
      modality: fc.constantFrom('text' as const, 'audio' as const),
      deltas: fc.array(fc.string({ maxLength: 6 }), { minLength: 0, maxLength: 3 }).chain((ds) => arbVisible.map((v) => [...ds, v])),
      usage: fc.nat({ max: 1_000 }).chain((input) => fc.record({ input: fc.constant(input), output: fc.nat({ max: 500 }), cached: fc.nat({ max: input }) })),
    },
    { requiredKeys: ['modality', 'deltas'] },
  ),
});

/** The server events of a conversation, in order, with unique event ids. */
const render = (turns: readonly Turn[]): RealtimeServerEvent[] => {
  const out: RealtimeServerEvent[] = [];
  let e = 0;
  const id = (): string => `e-${++e}`;
  let prev: string | null = null;
  turns.forEach((t, k) => {
    const u = `u-${k}`;
    if (t.user.kind === 'typed') {
      const item: ConversationItem = { id: u, type: 'message', role: 'user', content: [{ type: 'input_text', text: t.user.text }] };
      out.push({ type: 'conversation.item.added', event_id: id(), item, previous_item_id: prev });
      out.push({ type: 'conversation.item.done', event_id: id(), item, previous_item_id: prev });
    } else {
      const item: ConversationItem = { id: u, type: 'message', role: 'user', content: [{ type: 'input_audio' }] };
      out.push({ type: 'input_audio_buffer.speech_started', event_id: id(), item_id: u, audio_start_ms: 0 });
      out.push({ type: 'input_audio_buffer.committed', event_id: id(), item_id: u, previous_item_id: prev });
      out.push({ type: 'conversation.item.added', event_id: id(), item, previous_item_id: prev });
      out.push({ type: 'conversation.item.input_audio_transcription.completed', event_id: id(), item_id: u, content_index: 0, transcript: t.user.text, usage: { type: 'duration', seconds: 1 } });
    }
    prev = u;
    const r = `r-${k}`;
    const a = `a-${k}`;
    const audio = t.assistant.modality === 'audio';
    const full = t.assistant.deltas.join('');
    out.push({ type: 'response.created', event_id: id(), response: { id: r, status: 'in_progress', output: [], output_modalities: [t.assistant.modality] } });
    out.push({ type: 'response.output_item.added', event_id: id(), response_id: r, output_index: 0, item: { id: a, type: 'message', role: 'assistant', content: [] } });
    out.push({ type: 'conversation.item.added', event_id: id(), item: { id: a, type: 'message', role: 'assistant', content: [] }, previous_item_id: prev });
    for (const delta of t.assistant.deltas) {
      out.push(
        audio
          ? { type: 'response.output_audio_transcript.delta', event_id: id(), response_id: r, item_id: a, output_index: 0, content_index: 0, delta }
          : { type: 'response.output_text.delta', event_id: id(), response_id: r, item_id: a, output_index: 0, content_index: 0, delta },
      );
      if (audio) out.push({ type: 'response.output_audio.delta', event_id: id(), response_id: r, item_id: a, output_index: 0, content_index: 0, delta: 'AAAA' });
    }
    out.push(
      audio
        ? { type: 'response.output_audio_transcript.done', event_id: id(), response_id: r, item_id: a, output_index: 0, content_index: 0, transcript: full }
        : { type: 'response.output_text.done', event_id: id(), response_id: r, item_id: a, output_index: 0, content_index: 0, text: full },
    );
    const doneItem: ConversationItem = { id: a, type: 'message', role: 'assistant', status: 'completed', content: [audio ? { type: 'output_audio', transcript: full } : { type: 'output_text', text: full }] };
    out.push({ type: 'conversation.item.done', event_id: id(), item: doneItem, previous_item_id: prev });
    const u2 = t.assistant.usage;
    out.push({
      type: 'response.done',
      event_id: id(),
      response: {
        id: r,
        status: 'completed',
        output: [doneItem],
        ...(u2 ? { usage: { input_tokens: u2.input, output_tokens: u2.output, input_token_details: { cached_tokens: u2.cached } } } : {}),
      },
    });
    prev = a;
  });
  return out;
};

const AT = 7;
const expected = (turns: readonly Turn[]): Message[] =>
  turns.flatMap((t): Message[] => {
    const full = t.assistant.deltas.join('');
    const u = t.assistant.usage;
    const usage: Usage | undefined = u ? { inputTokens: u.input, outputTokens: u.output, cacheReadTokens: u.cached } : undefined;
    return [
      { role: 'user', content: [{ type: 'text', text: t.user.text }], transcriptRole: 'conversational', createdAt: AT },
      {
        role: 'assistant',
        content: [t.assistant.modality === 'audio' ? { type: 'transcript', text: full, source: 'spoken' } : { type: 'text', text: full }],
        stopReason: 'end_turn',
        ...(usage ? { usage } : {}),
        createdAt: AT,
      },
    ];
  });

const feed = (session: Session, mapper: OpenAIRealtimeMapper, events: readonly unknown[]): Session => {
  let s = session;
  for (const ev of events) {
    const mapped = mapper.map(ev);
    if (E.isLeft(mapped)) throw new Error(JSON.stringify(mapped.left));
    for (const x of mapped.right) {
      expect(E.isRight(decodeRealtimeEvent(x))).toBe(true);
      const r = s.appendRealtimeTranscriptEvent(x);
      if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
      s = r.right.session;
    }
  }
  return s;
};

/** Inserts copies of events at later positions (each copy after its original). */
const withDuplicates = (events: readonly RealtimeServerEvent[], picks: ReadonlyArray<readonly [number, number]>): RealtimeServerEvent[] => {
  const out = [...events];
  for (const [a, b] of picks) {
    if (out.length === 0) break;
    const from = a % out.length;
    const to = from + 1 + (b % (out.length - from));
    out.splice(to, 0, out[from]!);
  }
  return out;
};

describe('OpenAI Realtime mapper into a Session', () => {
  it('in-order delivery gives the expected transcript; duplicates and a replayed suffix change nothing', () => {
    fc.assert(
      fc.property(
        fc.array(arbTurn, { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 12 }),
        fc.nat(),
        (turns, picks, replayFrom) => {
          const events = render(turns);
          const once = feed(Session.create({ clock: () => AT }), createOpenAIRealtimeMapper(), events);
          expect(once.messages).toEqual(expected(turns));

          const mapper = createOpenAIRealtimeMapper();
          let noisy = feed(Session.create({ clock: () => AT }), mapper, withDuplicates(events, picks));
          noisy = feed(noisy, mapper, events.slice(replayFrom % events.length));
          expect(noisy.messages).toEqual(once.messages);
          expect(noisy.usage).toEqual(once.usage);
          expect(noisy.log.length).toBe(once.log.length);

          const replayed = feed(once, createOpenAIRealtimeMapper(), events.slice(replayFrom % events.length));
          expect(replayed.messages).toEqual(once.messages);
          expect(replayed.log.length).toBe(once.log.length);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('map never throws on arbitrary input', () => {
    const types = fc.constantFrom(
      'conversation.item.added',
      'conversation.item.done',
      'response.output_item.added',
      'response.output_text.delta',
      'response.output_audio_transcript.delta',
      'response.output_audio_transcript.done',
      'conversation.item.truncated',
      'conversation.item.input_audio_transcription.completed',
      'response.done',
      'response.created',
      'input_audio_buffer.speech_started',
    );
    const mapper = createOpenAIRealtimeMapper({ awaitPlaybackEnd: true });
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ type: types }).chain((h) => fc.dictionary(fc.string(), fc.anything()).map((d) => ({ ...d, ...h })))), (u) => {
        const r = mapper.map(u);
        if (E.isLeft(r)) expect(r.left._tag).toBe('InvalidServerEvent');
        else for (const x of r.right) expect(E.isRight(decodeRealtimeEvent(x))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
