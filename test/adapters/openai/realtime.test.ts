/**
 * OpenAI Realtime mapper (realtime.md §8): every row of the mapping table on
 * SDK-typed server-event fixtures, every `response.done` status, usage, blank
 * transcriptions, tool calls, seeded ids, truncation, playback, barge-in, and a
 * recorded conversation (with redelivered events, a barge-in and a reconnect
 * replay) fed through the mapper into a real `Session`.
 */
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type {
  ConversationItem,
  ConversationItemAdded,
  ConversationItemDone,
  ConversationItemInputAudioTranscriptionCompletedEvent,
  ConversationItemInputAudioTranscriptionFailedEvent,
  ConversationItemTruncatedEvent,
  InputAudioBufferCommittedEvent,
  InputAudioBufferSpeechStartedEvent,
  RealtimeResponse,
  RealtimeServerEvent,
  ResponseAudioDeltaEvent,
  ResponseAudioTranscriptDeltaEvent,
  ResponseAudioTranscriptDoneEvent,
  ResponseCreatedEvent,
  ResponseDoneEvent,
  ResponseOutputItemAddedEvent,
  ResponseTextDeltaEvent,
  ResponseTextDoneEvent,
} from 'openai/resources/realtime/realtime';
import { createOpenAIRealtimeMapper, type OpenAIRealtimeMapper } from '../../../src/adapters/openai/index.ts';
import { decodeRealtimeEvent, type RealtimeTranscriptEvent } from '../../../src/machines/realtime.ts';
import { assistantToolCalls, toolResult, toolResults } from '../../../src/model/constructors.ts';
import type { Message } from '../../../src/model/message.ts';
import { Session } from '../../../src/session/session.ts';

// ---------------------------------------------------------------------------
// SDK-typed fixture builders (our own ids: u-*, a-*, r-*, e-*)

const userAudio = (id: string): ConversationItem => ({ id, type: 'message', role: 'user', object: 'realtime.item', status: 'completed', content: [{ type: 'input_audio' }] });
const userTyped = (id: string, ...texts: string[]): ConversationItem => ({
  id,
  type: 'message',
  role: 'user',
  status: 'completed',
  content: texts.map((text) => ({ type: 'input_text' as const, text })),
});
const assistantItem = (id: string, content: Array<{ type: 'output_text' | 'output_audio'; text?: string; transcript?: string }> = []): ConversationItem => ({
  id,
  type: 'message',
  role: 'assistant',
  object: 'realtime.item',
  status: content.length === 0 ? 'in_progress' : 'completed',
  content,
});
const fnCall = (id: string, callId: string): ConversationItem => ({ id, type: 'function_call', call_id: callId, name: 'book_table', arguments: '{"time":"19:00"}', status: 'completed' });

const ev = {
  added: (e: string, item: ConversationItem, prev: string | null = null): ConversationItemAdded => ({ type: 'conversation.item.added', event_id: e, item, previous_item_id: prev }),
  done: (e: string, item: ConversationItem, prev: string | null = null): ConversationItemDone => ({ type: 'conversation.item.done', event_id: e, item, previous_item_id: prev }),
  created: (e: string, item: ConversationItem, prev?: string | null) =>
    ({ type: 'conversation.item.created', event_id: e, item, ...(prev !== undefined ? { previous_item_id: prev } : {}) }) satisfies RealtimeServerEvent,
  committed: (e: string, itemId: string, prev: string | null = null): InputAudioBufferCommittedEvent => ({ type: 'input_audio_buffer.committed', event_id: e, item_id: itemId, previous_item_id: prev }),
  speechStarted: (e: string, itemId: string): InputAudioBufferSpeechStartedEvent => ({ type: 'input_audio_buffer.speech_started', event_id: e, item_id: itemId, audio_start_ms: 1_000 }),
  transcribed: (e: string, itemId: string, transcript: string, contentIndex = 0): ConversationItemInputAudioTranscriptionCompletedEvent => ({
    type: 'conversation.item.input_audio_transcription.completed',
    event_id: e,
    item_id: itemId,
    content_index: contentIndex,
    transcript,
    usage: { type: 'duration', seconds: 1.5 },
  }),
  transcriptionFailed: (e: string, itemId: string): ConversationItemInputAudioTranscriptionFailedEvent => ({
    type: 'conversation.item.input_audio_transcription.failed',
    event_id: e,
    item_id: itemId,
    content_index: 0,
    error: { code: 'audio_unintelligible', message: 'could not transcribe' },
  }),
  responseCreated: (e: string, responseId: string, modalities: Array<'text' | 'audio'> = ['audio']): ResponseCreatedEvent => ({
    type: 'response.created',
    event_id: e,
    response: { id: responseId, object: 'realtime.response', status: 'in_progress', output: [], output_modalities: modalities },
  }),
  outputItemAdded: (e: string, responseId: string, item: ConversationItem, outputIndex = 0): ResponseOutputItemAddedEvent => ({
    type: 'response.output_item.added',
    event_id: e,
    response_id: responseId,
    output_index: outputIndex,
    item,
  }),
  textDelta: (e: string, responseId: string, itemId: string, delta: string, contentIndex = 0): ResponseTextDeltaEvent => ({
    type: 'response.output_text.delta',
    event_id: e,
    response_id: responseId,
    item_id: itemId,
    output_index: 0,
    content_index: contentIndex,
    delta,
  }),
  textDone: (e: string, responseId: string, itemId: string, text: string): ResponseTextDoneEvent => ({
    type: 'response.output_text.done',
    event_id: e,
    response_id: responseId,
    item_id: itemId,
    output_index: 0,
    content_index: 0,
    text,
  }),
  transcriptDelta: (e: string, responseId: string, itemId: string, delta: string, contentIndex = 0): ResponseAudioTranscriptDeltaEvent => ({
    type: 'response.output_audio_transcript.delta',
    event_id: e,
    response_id: responseId,
    item_id: itemId,
    output_index: 0,
    content_index: contentIndex,
    delta,
  }),
  transcriptDone: (e: string, responseId: string, itemId: string, transcript: string): ResponseAudioTranscriptDoneEvent => ({
    type: 'response.output_audio_transcript.done',
    event_id: e,
    response_id: responseId,
    item_id: itemId,
    output_index: 0,
    content_index: 0,
    transcript,
  }),
  audioDelta: (e: string, responseId: string, itemId: string): ResponseAudioDeltaEvent => ({
    type: 'response.output_audio.delta',
    event_id: e,
    response_id: responseId,
    item_id: itemId,
    output_index: 0,
    content_index: 0,
    delta: 'UklGRg==',
  }),
  truncated: (e: string, itemId: string, contentIndex = 0): ConversationItemTruncatedEvent => ({
    type: 'conversation.item.truncated',
    event_id: e,
    item_id: itemId,
    content_index: contentIndex,
    audio_end_ms: 1_200,
  }),
  responseDone: (e: string, response: RealtimeResponse): ResponseDoneEvent => ({ type: 'response.done', event_id: e, response: { object: 'realtime.response', ...response } }),
};

const usageWire = { input_tokens: 100, output_tokens: 20, total_tokens: 120, input_token_details: { cached_tokens: 64, audio_tokens: 36 } } satisfies RealtimeResponse['usage'];

const mapAll = (mapper: OpenAIRealtimeMapper, events: readonly unknown[]): RealtimeTranscriptEvent[] =>
  events.flatMap((e) => {
    const r = mapper.map(e);
    if (E.isLeft(r)) throw new Error(`map failed: ${JSON.stringify(r.left)}`);
    for (const x of r.right) expect(E.isRight(decodeRealtimeEvent(x)), JSON.stringify(x)).toBe(true);
    return r.right;
  });
const mapOne = (mapper: OpenAIRealtimeMapper, event: unknown): RealtimeTranscriptEvent[] => mapAll(mapper, [event]);

const AT = 5_000;
const appendAll = (session: Session, events: readonly RealtimeTranscriptEvent[]): Session => {
  let s = session;
  for (const e of events) {
    const r = s.appendRealtimeTranscriptEvent(e);
    if (E.isLeft(r)) throw new Error(`append failed: ${JSON.stringify(r.left)}`);
    s = r.right.session;
  }
  return s;
};
const feed = (session: Session, mapper: OpenAIRealtimeMapper, events: readonly unknown[]): Session => appendAll(session, mapAll(mapper, events));
const pushed = (session: Session, m: Parameters<Session['push']>[0]): Session => {
  const r = session.push(m);
  if (E.isLeft(r)) throw new Error(`push failed: ${JSON.stringify(r.left)}`);
  return r.right;
};

// ---------------------------------------------------------------------------

describe('mapping table', () => {
  it('user message items: observed, a final per input_text part, skipped without text or audio', () => {
    const m = createOpenAIRealtimeMapper();
    expect(mapOne(m, ev.added('e-1', userTyped('u-1', 'Hello', '  ', 'there'), 'a-0'))).toEqual([
      { type: 'item_observed', itemId: 'u-1', role: 'user', previousItemId: 'a-0' },
      { type: 'user_transcript_final', itemId: 'u-1', contentIndex: 0, text: 'Hello', previousItemId: 'a-0' },
      { type: 'user_transcript_final', itemId: 'u-1', contentIndex: 1, text: '  ', previousItemId: 'a-0' },
      { type: 'user_transcript_final', itemId: 'u-1', contentIndex: 2, text: 'there', previousItemId: 'a-0' },
    ]);
    // audio only: observed, the transcription comes later
    expect(mapOne(m, ev.added('e-2', userAudio('u-2'), null))).toEqual([{ type: 'item_observed', itemId: 'u-2', role: 'user' }]);
    // neither text nor audio (an image), and blank text only
    const image: ConversationItem = { id: 'u-3', type: 'message', role: 'user', content: [{ type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=' }] };
    expect(mapOne(m, ev.created('e-3', image, 'u-2'))).toEqual([
      { type: 'item_observed', itemId: 'u-3', role: 'user', previousItemId: 'u-2' },
      { type: 'item_skipped', itemId: 'u-3', previousItemId: 'u-2' },
    ]);
    expect(mapOne(m, ev.done('e-4', userTyped('u-4', ' \n'), 'u-3'))).toEqual([
      { type: 'item_observed', itemId: 'u-4', role: 'user', previousItemId: 'u-3' },
      { type: 'user_transcript_final', itemId: 'u-4', contentIndex: 0, text: ' \n', previousItemId: 'u-3' },
      { type: 'item_skipped', itemId: 'u-4', previousItemId: 'u-3' },
    ]);
  });

  it('assistant items: observed with the remembered response; other items skipped', () => {
    const m = createOpenAIRealtimeMapper();
    // conversation.item.added before the mapper knows the response: no responseId
    expect(mapOne(m, ev.added('e-1', assistantItem('a-0'), null))).toEqual([{ type: 'item_observed', itemId: 'a-0', role: 'assistant' }]);
    expect(mapOne(m, ev.outputItemAdded('e-2', 'r-1', assistantItem('a-1')))).toEqual([{ type: 'item_observed', itemId: 'a-1', role: 'assistant', responseId: 'r-1' }]);
    expect(mapOne(m, ev.added('e-3', assistantItem('a-1'), 'u-1'))).toEqual([{ type: 'item_observed', itemId: 'a-1', role: 'assistant', previousItemId: 'u-1', responseId: 'r-1' }]);
    // the output item now carries the remembered predecessor
    expect(mapOne(m, ev.outputItemAdded('e-4', 'r-1', assistantItem('a-1')))).toEqual([{ type: 'item_observed', itemId: 'a-1', role: 'assistant', responseId: 'r-1', previousItemId: 'u-1' }]);
    expect(mapOne(m, ev.outputItemAdded('e-5', 'r-1', fnCall('fc-1', 'call_1'), 1))).toEqual([{ type: 'item_skipped', itemId: 'fc-1' }]);
    const others: ConversationItem[] = [
      { id: 's-1', type: 'message', role: 'system', content: [{ type: 'input_text', text: 'be nice' }] },
      fnCall('fc-2', 'call_2'),
      { id: 'fo-1', type: 'function_call_output', call_id: 'call_1', output: '{"ok":true}' },
      { id: 'mcp-1', type: 'mcp_call', name: 'search', arguments: '{}', server_label: 'docs' },
      { id: 'mcp-2', type: 'mcp_list_tools', server_label: 'docs', tools: [] },
      { id: 'mcp-3', type: 'mcp_approval_request', name: 'search', arguments: '{}', server_label: 'docs' },
      { id: 'mcp-4', type: 'mcp_approval_response', approval_request_id: 'mcp-3', approve: true },
    ];
    for (const item of others) expect(mapOne(m, ev.added('e-x', item, 'a-1'))).toEqual([{ type: 'item_skipped', itemId: item.id, previousItemId: 'a-1' }]);
    // an item type the SDK does not know yet is skipped as well
    expect(mapOne(m, { type: 'conversation.item.added', event_id: 'e-y', item: { id: 'z-1', type: 'future_item' } })).toEqual([{ type: 'item_skipped', itemId: 'z-1' }]);
  });

  it('transcriptions: final, blank → skipped, failed → skipped, with the remembered predecessor', () => {
    const m = createOpenAIRealtimeMapper();
    expect(mapOne(m, ev.committed('e-1', 'u-1', 'a-0'))).toEqual([]);
    expect(mapOne(m, ev.transcribed('e-2', 'u-1', 'Hi there', 0))).toEqual([{ type: 'user_transcript_final', itemId: 'u-1', contentIndex: 0, text: 'Hi there', previousItemId: 'a-0' }]);
    expect(mapOne(m, ev.transcribed('e-3', 'u-2', ''))).toEqual([{ type: 'item_skipped', itemId: 'u-2' }]);
    expect(mapOne(m, ev.transcribed('e-4', 'u-3', '  \t'))).toEqual([{ type: 'item_skipped', itemId: 'u-3' }]);
    expect(mapOne(m, ev.transcriptionFailed('e-5', 'u-4'))).toEqual([{ type: 'item_skipped', itemId: 'u-4' }]);
  });

  it('deltas carry event_id as deltaId; transcript done is a final text; output_text.done and audio map to nothing', () => {
    const m = createOpenAIRealtimeMapper();
    mapOne(m, ev.added('e-0', assistantItem('a-1'), 'u-1'));
    expect(mapOne(m, ev.textDelta('e-1', 'r-1', 'a-1', 'Hel'))).toEqual([
      { type: 'assistant_text_delta', responseId: 'r-1', deltaId: 'e-1', itemId: 'a-1', contentIndex: 0, delta: 'Hel', previousItemId: 'u-1' },
    ]);
    expect(mapOne(m, ev.transcriptDelta('e-2', 'r-2', 'a-2', 'Hi', 1))).toEqual([
      { type: 'assistant_transcript_delta', responseId: 'r-2', deltaId: 'e-2', itemId: 'a-2', contentIndex: 1, delta: 'Hi' },
    ]);
    expect(mapOne(m, ev.transcriptDone('e-3', 'r-2', 'a-2', 'Hi there'))).toEqual([
      { type: 'assistant_transcript_final_text', responseId: 'r-2', itemId: 'a-2', contentIndex: 0, text: 'Hi there' },
    ]);
    expect(mapOne(m, ev.textDone('e-4', 'r-1', 'a-1', 'Hello'))).toEqual([]);
    expect(mapOne(m, ev.audioDelta('e-5', 'r-2', 'a-2'))).toEqual([]);
    expect(mapOne(m, { type: 'rate_limits.updated', event_id: 'e-6', rate_limits: [] } satisfies RealtimeServerEvent)).toEqual([]);
    // ids are trimmed
    expect(mapOne(m, { ...ev.textDelta(' e-7 ', ' r-1 ', ' a-1 ', 'x') })).toEqual([
      { type: 'assistant_text_delta', responseId: 'r-1', deltaId: 'e-7', itemId: 'a-1', contentIndex: 0, delta: 'x', previousItemId: 'u-1' },
    ]);
  });

  it('maps every response.done status', () => {
    const text = assistantItem('a-1', [{ type: 'output_text', text: 'ok' }]);
    const cases: Array<[Partial<RealtimeResponse>, string]> = [
      [{ status: 'completed', output: [text] }, 'end_turn'],
      [{ status: 'completed', output: [text, fnCall('fc-1', 'c')] }, 'tool_use'],
      [{ status: 'completed', output: [{ id: 'mcp-1', type: 'mcp_call', name: 'n', arguments: '{}', server_label: 's' }] }, 'tool_use'],
      [{ status: 'incomplete', status_details: { type: 'incomplete', reason: 'max_output_tokens' }, output: [text] }, 'max_tokens'],
      [{ status: 'incomplete', status_details: { type: 'incomplete', reason: 'content_filter' }, output: [text] }, 'content_filter'],
      [{ status: 'incomplete', output: [text] }, 'end_turn'],
      [{ status: 'cancelled', status_details: { type: 'cancelled', reason: 'turn_detected' }, output: [text] }, 'cancelled'],
      [{ status: 'cancelled', status_details: { type: 'cancelled', reason: 'client_cancelled' } }, 'cancelled'],
      [{ status: 'failed', status_details: { type: 'failed', error: { type: 'server_error', code: 'x' } }, output: [text] }, 'cancelled'],
      [{ output: [text] }, 'end_turn'],
    ];
    for (const [response, stopReason] of cases) {
      const m = createOpenAIRealtimeMapper();
      const out = mapOne(m, ev.responseDone('e-1', { id: 'r-1', ...response }));
      expect(out.at(-1), JSON.stringify(response)).toEqual({ type: 'assistant_turn_completed', responseId: 'r-1', stopReason });
    }
    // no id: nothing
    expect(mapOne(createOpenAIRealtimeMapper(), ev.responseDone('e-1', { status: 'completed' }))).toEqual([]);
    // a status outside the documented set
    const bad = createOpenAIRealtimeMapper().map(ev.responseDone('e-1', { id: 'r-1', status: 'in_progress' }));
    expect(bad).toEqual(E.left(expect.objectContaining({ _tag: 'InvalidServerEvent', path: '$.response.status', eventType: 'response.done' })));
  });

  it('maps usage, skips output items without text', () => {
    const m = createOpenAIRealtimeMapper();
    mapOne(m, ev.transcriptDelta('e-1', 'r-1', 'a-2', 'spoken words'));
    const out = mapOne(
      m,
      ev.responseDone('e-2', {
        id: 'r-1',
        status: 'completed',
        usage: usageWire,
        output: [
          assistantItem('a-1', [{ type: 'output_text', text: 'written' }]), // text in the done event
          assistantItem('a-2', [{ type: 'output_audio' }]), // text seen as deltas
          assistantItem('a-3', [{ type: 'output_audio', transcript: '   ' }]), // blank
          assistantItem('a-4'), // empty
        ],
      }),
    );
    expect(out).toEqual([
      { type: 'item_skipped', itemId: 'a-3' },
      { type: 'item_skipped', itemId: 'a-4' },
      { type: 'assistant_turn_completed', responseId: 'r-1', stopReason: 'end_turn', usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 64 } },
    ]);
    const partial = mapOne(createOpenAIRealtimeMapper(), ev.responseDone('e-3', { id: 'r-2', status: 'completed', usage: { output_tokens: 5 } }));
    expect(partial).toEqual([{ type: 'assistant_turn_completed', responseId: 'r-2', stopReason: 'end_turn', usage: { inputTokens: 0, outputTokens: 5 } }]);
    // a cached count above the input count is not a subset of it: left out, the completion still goes through
    const tooCached = mapOne(createOpenAIRealtimeMapper(), ev.responseDone('e-4', { id: 'r-3', usage: { input_tokens: 1, output_tokens: 3, input_token_details: { cached_tokens: 2 } } }));
    expect(tooCached).toEqual([{ type: 'assistant_turn_completed', responseId: 'r-3', stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 3 } }]);
  });

  it('out-of-band responses (conversation_id null) map to nothing and are not interrupted', () => {
    const m = createOpenAIRealtimeMapper();
    const oob = { id: 'r-oob', status: 'in_progress', output: [], output_modalities: ['text'], conversation_id: null } as unknown as RealtimeResponse;
    const item = assistantItem('a-oob');
    expect(
      mapAll(m, [
        ev.responseCreated('e-1', 'r-1', ['text']),
        { type: 'response.created', event_id: 'e-2', response: oob } satisfies RealtimeServerEvent,
        ev.outputItemAdded('e-3', 'r-oob', item),
        ev.textDelta('e-4', 'r-oob', 'a-oob', 'sentiment: positive'),
        ev.transcriptDone('e-5', 'r-oob', 'a-oob', 'sentiment: positive'),
        ev.audioDelta('e-6', 'r-oob', 'a-oob'),
      ]),
    ).toEqual([]);
    expect(m.inProgressResponseIds()).toEqual(['r-1']);
    expect(mapOne(m, ev.speechStarted('e-7', 'u-2'))).toEqual([{ type: 'assistant_turn_interrupted', responseId: 'r-1' }]);
    const done = { ...oob, status: 'completed', output: [assistantItem('a-oob', [{ type: 'output_text', text: 'sentiment: positive' }])] } as unknown as RealtimeResponse;
    expect(mapOne(m, ev.responseDone('e-8', done))).toEqual([]);
    // a mapper that missed response.created (reconnect) passes the items it may have staged, without a completion
    const fresh = createOpenAIRealtimeMapper();
    expect(mapOne(fresh, ev.textDelta('e-4', 'r-oob', 'a-oob', 'sentiment: positive'))).toHaveLength(1);
    expect(mapOne(fresh, ev.responseDone('e-8', done))).toEqual([{ type: 'item_skipped', itemId: 'a-oob' }]);
    expect(mapOne(fresh, ev.textDelta('e-9', 'r-oob', 'a-oob', ' (late)'))).toEqual([]);
  });

  it('barge-in interrupts the responses in progress, once', () => {
    const m = createOpenAIRealtimeMapper();
    expect(mapOne(m, ev.speechStarted('e-0', 'u-1'))).toEqual([]);
    mapOne(m, ev.responseCreated('e-1', 'r-1'));
    expect(m.inProgressResponseIds()).toEqual(['r-1']);
    expect(mapOne(m, ev.speechStarted('e-2', 'u-2'))).toEqual([{ type: 'assistant_turn_interrupted', responseId: 'r-1' }]);
    expect(m.inProgressResponseIds()).toEqual([]);
    // late output of the interrupted response does not make it in progress again
    mapOne(m, ev.transcriptDelta('e-3', 'r-1', 'a-1', 'late'));
    expect(mapOne(m, ev.speechStarted('e-4', 'u-3'))).toEqual([]);
    // the server's cancelled response.done still maps (the machine ignores it: C2)
    expect(mapOne(m, ev.responseDone('e-5', { id: 'r-1', status: 'cancelled', status_details: { type: 'cancelled', reason: 'turn_detected' } }))).toEqual([
      { type: 'assistant_turn_completed', responseId: 'r-1', stopReason: 'cancelled' },
    ]);
    // a response seen only through its output is in progress too; response.done ends it
    mapOne(m, ev.outputItemAdded('e-6', 'r-2', assistantItem('a-2')));
    expect(m.inProgressResponseIds()).toEqual(['r-2']);
    mapOne(m, ev.responseDone('e-7', { id: 'r-2', status: 'completed', output: [assistantItem('a-2', [{ type: 'output_text', text: 'x' }])] }));
    expect(mapOne(m, ev.speechStarted('e-8', 'u-4'))).toEqual([]);
    // a redelivered response.created / speech_started does not resurrect or re-interrupt
    mapOne(m, ev.responseCreated('e-9', 'r-3'));
    expect(mapOne(m, ev.responseCreated('e-1', 'r-1'))).toEqual([]);
    expect(mapOne(m, ev.speechStarted('e-2', 'u-2'))).toEqual([]);
    expect(m.inProgressResponseIds()).toEqual(['r-3']);
  });

  it('truncation uses the heard prefix the application passed', () => {
    const m = createOpenAIRealtimeMapper();
    mapOne(m, ev.outputItemAdded('e-1', 'r-1', assistantItem('a-1')));
    mapOne(m, ev.outputItemAdded('e-2', 'r-1', assistantItem('a-2'), 1));
    expect(m.truncate('a-1', 0, 'It is no')).toEqual(E.right(undefined));
    expect(mapOne(m, ev.truncated('e-3', 'a-1'))).toEqual([{ type: 'assistant_transcript_truncated', responseId: 'r-1', itemId: 'a-1', contentIndex: 0, text: 'It is no' }]);
    // redelivery maps to the same event
    expect(mapOne(m, ev.truncated('e-3', 'a-1'))).toEqual([{ type: 'assistant_transcript_truncated', responseId: 'r-1', itemId: 'a-1', contentIndex: 0, text: 'It is no' }]);
    m.truncate('a-2', 0, '  ');
    expect(mapOne(m, ev.truncated('e-4', 'a-2'))).toEqual([{ type: 'item_skipped', itemId: 'a-2' }]);
    // never told: nothing was heard as far as the mapper knows
    expect(mapOne(m, ev.truncated('e-5', 'a-9'))).toEqual([{ type: 'item_skipped', itemId: 'a-9' }]);
    expect(m.truncate('', 0, 'x')).toEqual(E.left(expect.objectContaining({ _tag: 'InvalidArgument', argument: 'itemId' })));
    expect(m.truncate('a-1', -1, 'x')).toEqual(E.left(expect.objectContaining({ _tag: 'InvalidArgument', argument: 'contentIndex' })));
    expect(m.truncate('a-1', 0.5, 'x')).toEqual(E.left(expect.objectContaining({ _tag: 'InvalidArgument', argument: 'contentIndex' })));
    expect(m.truncate('a-1', 0, 'x\ud800')).toEqual(E.left(expect.objectContaining({ _tag: 'InvalidArgument', argument: 'heardText' })));
  });

  it('seeded items are not mapped and are dropped as predecessors', () => {
    const m = createOpenAIRealtimeMapper({ seedItemIds: ['h-1', ' h-2 '] });
    expect(mapOne(m, ev.added('e-1', userTyped('h-1', 'old'), null))).toEqual([]);
    expect(mapOne(m, ev.added('e-2', assistantItem('h-2', [{ type: 'output_text', text: 'old reply' }]), 'h-1'))).toEqual([]);
    expect(mapOne(m, ev.committed('e-3', 'u-1', 'h-2'))).toEqual([]);
    expect(mapOne(m, ev.added('e-4', userAudio('u-1'), 'h-2'))).toEqual([{ type: 'item_observed', itemId: 'u-1', role: 'user' }]);
    expect(mapOne(m, ev.transcriptionFailed('e-5', 'h-1'))).toEqual([]);
    m.seed(['a-9']);
    expect(mapOne(m, ev.textDelta('e-6', 'r-1', 'a-9', 'x'))).toEqual([]);
    expect(mapOne(m, ev.added('e-7', userTyped('u-2', 'new'), 'a-9'))).toEqual([
      { type: 'item_observed', itemId: 'u-2', role: 'user' },
      { type: 'user_transcript_final', itemId: 'u-2', contentIndex: 0, text: 'new' },
    ]);
  });

  it('awaitPlaybackEnd holds audio completions until playback ends; a barge-in during playback interrupts', () => {
    const m = createOpenAIRealtimeMapper({ awaitPlaybackEnd: true });
    mapOne(m, ev.responseCreated('e-1', 'r-1', ['audio']));
    mapOne(m, ev.transcriptDelta('e-2', 'r-1', 'a-1', 'Hello!'));
    const done = ev.responseDone('e-3', { id: 'r-1', status: 'completed', output: [assistantItem('a-1', [{ type: 'output_audio', transcript: 'Hello!' }])] });
    expect(mapOne(m, done)).toEqual([]);
    expect(m.awaitingPlaybackResponseIds()).toEqual(['r-1']);
    expect(mapOne(m, done)).toEqual([]); // redelivered
    expect(m.playbackEnded()).toEqual([{ type: 'assistant_turn_completed', responseId: 'r-1', stopReason: 'end_turn' }]);
    expect(m.playbackEnded()).toEqual([]);
    // a text response is not held, nor is a cancelled audio response
    mapOne(m, ev.responseCreated('e-4', 'r-2', ['text']));
    mapOne(m, ev.textDelta('e-5', 'r-2', 'a-2', 'written'));
    expect(mapOne(m, ev.responseDone('e-6', { id: 'r-2', status: 'completed' }))).toEqual([{ type: 'assistant_turn_completed', responseId: 'r-2', stopReason: 'end_turn' }]);
    mapOne(m, ev.responseCreated('e-7', 'r-3', ['audio']));
    expect(mapOne(m, ev.responseDone('e-8', { id: 'r-3', status: 'failed' }))).toEqual([{ type: 'assistant_turn_completed', responseId: 'r-3', stopReason: 'cancelled' }]);
    // barge-in while r-4 plays: interrupted, its held completion dropped
    mapOne(m, ev.responseCreated('e-9', 'r-4', ['text', 'audio']));
    expect(mapOne(m, ev.responseDone('e-10', { id: 'r-4', status: 'completed', usage: usageWire }))).toEqual([]);
    expect(mapOne(m, ev.speechStarted('e-11', 'u-9'))).toEqual([{ type: 'assistant_turn_interrupted', responseId: 'r-4' }]);
    expect(m.playbackEnded('r-4')).toEqual([]);
    // playbackEnded(responseId) releases only that response
    for (const [e, r] of [['e-12', 'r-5'], ['e-13', 'r-6']] as const) {
      mapOne(m, ev.audioDelta(`${e}a`, r, 'a-x'));
      mapOne(m, ev.responseDone(e, { id: r, status: 'completed' }));
    }
    expect(m.playbackEnded('r-6')).toEqual([{ type: 'assistant_turn_completed', responseId: 'r-6', stopReason: 'end_turn' }]);
    expect(m.awaitingPlaybackResponseIds()).toEqual(['r-5']);
    // without the option nothing is held
    const plain = createOpenAIRealtimeMapper();
    mapOne(plain, ev.responseCreated('e-1', 'r-1', ['audio']));
    expect(mapOne(plain, ev.responseDone('e-3', { id: 'r-1', status: 'completed' }))).toHaveLength(1);
    expect(plain.playbackEnded()).toEqual([]);
  });

  it('reports server events missing required fields as InvalidServerEvent, leaving the mapper unchanged', () => {
    const m = createOpenAIRealtimeMapper();
    const cases: Array<[unknown, string, string?]> = [
      [null, '$'],
      [[], '$'],
      [{ event_id: 'e-1' }, '$.type'],
      [{ type: 'conversation.item.added', event_id: 'e-1' }, '$.item', 'conversation.item.added'],
      [{ type: 'conversation.item.added', event_id: 'e-1', item: { type: 'message', role: 'user', content: [] } }, '$.item.id', 'conversation.item.added'],
      [{ type: 'conversation.item.done', event_id: 'e-1', item: { id: '  ', type: 'message' } }, '$.item.id', 'conversation.item.done'],
      [{ type: 'conversation.item.added', event_id: 'e-1', item: { id: 'u-1', type: 'message', role: 'user', content: [{ type: 'input_text', text: 5 }] } }, '$.item.content[0].text'],
      [{ type: 'conversation.item.added', event_id: 'e-1', previous_item_id: 3, item: userTyped('u-1', 'x') }, '$.previous_item_id'],
      [{ ...ev.textDelta('e-1', 'r-1', 'a-1', 'x'), event_id: undefined }, '$.event_id', 'response.output_text.delta'],
      [{ ...ev.textDelta('', 'r-1', 'a-1', 'x') }, '$.event_id'],
      [{ ...ev.textDelta('e-1', 'r-1', 'a-1', 'x'), response_id: undefined }, '$.response_id'],
      [{ ...ev.transcriptDelta('e-1', 'r-1', 'a-1', 'x'), content_index: -1 }, '$.content_index'],
      [{ ...ev.transcriptDelta('e-1', 'r-1', 'a-1', 'x'), content_index: 1.5 }, '$.content_index'],
      [{ ...ev.transcriptDelta('e-1', 'r-1', 'a-1', 'x'), delta: null }, '$.delta'],
      [{ ...ev.transcribed('e-1', 'u-1', 'x'), transcript: undefined }, '$.transcript'],
      [{ ...ev.transcribed('e-1', 'u-1', 'x'), item_id: '' }, '$.item_id'],
      [{ ...ev.truncated('e-1', 'a-1'), content_index: '0' }, '$.content_index'],
      [{ ...ev.outputItemAdded('e-1', 'r-1', assistantItem('a-1')), response_id: ' ' }, '$.response_id'],
      [{ type: 'response.done', event_id: 'e-1' }, '$.response'],
      [{ type: 'response.done', event_id: 'e-1', response: { id: 'r-1', output: [{ id: 'a-1' }] } }, '$.response.output[0].type'],
      [{ type: 'response.done', event_id: 'e-1', response: { id: 'r-1', usage: { input_tokens: -5 } } }, '$.response.usage.input_tokens'],
      [{ type: 'input_audio_buffer.speech_started', item_id: 'u-1' }, '$.event_id'],
    ];
    for (const [event, path, eventType] of cases) {
      const r = m.map(event);
      expect(r, JSON.stringify(event)).toEqual(E.left(expect.objectContaining({ _tag: 'InvalidServerEvent', path })));
      if (eventType !== undefined && E.isLeft(r)) expect(r.left.eventType).toBe(eventType);
    }
    // nothing was remembered from the failures
    expect(m.inProgressResponseIds()).toEqual([]);
    expect(mapOne(m, ev.added('e-9', userTyped('u-1', 'x')))).toEqual([
      { type: 'item_observed', itemId: 'u-1', role: 'user' },
      { type: 'user_transcript_final', itemId: 'u-1', contentIndex: 0, text: 'x' },
    ]);
  });
});

// ---------------------------------------------------------------------------
// A recorded conversation through a real Session

/** Turn 1: spoken question, spoken answer (with redelivered deltas and item events). */
const turn1: RealtimeServerEvent[] = [
  ev.speechStarted('e-1', 'u-1'),
  { type: 'input_audio_buffer.speech_stopped', event_id: 'e-2', item_id: 'u-1', audio_end_ms: 900 },
  ev.committed('e-3', 'u-1', null),
  ev.added('e-4', userAudio('u-1'), null),
  ev.done('e-5', userAudio('u-1'), null),
  ev.responseCreated('e-6', 'r-1', ['audio']),
  ev.outputItemAdded('e-7', 'r-1', assistantItem('a-1')),
  ev.added('e-8', assistantItem('a-1'), 'u-1'),
  ev.transcribed('e-9', 'u-1', 'What time is it?'),
  ev.transcriptDelta('e-10', 'r-1', 'a-1', 'It is '),
  ev.audioDelta('e-11', 'r-1', 'a-1'),
  ev.transcriptDelta('e-12', 'r-1', 'a-1', 'noon.'),
  ev.transcriptDelta('e-10', 'r-1', 'a-1', 'It is '), // redelivered
  ev.transcriptDelta('e-12', 'r-1', 'a-1', 'noon.'), // redelivered
  ev.transcribed('e-9', 'u-1', 'What time is it?'), // redelivered
  ev.transcriptDone('e-13', 'r-1', 'a-1', 'It is noon.'),
  { type: 'response.output_item.done', event_id: 'e-14', response_id: 'r-1', output_index: 0, item: assistantItem('a-1', [{ type: 'output_audio', transcript: 'It is noon.' }]) },
  ev.done('e-15', assistantItem('a-1', [{ type: 'output_audio', transcript: 'It is noon.' }]), 'u-1'),
  ev.responseDone('e-16', { id: 'r-1', status: 'completed', output: [assistantItem('a-1', [{ type: 'output_audio', transcript: 'It is noon.' }])], usage: usageWire }),
  ev.responseDone('e-16', { id: 'r-1', status: 'completed', output: [assistantItem('a-1', [{ type: 'output_audio', transcript: 'It is noon.' }])], usage: usageWire }), // redelivered
];

/** Turn 2: typed question; the text reply ends in a function call (the runtime commits the exchange). */
const turn2: RealtimeServerEvent[] = [
  ev.added('e-17', userTyped('u-2', 'Book a table for two.'), 'a-1'),
  ev.responseCreated('e-18', 'r-2', ['text']),
  ev.outputItemAdded('e-19', 'r-2', assistantItem('a-2')),
  ev.added('e-20', assistantItem('a-2'), 'u-2'),
  ev.textDelta('e-21', 'r-2', 'a-2', 'Sure, '),
  ev.textDelta('e-22', 'r-2', 'a-2', 'booking now.'),
  ev.textDone('e-23', 'r-2', 'a-2', 'Sure, booking now.'),
  ev.outputItemAdded('e-24', 'r-2', fnCall('fc-1', 'call_1'), 1),
  ev.added('e-25', fnCall('fc-1', 'call_1'), 'a-2'),
  { type: 'response.function_call_arguments.delta', event_id: 'e-26', response_id: 'r-2', item_id: 'fc-1', output_index: 1, call_id: 'call_1', delta: '{"time":"19:00"}' },
  ev.responseDone('e-27', {
    id: 'r-2',
    status: 'completed',
    output: [assistantItem('a-2', [{ type: 'output_text', text: 'Sure, booking now.' }]), fnCall('fc-1', 'call_1')],
    usage: { input_tokens: 200, output_tokens: 15 },
  }),
];

/** Turn 3: the tool output goes back; the spoken answer is cut off by the user (barge-in), who corrects themselves. */
const turn3: RealtimeServerEvent[] = [
  ev.added('e-28', { id: 'fo-1', type: 'function_call_output', call_id: 'call_1', output: '{"booked":true}' }, 'fc-1'),
  ev.responseCreated('e-29', 'r-3', ['audio']),
  ev.outputItemAdded('e-30', 'r-3', assistantItem('a-3')),
  ev.added('e-31', assistantItem('a-3'), 'fo-1'),
  ev.transcriptDelta('e-32', 'r-3', 'a-3', 'Your table is booked for seven'),
  ev.speechStarted('e-33', 'u-4'),
  ev.transcriptDelta('e-34', 'r-3', 'a-3', ' tonight.'),
  ev.responseDone('e-35', {
    id: 'r-3',
    status: 'cancelled',
    status_details: { type: 'cancelled', reason: 'turn_detected' },
    output: [assistantItem('a-3', [{ type: 'output_audio', transcript: 'Your table is booked for seven tonight.' }])],
    usage: { input_tokens: 300, output_tokens: 9 },
  }),
  ev.truncated('e-36', 'a-3'),
  ev.committed('e-37', 'u-4', 'a-3'),
  ev.added('e-38', userAudio('u-4'), 'a-3'),
  ev.transcribed('e-39', 'u-4', 'Wait, make it eight.'),
];

const toolCallMessage = assistantToolCalls([{ id: 'call_1', name: 'book_table', args: { time: '19:00' } }], { text: 'Sure, booking now.' });
const toolResultMessage = toolResults([toolResult('call_1', '{"booked":true}')]);

const expectedTranscript: Message[] = [
  { role: 'user', content: [{ type: 'text', text: 'What time is it?' }], transcriptRole: 'conversational', createdAt: AT },
  {
    role: 'assistant',
    content: [{ type: 'transcript', text: 'It is noon.', source: 'spoken' }],
    stopReason: 'end_turn',
    usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 64 },
    createdAt: AT,
  },
  { role: 'user', content: [{ type: 'text', text: 'Book a table for two.' }], transcriptRole: 'conversational', createdAt: AT },
  {
    role: 'assistant',
    content: [
      { type: 'text', text: 'Sure, booking now.' },
      { type: 'tool_use', id: 'call_1', name: 'book_table', args: { time: '19:00' } },
    ],
    stopReason: 'tool_use',
    createdAt: AT,
  },
  { role: 'tool_results', results: [{ toolUseId: 'call_1', content: [{ type: 'text', text: '{"booked":true}' }], isError: false }], createdAt: AT },
  { role: 'user', content: [{ type: 'text', text: 'Wait, make it eight.' }], transcriptRole: 'conversational', createdAt: AT },
];

const runConversation = (mapper: OpenAIRealtimeMapper): Session => {
  let s = Session.create({ clock: () => AT, id: 'rt-1' });
  s = feed(s, mapper, turn1);
  expect(s.messages).toEqual(expectedTranscript.slice(0, 2));
  s = feed(s, mapper, turn2);
  expect(s.messages).toEqual(expectedTranscript.slice(0, 3));
  // tool_use: a-2 stays in flight; the runtime commits the exchange and passes a-2 (realtime.md §3.7)
  s = pushed(s, toolCallMessage);
  s = pushed(s, toolResultMessage);
  s = appendAll(s, [{ type: 'item_skipped', itemId: 'a-2' }]);
  s = feed(s, mapper, turn3);
  return s;
};

describe('a recorded conversation through a Session', () => {
  it('gives the canonical transcript, usage once per response', () => {
    const s = runConversation(createOpenAIRealtimeMapper());
    expect(s.messages).toEqual(expectedTranscript);
    // r-1 committed with usage; r-2 ended in a tool call (its completion withdrawn); r-3 was interrupted
    expect(s.usage).toEqual({ inputTokens: 100, outputTokens: 20, cacheReadTokens: 64 });
    const replayed = Session.replay(s.log);
    expect(E.isRight(replayed) && replayed.right.messages).toEqual(expectedTranscript);
  });

  it('is unchanged by a reconnect replay, through the same mapper or a fresh one', () => {
    const mapper = createOpenAIRealtimeMapper();
    const s = runConversation(mapper);
    const records = s.log.length;
    const suffix = [...turn2, ...turn3];
    const again = feed(s, mapper, suffix);
    expect(again.messages).toEqual(expectedTranscript);
    expect(again.log.length).toBe(records);
    const fresh = feed(s, createOpenAIRealtimeMapper(), [...turn1, ...suffix]);
    expect(fresh.messages).toEqual(expectedTranscript);
    expect(fresh.log.length).toBe(records);
    expect(fresh.usage).toEqual(s.usage);
  });

  it('keeps display text cut by a barge-in, with stop reason cancelled and no usage', () => {
    const m = createOpenAIRealtimeMapper();
    let s = Session.create({ clock: () => AT });
    s = feed(s, m, [
      ev.added('e-1', userTyped('u-1', 'Tell me a story.')),
      ev.responseCreated('e-2', 'r-1', ['text']),
      ev.outputItemAdded('e-3', 'r-1', assistantItem('a-1')),
      ev.added('e-4', assistantItem('a-1'), 'u-1'),
      ev.textDelta('e-5', 'r-1', 'a-1', 'Once upon a time'),
      ev.speechStarted('e-6', 'u-2'),
      ev.textDelta('e-7', 'r-1', 'a-1', ' there was'),
      ev.responseDone('e-8', { id: 'r-1', status: 'cancelled', status_details: { type: 'cancelled', reason: 'turn_detected' }, usage: { input_tokens: 10, output_tokens: 4 } }),
      ev.committed('e-9', 'u-2', 'a-1'),
      ev.added('e-10', userAudio('u-2'), 'a-1'),
      ev.transcribed('e-11', 'u-2', 'Stop.'),
    ]);
    expect(s.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Tell me a story.' }], transcriptRole: 'conversational', createdAt: AT },
      { role: 'assistant', content: [{ type: 'text', text: 'Once upon a time' }], stopReason: 'cancelled', createdAt: AT },
      { role: 'user', content: [{ type: 'text', text: 'Stop.' }], transcriptRole: 'conversational', createdAt: AT },
    ]);
    expect(s.usage).toEqual({ inputTokens: 0, outputTokens: 0 });
  });

  it('with awaitPlaybackEnd, commits the heard prefix of a truncated reply once playback ends', () => {
    const m = createOpenAIRealtimeMapper({ awaitPlaybackEnd: true });
    let s = Session.create({ clock: () => AT });
    s = feed(s, m, [
      ev.added('e-1', userTyped('u-1', 'Read me the news.')),
      ev.responseCreated('e-2', 'r-1', ['audio']),
      ev.outputItemAdded('e-3', 'r-1', assistantItem('a-1')),
      ev.added('e-4', assistantItem('a-1'), 'u-1'),
      ev.transcriptDelta('e-5', 'r-1', 'a-1', 'Markets rose today. Rain is expected.'),
      ev.transcriptDone('e-6', 'r-1', 'a-1', 'Markets rose today. Rain is expected.'),
      ev.responseDone('e-7', { id: 'r-1', status: 'completed', output: [assistantItem('a-1', [{ type: 'output_audio', transcript: 'Markets rose today. Rain is expected.' }])], usage: { input_tokens: 30, output_tokens: 12 } }),
    ]);
    // completion held: nothing committed yet beyond the user turn
    expect(s.messages).toHaveLength(1);
    // the user taps "stop" after the first sentence: the app truncates, then reports playback ended
    expect(E.isRight(m.truncate('a-1', 0, 'Markets rose today.'))).toBe(true);
    s = feed(s, m, [ev.truncated('e-8', 'a-1')]);
    s = appendAll(s, m.playbackEnded());
    expect(s.messages[1]).toEqual({
      role: 'assistant',
      content: [{ type: 'transcript', text: 'Markets rose today.', source: 'spoken' }],
      stopReason: 'end_turn',
      usage: { inputTokens: 30, outputTokens: 12 },
      createdAt: AT,
    });
    // a barge-in during playback of the next reply interrupts it: the spoken text goes
    s = feed(s, m, [
      ev.responseCreated('e-9', 'r-2', ['audio']),
      ev.outputItemAdded('e-10', 'r-2', assistantItem('a-2')),
      ev.added('e-11', assistantItem('a-2'), 'a-1'),
      ev.transcriptDelta('e-12', 'r-2', 'a-2', 'Anything else?'),
      ev.responseDone('e-13', { id: 'r-2', status: 'completed', output: [assistantItem('a-2', [{ type: 'output_audio', transcript: 'Anything else?' }])] }),
      ev.speechStarted('e-14', 'u-3'),
      ev.committed('e-15', 'u-3', 'a-2'),
      ev.added('e-16', userAudio('u-3'), 'a-2'),
      ev.transcribed('e-17', 'u-3', 'No thanks.'),
    ]);
    expect(m.playbackEnded()).toEqual([]);
    expect(s.messages.map((x) => x.role)).toEqual(['user', 'assistant', 'user']);
    expect(s.messages[2]).toMatchObject({ role: 'user', content: [{ type: 'text', text: 'No thanks.' }] });
  });

  it('blank and failed transcriptions do not hold up later items', () => {
    const m = createOpenAIRealtimeMapper();
    let s = Session.create({ clock: () => AT });
    s = feed(s, m, [
      ev.committed('e-1', 'u-1', null),
      ev.added('e-2', userAudio('u-1'), null),
      ev.committed('e-3', 'u-2', 'u-1'),
      ev.added('e-4', userAudio('u-2'), 'u-1'),
      ev.committed('e-5', 'u-3', 'u-2'),
      ev.added('e-6', userAudio('u-3'), 'u-2'),
      ev.transcribed('e-7', 'u-3', 'Third.'),
      ev.transcribed('e-8', 'u-1', '   '),
    ]);
    expect(s.messages).toEqual([]); // u-3 waits for u-2
    s = feed(s, m, [ev.transcriptionFailed('e-9', 'u-2')]);
    expect(s.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Third.' }], transcriptRole: 'conversational', createdAt: AT }]);
  });

  it('seeded history is not mapped again after a reconnect', () => {
    let s = Session.create({ clock: () => AT });
    s = feed(s, createOpenAIRealtimeMapper(), turn1);
    // new websocket session: the app re-creates the history items with their ids and seeds them
    const m = createOpenAIRealtimeMapper({ seedItemIds: ['u-1', 'a-1'] });
    s = feed(s, m, [
      ev.added('e-100', userTyped('u-1', 'What time is it?'), null),
      ev.added('e-101', assistantItem('a-1', [{ type: 'output_text', text: 'It is noon.' }]), 'u-1'),
      ev.added('e-102', userTyped('u-5', 'Thanks!'), 'a-1'),
    ]);
    expect(s.messages.map((x) => x.role)).toEqual(['user', 'assistant', 'user']);
    expect(s.messages[2]).toMatchObject({ content: [{ type: 'text', text: 'Thanks!' }] });
  });
});
