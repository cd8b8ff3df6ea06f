/**
 * Law samples of the realtime machine (`LawSamples`, the registry entry's
 * `laws`): events over three item ids, two response ids and two content
 * indexes (plus an empty id, which the codec refuses), so items link, deltas
 * collide and responses complete or are interrupted; a flush now and then.
 */
import { LAW_SAMPLE_TEXTS, type LawPick, type LawSamples } from '../common.ts';
import type { RealtimeGate } from '../realtime.ts';
import type { RealtimeCommand, RealtimeTranscriptEvent } from './codecs.ts';

const ITEM_IDS = ['a', 'b', 'c', ''];
const RESPONSE_IDS = ['r1', 'r2', ''];

const sampleEvent = (pick: LawPick): RealtimeTranscriptEvent => {
  const itemId = pick.one(ITEM_IDS);
  const responseId = pick.one(RESPONSE_IDS);
  const contentIndex = pick.int(0, 1);
  switch (pick.one(['item_observed', 'item_skipped', 'user_transcript_final', 'assistant_text_delta', 'assistant_transcript_final_text', 'assistant_turn_completed', 'assistant_turn_interrupted'] as const)) {
    case 'item_observed':
      return {
        type: 'item_observed',
        itemId,
        role: pick.one(['user', 'assistant'] as const),
        ...(pick.bool() ? { previousItemId: pick.one(ITEM_IDS) } : {}),
        ...(pick.bool() ? { responseId } : {}),
      };
    case 'item_skipped':
      return { type: 'item_skipped', itemId };
    case 'user_transcript_final':
      return { type: 'user_transcript_final', itemId, contentIndex, text: pick.one(LAW_SAMPLE_TEXTS) };
    case 'assistant_text_delta':
      return { type: 'assistant_text_delta', responseId, deltaId: pick.one(['d1', 'd2', 'd3']), itemId, contentIndex, delta: pick.one(LAW_SAMPLE_TEXTS) };
    case 'assistant_transcript_final_text':
      return { type: 'assistant_transcript_final_text', responseId, itemId, contentIndex, text: pick.one(LAW_SAMPLE_TEXTS) };
    case 'assistant_turn_completed': {
      const stopReason = pick.one(['end_turn', 'tool_use', 'cancelled'] as const);
      return pick.bool()
        ? { type: 'assistant_turn_completed', responseId, stopReason }
        : { type: 'assistant_turn_completed', responseId, stopReason, usage: { inputTokens: pick.int(0, 50), outputTokens: pick.int(0, 50) } };
    }
    case 'assistant_turn_interrupted':
      return { type: 'assistant_turn_interrupted', responseId };
  }
};

/** Law samples of the realtime machine (module docstring); the gate is open or closed. */
export const realtimeLawSamples: LawSamples<RealtimeCommand, RealtimeGate> = {
  command: (pick) => (pick.int(0, 8) < 8 ? { type: 'realtime_transcript_event', event: sampleEvent(pick) } : { type: 'realtime_transcript_flush' }),
  view: (pick) => ({ awaitingToolResults: pick.bool() }),
};
