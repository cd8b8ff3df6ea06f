/**
 * Realtime machine: codecs and every guard row of realtime.md §3.2 to §3.8
 * (state change and note), normalization, deltas and lanes, conflicts,
 * inFlightResponseIds.
 */
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import {
  RealtimeStateCodec,
  applyRealtime,
  decodeRealtimeEvent,
  inFlightResponseIds,
  initialRealtimeState,
  realtimeCommandCodecs,
  realtimeItemText,
  restoreRealtimeState,
  stepRealtime,
  type RealtimeItem,
  type RealtimeNote,
  type RealtimeState,
  type RealtimeTranscriptEvent,
} from '../../src/machines/realtime.ts';
import { decodeWith } from '../../src/model/decode.ts';
import type { StopReason } from '../../src/model/content.ts';
import type { Usage } from '../../src/model/usage.ts';

// ---------------------------------------------------------------------------
// helpers

const ctx = { sessionId: 's-1', seq: 1, at: 1_000 };
let nextDelta = 0;
const ev = {
  observed: (itemId: string, role: 'user' | 'assistant', o: { prev?: string; resp?: string } = {}): RealtimeTranscriptEvent => ({
    type: 'item_observed',
    itemId,
    role,
    ...(o.prev !== undefined ? { previousItemId: o.prev } : {}),
    ...(o.resp !== undefined ? { responseId: o.resp } : {}),
  }),
  skipped: (itemId: string, prev?: string): RealtimeTranscriptEvent => ({ type: 'item_skipped', itemId, ...(prev !== undefined ? { previousItemId: prev } : {}) }),
  final: (itemId: string, text: string, o: { prev?: string; ci?: number } = {}): RealtimeTranscriptEvent => ({
    type: 'user_transcript_final',
    itemId,
    contentIndex: o.ci ?? 0,
    text,
    ...(o.prev !== undefined ? { previousItemId: o.prev } : {}),
  }),
  text: (responseId: string, itemId: string, delta: string, o: { id?: string; prev?: string; ci?: number } = {}): RealtimeTranscriptEvent => ({
    type: 'assistant_text_delta',
    responseId,
    deltaId: o.id ?? `auto-${++nextDelta}`,
    itemId,
    contentIndex: o.ci ?? 0,
    delta,
    ...(o.prev !== undefined ? { previousItemId: o.prev } : {}),
  }),
  spoken: (responseId: string, itemId: string, delta: string, o: { id?: string; prev?: string; ci?: number } = {}): RealtimeTranscriptEvent => ({
    type: 'assistant_transcript_delta',
    responseId,
    deltaId: o.id ?? `auto-${++nextDelta}`,
    itemId,
    contentIndex: o.ci ?? 0,
    delta,
    ...(o.prev !== undefined ? { previousItemId: o.prev } : {}),
  }),
  truncated: (responseId: string, itemId: string, text: string, ci = 0): RealtimeTranscriptEvent => ({ type: 'assistant_transcript_truncated', responseId, itemId, contentIndex: ci, text }),
  finalText: (responseId: string, itemId: string, text: string, ci = 0): RealtimeTranscriptEvent => ({ type: 'assistant_transcript_final_text', responseId, itemId, contentIndex: ci, text }),
  completed: (responseId: string, stopReason: StopReason = 'end_turn', usage?: Usage): RealtimeTranscriptEvent => ({
    type: 'assistant_turn_completed',
    responseId,
    stopReason,
    ...(usage !== undefined ? { usage } : {}),
  }),
  interrupted: (responseId: string): RealtimeTranscriptEvent => ({ type: 'assistant_turn_interrupted', responseId }),
};

/** Steps every event (no materializer). */
const stepAll = (events: RealtimeTranscriptEvent[], from: RealtimeState = initialRealtimeState): RealtimeState =>
  events.reduce((s, e) => stepRealtime(s, e, ctx).state, from);

/** Applies every event through `applyRealtime` with the gate open (the session's path). */
const applyAll = (events: RealtimeTranscriptEvent[], from: RealtimeState = initialRealtimeState): RealtimeState =>
  events.reduce((s, e) => applyRealtime(s, { type: 'realtime_transcript_event', event: e }, ctx, { awaitingToolResults: false }).state, from);

const item = (s: RealtimeState, id: string): RealtimeItem => {
  const it = Object.prototype.hasOwnProperty.call(s.items, id) ? s.items[id] : undefined;
  if (it === undefined) throw new Error(`no item ${id}`);
  return it;
};
const plain = (s: RealtimeState): unknown => JSON.parse(JSON.stringify(s));

/** Steps one event and checks it was refused (same object) with exactly `note`. */
const expectRefused = (s: RealtimeState, e: RealtimeTranscriptEvent, note: RealtimeNote): void => {
  const r = stepRealtime(s, e, ctx);
  expect(r.state).toBe(s);
  expect(r.result).toEqual([note]);
};
/** Steps one event and checks it changed the state with `notes`; returns the new state. */
const expectChanged = (s: RealtimeState, e: RealtimeTranscriptEvent, notes: RealtimeNote[] = []): RealtimeState => {
  const r = stepRealtime(s, e, ctx);
  expect(r.state).not.toBe(s);
  expect(r.result).toEqual(notes);
  expect(E.isRight(restoreRealtimeState(plain(r.state)))).toBe(true);
  return r.state;
};
const anchorShape = { skipped: true, ready: true, segments: {} };

// ---------------------------------------------------------------------------

describe('codecs', () => {
  const events: RealtimeTranscriptEvent[] = [
    ev.observed('u-1', 'user'),
    ev.observed('a-1', 'assistant', { prev: 'u-1', resp: 'r-1' }),
    ev.skipped('x-1', 'a-1'),
    ev.skipped('x-2'),
    ev.final('u-1', 'hello', { prev: 'u-0', ci: 3 }),
    ev.text('r-1', 'a-1', 'Hi', { id: 'e-1', prev: 'u-1' }),
    ev.spoken('r-1', 'a-1', 'Hi', { id: 'e-2', ci: 4294967295 }),
    ev.truncated('r-1', 'a-1', 'He'),
    ev.finalText('r-1', 'a-1', 'Hello'),
    ev.completed('r-1', 'end_turn', { inputTokens: 10, outputTokens: 3, cacheReadTokens: 4 }),
    ev.completed('r-2', 'tool_use'),
    ev.interrupted('r-1'),
  ];

  it('every event type round-trips through JSON', () => {
    const types = new Set(events.map((e) => e.type));
    expect(types.size).toBe(9);
    for (const e of events) {
      const r = decodeRealtimeEvent(JSON.parse(JSON.stringify(e)));
      expect(r).toEqual(E.right(e));
    }
  });

  it('command codecs accept both commands', () => {
    const cmd = { type: 'realtime_transcript_event', event: events[5] };
    expect(decodeWith(realtimeCommandCodecs.realtime_transcript_event, cmd)).toEqual(E.right(cmd));
    expect(E.isRight(decodeWith(realtimeCommandCodecs.realtime_transcript_flush, { type: 'realtime_transcript_flush' }))).toBe(true);
    expect(E.isLeft(decodeWith(realtimeCommandCodecs.realtime_transcript_flush, { type: 'realtime_transcript_flush', extra: 1 }))).toBe(true);
    expect(E.isLeft(decodeWith(realtimeCommandCodecs.realtime_transcript_event, { type: 'realtime_transcript_event', event: { type: 'nope' } }))).toBe(true);
  });

  const bad: Array<[string, unknown, string]> = [
    ['negative contentIndex', { ...ev.final('u-1', 'x'), contentIndex: -1 }, '$.contentIndex'],
    ['fractional contentIndex', { ...ev.text('r-1', 'a-1', 'x'), contentIndex: 1.5 }, '$.contentIndex'],
    ['contentIndex above 2^32 - 1', { ...ev.finalText('r-1', 'a-1', 'x'), contentIndex: 4294967296 }, '$.contentIndex'],
    ['string contentIndex', { ...ev.truncated('r-1', 'a-1', 'x'), contentIndex: '0' }, '$.contentIndex'],
    ['null itemId', { ...ev.observed('u-1', 'user'), itemId: null }, '$.itemId'],
    ['null previousItemId', { ...ev.observed('u-1', 'user'), previousItemId: null }, '$.previousItemId'],
    ['null responseId', { ...ev.completed('r-1'), responseId: null }, '$.responseId'],
    ['null usage', { ...ev.completed('r-1'), usage: null }, '$.usage'],
    ['unknown type', { type: 'item_created', itemId: 'u-1' }, '$.type'],
    ['missing type', { itemId: 'u-1' }, '$.type'],
    ['missing itemId', { type: 'item_skipped' }, '$.itemId'],
    ['missing text', { type: 'user_transcript_final', itemId: 'u-1', contentIndex: 0 }, '$.text'],
    ['missing deltaId', { type: 'assistant_text_delta', responseId: 'r-1', itemId: 'a-1', contentIndex: 0, delta: 'x' }, '$.deltaId'],
    ['missing stopReason', { type: 'assistant_turn_completed', responseId: 'r-1' }, '$.stopReason'],
    ['unknown stopReason', { ...ev.completed('r-1'), stopReason: 'done' }, '$.stopReason'],
    ['unknown role', { ...ev.observed('u-1', 'user'), role: 'system' }, '$.role'],
    ['unknown field', { ...ev.interrupted('r-1'), itemId: 'a-1' }, '$.itemId'],
    ['previousItemId on a replacement', { ...ev.truncated('r-1', 'a-1', 'x'), previousItemId: 'u-1' }, '$.previousItemId'],
    ['usage with cache above input', { ...ev.completed('r-1'), usage: { inputTokens: 1, outputTokens: 0, cacheReadTokens: 2 } }, '$.usage'],
    ['lone surrogate text', { ...ev.final('u-1', 'x'), text: '\ud800' }, '$.text'],
    ['not an object', 'item_observed', '$'],
  ];
  it.each(bad)('%s gives InvalidRealtimeEvent', (_name, u, path) => {
    const r = decodeRealtimeEvent(u);
    expect(E.isLeft(r)).toBe(true);
    if (E.isLeft(r)) {
      expect(r.left._tag).toBe('InvalidRealtimeEvent');
      expect(r.left.path).toBe(path);
      expect(typeof r.left.message).toBe('string');
      expect(Object.keys(r.left).sort()).toEqual(['_tag', 'message', 'path']);
    }
  });

  it('state codecs reject unknown and missing keys and null', () => {
    const s = plain(stepAll([ev.text('r-1', 'a-1', 'x', { id: 'e-1' }), ev.completed('r-1', 'end_turn', { inputTokens: 1, outputTokens: 1 })])) as Record<string, any>;
    expect(E.isRight(decodeWith(RealtimeStateCodec, s))).toBe(true);
    const variants: unknown[] = [
      { ...s, extra: [] },
      { ...s, items: { 'a-1': { ...s.items['a-1'], note: 'x' } } },
      { ...s, completions: { 'r-1': { ...s.completions['r-1'], at: 1 } } },
      { ...s, items: { 'a-1': { ...s.items['a-1'], previousItemId: null } } },
      { ...s, completions: { 'r-1': { stopReason: 'end_turn' } } },
      (({ seenDeltaIds: _drop, ...rest }) => rest)(s),
      { ...s, items: { 'a-1': { ...s.items['a-1'], segments: { 0: 5 } } } },
    ];
    for (const v of variants) {
      expect(E.isLeft(decodeWith(RealtimeStateCodec, v))).toBe(true);
      const r = restoreRealtimeState(v);
      expect(E.isLeft(r) && r.left._tag === 'MachineStateInvalid' && r.left.machine === 'realtime' && r.left.reason.startsWith('decode:')).toBe(true);
    }
  });

  it('the initial state is valid and frozen', () => {
    expect(restoreRealtimeState(plain(initialRealtimeState))).toEqual(E.right(initialRealtimeState));
    expect(Object.isFrozen(initialRealtimeState)).toBe(true);
  });
});

describe('3.1 normalization', () => {
  it('whitespace ids are refused', () => {
    expectRefused(initialRealtimeState, ev.observed('   ', 'user'), 'invalid_item_id');
    expectRefused(initialRealtimeState, ev.final('', 'hi'), 'invalid_item_id');
    expectRefused(initialRealtimeState, ev.text(' \t', 'a-1', 'x'), 'invalid_response_id');
    expectRefused(initialRealtimeState, ev.completed('  '), 'invalid_response_id');
  });

  it('" r-1 " equals "r-1" and ids are stored trimmed', () => {
    let s = expectChanged(initialRealtimeState, ev.text(' r-1 ', ' a-1', 'Hi', { id: ' e-1 ', prev: 'u-0 ' }));
    expect(Object.keys(s.items)).toEqual(['a-1']);
    expect(item(s, 'a-1')).toMatchObject({ responseId: 'r-1', previousItemId: 'u-0' });
    expect(s.seenDeltaIds).toEqual(['e-1']);
    expectRefused(s, ev.text('r-1', 'a-1', 'Hi', { id: 'e-1' }), 'duplicate_delta');
    s = expectChanged(s, ev.completed('r-1 '));
    expect(Object.keys(s.completions)).toEqual(['r-1']);
    expect(item(s, 'a-1').ready).toBe(true);
  });

  it('an empty previousItemId or deltaId means absent; texts are never trimmed', () => {
    const s = expectChanged(initialRealtimeState, ev.text('r-1', 'a-1', '  Hi ', { id: '  ', prev: ' ' }));
    expect(item(s, 'a-1').previousItemId).toBeUndefined();
    expect('previousItemId' in item(s, 'a-1')).toBe(false);
    expect(s.seenDeltaIds).toEqual([]);
    expect(item(s, 'a-1').segments).toEqual({ 0: '  Hi ' });
    // without a delta id the same delta is appended again (it cannot be deduplicated)
    const s2 = expectChanged(s, ev.text('r-1', 'a-1', '  Hi ', { id: '' }));
    expect(realtimeItemText(item(s2, 'a-1'))).toBe('  Hi   Hi ');
  });

  it('a responseId on a user item_observed is ignored', () => {
    const s = expectChanged(initialRealtimeState, ev.observed('u-1', 'user', { resp: 'r-1' }));
    expect(item(s, 'u-1')).toEqual({ role: 'user', segments: {}, lane: 'display', skipped: false, ready: false, materialized: false });
  });

  it('an id such as __proto__ is an ordinary key', () => {
    const s = stepAll([ev.final('__proto__', 'hi'), ev.text('constructor', 'toString', 'yo', { prev: '__proto__' }), ev.completed('constructor')]);
    expect(Object.getPrototypeOf(s.items)).toBeNull();
    expect(item(s, '__proto__').role).toBe('user');
    expect(item(s, 'toString').responseId).toBe('constructor');
    const r = applyRealtime(s, { type: 'realtime_transcript_flush' }, ctx, { awaitingToolResults: false });
    expect(r.result.outcome.materializedMessages.map((m) => m.itemId)).toEqual(['__proto__', 'toString']);
    expect(E.isRight(restoreRealtimeState(JSON.parse(JSON.stringify(r.state))))).toBe(true);
    // a hand-built state with ordinary objects is converted before any write
    const handMade: RealtimeState = { items: {}, firstSeenOrder: [], seenDeltaIds: [], completions: {}, discardedResponseIds: [] };
    const h = stepRealtime(handMade, ev.observed('__proto__', 'user'), ctx).state;
    expect(Object.keys(h.items)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    expect(stepRealtime(handMade, ev.observed(' ', 'user'), ctx).state).toBe(handMade);
  });
});

describe('3.2 observe step', () => {
  it('O1: absent item id is refused', () => {
    expectRefused(initialRealtimeState, ev.observed(' ', 'assistant', { resp: 'r-1' }), 'invalid_item_id');
  });

  it('O2: P = I is refused', () => {
    expectRefused(initialRealtimeState, ev.observed('a-1', 'assistant', { prev: ' a-1' }), 'causal_cycle');
    const s = stepAll([ev.observed('u-1', 'user')]);
    expectRefused(s, ev.final('u-1', 'hi', { prev: 'u-1' }), 'causal_cycle');
  });

  it('O3: an event about a skipped item is a no-op', () => {
    const s = stepAll([ev.skipped('a-1')]);
    expectRefused(s, ev.observed('a-1', 'assistant', { resp: 'r-1' }), 'item_skipped');
    expectRefused(s, ev.final('a-1', 'hi'), 'item_skipped'); // O3 precedes O4
    expectRefused(s, ev.text('r-1', 'a-1', 'hi', { id: 'e-1' }), 'item_skipped');
    expect(stepRealtime(s, ev.text('r-1', 'a-1', 'hi', { id: 'e-1' }), ctx).state.seenDeltaIds).toEqual([]);
    expectRefused(s, ev.finalText('r-1', 'a-1', 'hi'), 'item_skipped');
  });

  it('O4: another role is refused', () => {
    const s = stepAll([ev.final('u-1', 'hi')]);
    expectRefused(s, ev.observed('u-1', 'assistant'), 'role_conflict');
    expectRefused(s, ev.text('r-1', 'u-1', 'x'), 'role_conflict');
    const s2 = stepAll([ev.observed('a-1', 'assistant')]);
    expectRefused(s2, ev.final('a-1', 'hi'), 'role_conflict');
    expectRefused(s2, ev.observed('a-1', 'user'), 'role_conflict');
  });

  it('O5: another response is refused', () => {
    const s = stepAll([ev.text('r-1', 'a-1', 'x', { id: 'e-1' })]);
    expectRefused(s, ev.text('r-2', 'a-1', 'y', { id: 'e-2' }), 'response_conflict');
    expectRefused(s, ev.observed('a-1', 'assistant', { resp: 'r-2' }), 'response_conflict');
    expectRefused(s, ev.truncated('r-2', 'a-1', 'y'), 'response_conflict');
    // the same response is fine
    expectChanged(s, ev.text('r-1', 'a-1', 'y', { id: 'e-2' }));
  });

  it('O6: a new link that closes a cycle is refused', () => {
    // a-1 waits on unknown a-2; a-2 naming a-1 would close a two-item cycle
    const s = stepAll([ev.observed('a-1', 'assistant', { prev: 'a-2' })]);
    expectRefused(s, ev.observed('a-2', 'assistant', { prev: 'a-1' }), 'causal_cycle');
    expectRefused(s, ev.text('r-1', 'a-2', 'x', { prev: 'a-1' }), 'causal_cycle');
    // three items: a-1 -> a-2 -> a-3 (unknown); a-3 naming a-1
    const s3 = stepAll([ev.observed('a-1', 'assistant', { prev: 'a-2' }), ev.observed('a-2', 'assistant', { prev: 'a-3' })]);
    expectRefused(s3, ev.final('a-3', 'x', { prev: 'a-1' }), 'causal_cycle');
    // an existing item without predecessor gets one that leads back to it
    const s4 = stepAll([ev.observed('u-1', 'user'), ev.observed('u-2', 'user', { prev: 'u-1' })]);
    expectRefused(s4, ev.final('u-1', 'x', { prev: 'u-2' }), 'causal_cycle');
    // the walk stops at a materialized item; no cycle through committed history
    const s5 = applyAll([ev.final('u-1', 'hi'), ev.observed('u-2', 'user', { prev: 'u-1' })]);
    expect(item(s5, 'u-1').materialized).toBe(true);
    const s6 = expectChanged(s5, ev.observed('u-3', 'user', { prev: 'u-2' }));
    expect(item(s6, 'u-3').previousItemId).toBe('u-2');
  });

  it('O7: a late event for a discarded response anchors an unknown item', () => {
    const s = stepAll([ev.interrupted('r-1')]);
    const s2 = expectChanged(s, ev.text('r-1', 'a-9', 'late', { id: 'e-9', prev: 'u-1' }), ['response_discarded']);
    expect(item(s2, 'a-9')).toEqual({ role: 'assistant', previousItemId: 'u-1', responseId: 'r-1', lane: 'display', ...anchorShape, materialized: false });
    expect(s2.firstSeenOrder).toEqual(['a-9']);
    expect(s2.seenDeltaIds).toEqual([]); // no delta id recorded
    const s3 = expectChanged(s, ev.observed('a-8', 'assistant', { resp: 'r-1' }), ['response_discarded']);
    expect(item(s3, 'a-8').skipped).toBe(true);
    // replacements too
    const s4 = expectChanged(s, ev.finalText('r-1', 'a-7', 'late'), ['response_discarded']);
    expect(item(s4, 'a-7')).toMatchObject({ ...anchorShape, responseId: 'r-1' });
  });

  it('O7: an unbound unmaterialized item is bound, given P if it had none, and anchored', () => {
    const s = stepAll([ev.observed('a-1', 'assistant'), ev.interrupted('r-1')]);
    expect(item(s, 'a-1').skipped).toBe(false); // not bound, so untouched by the interruption
    const s2 = expectChanged(s, ev.text('r-1', 'a-1', 'late', { prev: 'u-1' }), ['response_discarded']);
    expect(item(s2, 'a-1')).toMatchObject({ responseId: 'r-1', previousItemId: 'u-1', ...anchorShape });
  });

  it('O7: a bound or committed item is left alone', () => {
    // kept display text of an interrupted response
    const s = stepAll([ev.text('r-1', 'a-1', 'on screen', { id: 'e-1' }), ev.interrupted('r-1')]);
    expectRefused(s, ev.text('r-1', 'a-1', ' more', { id: 'e-2' }), 'response_discarded');
    expectRefused(s, ev.observed('a-1', 'assistant', { resp: 'r-1', prev: 'u-1' }), 'response_discarded');
    // a committed item of a since-cancelled response
    const c = applyAll([ev.text('r-2', 'a-2', 'done', { id: 'e-3' }), ev.completed('r-2'), ev.completed('r-2', 'cancelled')]);
    expect(item(c, 'a-2').materialized).toBe(true);
    expectRefused(c, ev.text('r-2', 'a-2', 'x', { id: 'e-4' }), 'response_discarded');
  });

  it('O8: an unknown item is created', () => {
    const s = expectChanged(initialRealtimeState, ev.observed('a-1', 'assistant', { prev: 'u-1', resp: 'r-1' }));
    expect(item(s, 'a-1')).toEqual({ role: 'assistant', previousItemId: 'u-1', responseId: 'r-1', segments: {}, lane: 'display', skipped: false, ready: false, materialized: false });
    expect(s.firstSeenOrder).toEqual(['a-1']);
    const s2 = expectChanged(s, ev.observed('a-0', 'assistant'));
    expect(item(s2, 'a-0')).toEqual({ role: 'assistant', segments: {}, lane: 'display', skipped: false, ready: false, materialized: false });
    expect(s2.firstSeenOrder).toEqual(['a-1', 'a-0']);
  });

  it('O9: previousItemId and responseId are fill-once', () => {
    const s = stepAll([ev.observed('a-1', 'assistant')]);
    const s2 = expectChanged(s, ev.observed('a-1', 'assistant', { prev: 'u-1', resp: 'r-1' }));
    expect(item(s2, 'a-1')).toMatchObject({ previousItemId: 'u-1', responseId: 'r-1' });
    // later values ignored; the same values are a no-op (same object)
    const r = stepRealtime(s2, ev.observed('a-1', 'assistant', { prev: 'u-9' }), ctx);
    expect(r.state).toBe(s2);
    expect(r.result).toEqual([]);
    expect(stepRealtime(s2, ev.observed('a-1', 'assistant', { prev: 'u-1', resp: 'r-1' }), ctx).state).toBe(s2);
  });

  it('O9: previousItemId is frozen after commit', () => {
    const s = applyAll([ev.final('u-1', 'hi')]);
    expect(item(s, 'u-1').materialized).toBe(true);
    const r = stepRealtime(s, ev.observed('u-1', 'user', { prev: 'u-0' }), ctx);
    expect(r.state).toBe(s);
    expect(item(r.state, 'u-1').previousItemId).toBeUndefined();
  });
});

describe('3.3 item_skipped', () => {
  it('S1: absent item id', () => expectRefused(initialRealtimeState, ev.skipped(' '), 'invalid_item_id'));
  it('S2: P = I', () => expectRefused(initialRealtimeState, ev.skipped('x-1', 'x-1'), 'causal_cycle'));
  it('S3: a materialized item', () => {
    const s = applyAll([ev.final('u-1', 'hi')]);
    expectRefused(s, ev.skipped('u-1'), 'item_materialized');
    const passed = applyAll([ev.skipped('x-1')]);
    expect(item(passed, 'x-1').materialized).toBe(true);
    expectRefused(passed, ev.skipped('x-1'), 'item_materialized');
  });
  it('S4: an already skipped item', () => {
    const s = stepAll([ev.skipped('x-1', 'u-9')]);
    expectRefused(s, ev.skipped('x-1'), 'item_skipped');
  });
  it('S5: a cycle', () => {
    const s = stepAll([ev.observed('a-1', 'assistant', { prev: 'x-1' })]);
    expectRefused(s, ev.skipped('x-1', 'a-1'), 'causal_cycle');
  });
  it('S6: an unknown item becomes an anchor', () => {
    const s = expectChanged(initialRealtimeState, ev.skipped('x-1', 'u-1'));
    expect(item(s, 'x-1')).toEqual({ role: 'assistant', previousItemId: 'u-1', lane: 'display', ...anchorShape, materialized: false });
    expect(s.firstSeenOrder).toEqual(['x-1']);
  });
  it('S7: a known item becomes an anchor, segments cleared, predecessor fill-once', () => {
    const s = stepAll([ev.spoken('r-1', 'a-1', 'partial', { id: 'e-1' })]);
    const s2 = expectChanged(s, ev.skipped('a-1', 'u-1'));
    expect(item(s2, 'a-1')).toEqual({ role: 'assistant', previousItemId: 'u-1', responseId: 'r-1', lane: 'spoken', ...anchorShape, materialized: false });
    const s3 = stepAll([ev.observed('u-2', 'user', { prev: 'u-1' })]);
    const s4 = expectChanged(s3, ev.skipped('u-2', 'u-0'));
    expect(item(s4, 'u-2')).toMatchObject({ role: 'user', previousItemId: 'u-1', ...anchorShape });
  });
});

describe('3.4 user_transcript_final', () => {
  it('U1: a materialized item is a no-op', () => {
    const s = applyAll([ev.final('u-1', 'hi')]);
    expectRefused(s, ev.final('u-1', 'hello'), 'item_materialized');
    expectRefused(s, ev.final('u-1', 'more', { ci: 1 }), 'item_materialized');
  });
  it('U2: a blank final makes the item ready without writing', () => {
    const s = expectChanged(initialRealtimeState, ev.final('u-1', '  \n'));
    expect(item(s, 'u-1')).toMatchObject({ ready: true, segments: {} });
    // it waits (no content) and holds up its successor
    const r = applyRealtime(s, { type: 'realtime_transcript_flush' }, ctx, { awaitingToolResults: false });
    expect(r.state).toBe(s);
    // a blank final then a non-blank one commits the non-blank one
    const a = applyRealtime(s, { type: 'realtime_transcript_event', event: ev.final('u-1', 'spoken words') }, ctx, { awaitingToolResults: false });
    expect(a.result.outcome.materializedMessages).toEqual([{ role: 'user', itemId: 'u-1', text: 'spoken words' }]);
  });
  /** A valid restored state holding a user item with a segment that is not ready (no event sequence builds one). */
  const unreadyUser = (): RealtimeState => {
    const r = restoreRealtimeState({
      items: { 'u-1': { role: 'user', previousItemId: 'u-0', segments: { 0: 'hi' }, lane: 'display', skipped: false, ready: false, materialized: false } },
      firstSeenOrder: ['u-1'],
      seenDeltaIds: [],
      completions: {},
      discardedResponseIds: [],
    });
    if (E.isLeft(r)) throw new Error(r.left.message);
    return r.right;
  };
  it('U3: the same text sets ready', () => {
    const s = unreadyUser();
    const s2 = expectChanged(s, ev.final('u-1', 'hi'));
    expect(item(s2, 'u-1')).toMatchObject({ ready: true, segments: { 0: 'hi' } });
    // on a ready item the same text changes nothing
    const r = stepRealtime(s2, ev.final('u-1', 'hi'), ctx);
    expect(r.state).toBe(s2);
    expect(r.result).toEqual([]);
  });
  it('U4: a different text keeps the first non-blank one and sets ready', () => {
    const u = expectChanged(unreadyUser(), ev.final('u-1', 'other'), ['user_text_kept']);
    expect(item(u, 'u-1')).toMatchObject({ ready: true, segments: { 0: 'hi' } });
    const s = stepAll([ev.final('u-1', 'first', { prev: 'u-0' })]);
    const r = stepRealtime(s, ev.final('u-1', 'second'), ctx);
    expect(r.state).toBe(s); // already ready, segment kept
    expect(r.result).toEqual(['user_text_kept']);
    expect(realtimeItemText(item(r.state, 'u-1'))).toBe('first');
  });
  it('U5: writes the segment and sets ready', () => {
    const s = stepAll([ev.observed('u-1', 'user', { prev: 'u-0' })]);
    const s2 = expectChanged(s, ev.final('u-1', 'part two', { ci: 2 }));
    expect(item(s2, 'u-1')).toMatchObject({ ready: true, segments: { 2: 'part two' } });
    const s3 = expectChanged(s2, ev.final('u-1', 'part one ', { ci: 1 }));
    expect(realtimeItemText(item(s3, 'u-1'))).toBe('part one part two');
  });
});

describe('3.5 deltas', () => {
  it('D1: absent response id', () => expectRefused(initialRealtimeState, ev.text('', 'a-1', 'x'), 'invalid_response_id'));
  it('D2: absent item id', () => expectRefused(initialRealtimeState, ev.spoken('r-1', '  ', 'x'), 'invalid_item_id'));
  it('D3: a redelivered delta id appends nothing', () => {
    const s = stepAll([ev.text('r-1', 'a-1', 'Hel', { id: 'e-1' }), ev.text('r-1', 'a-1', 'lo', { id: 'e-2' })]);
    expectRefused(s, ev.text('r-1', 'a-1', 'lo', { id: 'e-2' }), 'duplicate_delta');
    // D3 precedes everything after D2: even a different item or a discarded response
    expectRefused(s, ev.spoken('r-9', 'a-9', 'other', { id: 'e-1' }), 'duplicate_delta');
    const d = stepAll([ev.interrupted('r-1')], s);
    expectRefused(d, ev.text('r-1', 'a-1', 'lo', { id: 'e-2' }), 'duplicate_delta');
    expect(realtimeItemText(item(s, 'a-1'))).toBe('Hello');
  });
  it('D3 precedes the observe step: a duplicate naming itself as predecessor is silent', () => {
    const s = stepAll([ev.text('r-1', 'a-1', 'x', { id: 'e-1' })]);
    expectRefused(s, ev.text('r-1', 'a-1', 'x', { id: 'e-1', prev: 'a-1' }), 'duplicate_delta');
  });
  it('D4: a materialized item is refused', () => {
    const s = applyAll([ev.text('r-1', 'a-1', 'done', { id: 'e-1' }), ev.completed('r-1')]);
    expect(item(s, 'a-1').materialized).toBe(true);
    expectRefused(s, ev.text('r-1', 'a-1', ' more', { id: 'e-2' }), 'item_materialized');
    expectRefused(s, ev.text('r-1', 'a-1', ' more', { id: 'e-2', prev: 'u-1' }), 'item_materialized');
  });
  it('D5: display then spoken on one item refuses the spoken write', () => {
    const s = stepAll([ev.text('r-1', 'a-1', 'written', { id: 'e-1' })]);
    expectRefused(s, ev.spoken('r-1', 'a-1', 'said', { id: 'e-2' }), 'lane_conflict');
    const sp = stepAll([ev.spoken('r-1', 'a-1', 'said', { id: 'e-1' })]);
    expectRefused(sp, ev.text('r-1', 'a-1', 'written', { id: 'e-2', ci: 1 }), 'lane_conflict');
  });
  it('D5: a refusal keeps the whole event out, including a predecessor fill', () => {
    const s = stepAll([ev.text('r-1', 'a-1', 'written', { id: 'e-1' })]);
    const r = stepRealtime(s, ev.spoken('r-1', 'a-1', 'said', { id: 'e-2', prev: 'u-1' }), ctx);
    expect(r.state).toBe(s);
    expect(item(r.state, 'a-1').previousItemId).toBeUndefined();
  });
  it('D6: an empty item takes either lane', () => {
    const s = stepAll([ev.observed('a-1', 'assistant', { resp: 'r-1' })]);
    const s1 = expectChanged(s, ev.spoken('r-1', 'a-1', ' ', { id: 'e-1' }));
    expect(item(s1, 'a-1').lane).toBe('spoken');
    const s2 = expectChanged(s1, ev.text('r-1', 'a-1', 'Hi', { id: 'e-2' }));
    expect(item(s2, 'a-1')).toMatchObject({ lane: 'display', segments: { 0: ' Hi' } });
  });
  it('D6: appends, records the delta id sorted, and readies after a completion', () => {
    const s = stepAll([ev.text('r-1', 'a-1', 'Hel', { id: 'e-2' })]);
    expect(item(s, 'a-1')).toMatchObject({ role: 'assistant', responseId: 'r-1', lane: 'display', ready: false, segments: { 0: 'Hel' } });
    const s2 = expectChanged(s, ev.text('r-1', 'a-1', 'lo', { id: 'e-1' }));
    expect(s2.seenDeltaIds).toEqual(['e-1', 'e-2']);
    expect(realtimeItemText(item(s2, 'a-1'))).toBe('Hello');
    // a delta after a completion (the item had no content yet) readies it
    const c = stepAll([ev.observed('a-2', 'assistant', { resp: 'r-2', prev: 'u-0' }), ev.completed('r-2')]);
    expect(item(c, 'a-2').ready).toBe(false);
    const c2 = expectChanged(c, ev.text('r-2', 'a-2', ' ', { id: 'e-3' }));
    expect(item(c2, 'a-2').ready).toBe(false); // no content yet
    const c3 = expectChanged(c2, ev.text('r-2', 'a-2', 'late', { id: 'e-4' }));
    expect(item(c3, 'a-2').ready).toBe(true);
  });
  it('segments 2, 10, 9 read 2, 9, 10', () => {
    const s = stepAll([
      ev.text('r-1', 'a-1', 'two ', { ci: 2 }),
      ev.text('r-1', 'a-1', 'ten', { ci: 10 }),
      ev.text('r-1', 'a-1', 'nine ', { ci: 9 }),
    ]);
    expect(Object.keys(item(s, 'a-1').segments).sort()).toEqual(['10', '2', '9']);
    expect(realtimeItemText(item(s, 'a-1'))).toBe('two nine ten');
  });
});

describe('3.6 replacements', () => {
  it('T1, T2: absent ids', () => {
    expectRefused(initialRealtimeState, ev.truncated(' ', 'a-1', 'x'), 'invalid_response_id');
    expectRefused(initialRealtimeState, ev.finalText('r-1', '', 'x'), 'invalid_item_id');
  });
  it('T3: committed text is final', () => {
    const s = applyAll([ev.spoken('r-1', 'a-1', 'said it', { id: 'e-1' }), ev.completed('r-1')]);
    expectRefused(s, ev.truncated('r-1', 'a-1', 'said'), 'item_materialized');
    expectRefused(s, ev.finalText('r-1', 'a-1', 'said it all'), 'item_materialized');
  });
  it('T4: display content is refused', () => {
    const s = stepAll([ev.text('r-1', 'a-1', 'written', { id: 'e-1' })]);
    expectRefused(s, ev.truncated('r-1', 'a-1', 'writ'), 'lane_conflict');
    expectRefused(s, ev.finalText('r-1', 'a-1', 'written!'), 'lane_conflict');
  });
  it('T5: on a spoken item the segment is replaced, other segments kept', () => {
    const s = stepAll([ev.spoken('r-1', 'a-1', 'Hello the', { id: 'e-1' }), ev.spoken('r-1', 'a-1', ' second', { id: 'e-2', ci: 1 })]);
    const s2 = expectChanged(s, ev.truncated('r-1', 'a-1', 'Hello'));
    expect(item(s2, 'a-1').segments).toEqual({ 0: 'Hello', 1: ' second' });
    expect(item(s2, 'a-1').lane).toBe('spoken');
  });
  it('T5: on an empty item it sets spoken (and creates an unknown item)', () => {
    const s = stepAll([ev.text('r-1', 'a-1', '', { id: 'e-1' })]);
    expect(item(s, 'a-1').lane).toBe('display');
    const s2 = expectChanged(s, ev.finalText('r-1', 'a-1', 'full text'));
    expect(item(s2, 'a-1')).toMatchObject({ lane: 'spoken', segments: { 0: 'full text' } });
    const s3 = expectChanged(initialRealtimeState, ev.finalText('r-1', 'a-2', 'no deltas', 3));
    expect(item(s3, 'a-2')).toMatchObject({ role: 'assistant', responseId: 'r-1', lane: 'spoken', segments: { 3: 'no deltas' }, ready: false });
    expect(item(s3, 'a-2').previousItemId).toBeUndefined();
  });
  it('T5: readies after a completion; repairs lost deltas', () => {
    const s = stepAll([ev.observed('a-1', 'assistant', { resp: 'r-1', prev: 'u-0' }), ev.spoken('r-1', 'a-1', 'Hel', { id: 'e-1' }), ev.completed('r-1')]);
    expect(item(s, 'a-1').ready).toBe(true);
    const c = stepAll([ev.observed('a-2', 'assistant', { resp: 'r-2', prev: 'u-0' }), ev.completed('r-2')]);
    const c2 = expectChanged(c, ev.finalText('r-2', 'a-2', 'Hello there'));
    expect(item(c2, 'a-2')).toMatchObject({ ready: true, lane: 'spoken' });
    const b = expectChanged(c, ev.finalText('r-2', 'a-2', '  '));
    expect(item(b, 'a-2').ready).toBe(false);
  });
});

describe('3.7 assistant_turn_completed', () => {
  it('C1: absent response id', () => expectRefused(initialRealtimeState, ev.completed(''), 'invalid_response_id'));
  it('C2: a discarded response is a no-op', () => {
    const s = stepAll([ev.interrupted('r-1')]);
    expectRefused(s, ev.completed('r-1', 'end_turn', { inputTokens: 5, outputTokens: 5 }), 'response_discarded');
    expectRefused(s, ev.completed('r-1', 'cancelled'), 'response_discarded');
    expectRefused(s, ev.completed('r-1', 'tool_use'), 'response_discarded');
  });
  it('C3: cancelled turns every open item of the response into an anchor', () => {
    const s = stepAll([
      ev.text('r-1', 'a-1', 'written', { id: 'e-1', prev: 'u-0' }),
      ev.spoken('r-1', 'a-2', 'said', { id: 'e-2', prev: 'a-1' }),
      ev.observed('a-3', 'assistant', { resp: 'r-1', prev: 'a-2' }),
      ev.text('r-2', 'b-1', 'other', { id: 'e-3' }),
    ]);
    const s2 = expectChanged(s, ev.completed('r-1', 'cancelled'));
    for (const id of ['a-1', 'a-2', 'a-3']) expect(item(s2, id)).toMatchObject(anchorShape);
    expect(item(s2, 'b-1').skipped).toBe(false);
    expect(s2.discardedResponseIds).toEqual(['r-1']);
    expect(s2.completions).toEqual({});
  });
  it('C3: completions are untouched', () => {
    const s = stepAll([ev.observed('a-1', 'assistant', { resp: 'r-1', prev: 'u-0' }), ev.completed('r-1', 'max_tokens')]);
    const s2 = expectChanged(s, ev.completed('r-1', 'cancelled'));
    expect(s2.completions['r-1']).toEqual({ stopReason: 'max_tokens', usageConsumed: false });
    expect(item(s2, 'a-1').skipped).toBe(true);
  });
  it('C4: tool_use after consumption is a no-op', () => {
    const s = applyAll([ev.text('r-1', 'a-1', 'x', { id: 'e-1' }), ev.completed('r-1')]);
    expect(s.completions['r-1']?.usageConsumed).toBe(true);
    expectRefused(s, ev.completed('r-1', 'tool_use'), 'completion_consumed');
  });
  it('C5: tool_use withdraws an unconsumed completion and un-readies open items', () => {
    const s = stepAll([
      ev.text('r-1', 'a-1', 'let me check', { id: 'e-1', prev: 'u-0' }),
      ev.observed('a-2', 'assistant', { resp: 'r-1', prev: 'a-1' }),
      ev.skipped('a-3', 'a-2'),
      ev.completed('r-1', 'end_turn', { inputTokens: 1, outputTokens: 1 }),
    ]);
    expect(item(s, 'a-1').ready).toBe(true);
    const s2 = expectChanged(s, ev.completed('r-1', 'tool_use'));
    expect(s2.completions).toEqual({});
    expect(item(s2, 'a-1').ready).toBe(false);
    expect(item(s2, 'a-3')).toMatchObject(anchorShape); // skipped items stay anchors
    // without a completion and without ready items it changes nothing
    const r = stepRealtime(s2, ev.completed('r-1', 'tool_use'), ctx);
    expect(r.state).toBe(s2);
    expect(r.result).toEqual([]);
  });
  it('C6: the first completion wins', () => {
    const s = stepAll([ev.completed('r-1', 'max_tokens', { inputTokens: 3, outputTokens: 4 })]);
    expectRefused(s, ev.completed('r-1', 'end_turn', { inputTokens: 9, outputTokens: 9 }), 'completion_exists');
    expect(s.completions['r-1']).toEqual({ stopReason: 'max_tokens', usage: { inputTokens: 3, outputTokens: 4 }, usageConsumed: false });
  });
  it('C7: records the completion and readies bound items with content', () => {
    const s = stepAll([
      ev.text('r-1', 'a-1', 'text', { id: 'e-1', prev: 'u-0' }),
      ev.observed('a-2', 'assistant', { resp: 'r-1', prev: 'a-1' }),
      ev.spoken('r-1', 'a-3', '   ', { id: 'e-2', prev: 'a-2' }),
      ev.text('r-2', 'b-1', 'other', { id: 'e-3', prev: 'u-0' }),
    ]);
    const s2 = expectChanged(s, ev.completed('r-1', 'stop_sequence'));
    expect(s2.completions['r-1']).toEqual({ stopReason: 'stop_sequence', usageConsumed: false });
    expect(item(s2, 'a-1').ready).toBe(true);
    expect(item(s2, 'a-2').ready).toBe(false); // no content
    expect(item(s2, 'a-3').ready).toBe(false); // whitespace is no content
    expect(item(s2, 'b-1').ready).toBe(false);
  });
});

describe('3.8 assistant_turn_interrupted', () => {
  it('I1: absent response id', () => expectRefused(initialRealtimeState, ev.interrupted(' '), 'invalid_response_id'));
  it('I2: a second interruption is a no-op', () => {
    const s = stepAll([ev.interrupted('r-1')]);
    expectRefused(s, ev.interrupted('r-1'), 'response_discarded');
  });
  it('I3: display text with content stays; spoken and empty items go; synthetic completion', () => {
    const s = stepAll([
      ev.text('r-1', 'a-1', 'on screen', { id: 'e-1', prev: 'u-0' }),
      ev.spoken('r-1', 'a-2', 'half sa', { id: 'e-2', prev: 'a-1' }),
      ev.observed('a-3', 'assistant', { resp: 'r-1', prev: 'a-2' }),
      ev.text('r-1', 'a-4', '  ', { id: 'e-3', prev: 'a-3' }),
    ]);
    const s2 = expectChanged(s, ev.interrupted('r-1'));
    expect(item(s2, 'a-1')).toMatchObject({ skipped: false, ready: true, segments: { 0: 'on screen' } });
    for (const id of ['a-2', 'a-3', 'a-4']) expect(item(s2, id)).toMatchObject(anchorShape);
    expect(s2.discardedResponseIds).toEqual(['r-1']);
    expect(s2.completions['r-1']).toEqual({ stopReason: 'cancelled', usageConsumed: false });
  });
  it('I3: an earlier real completion is kept (first wins)', () => {
    const s = stepAll([ev.text('r-1', 'a-1', 'shown', { id: 'e-1', prev: 'u-0' }), ev.completed('r-1', 'end_turn', { inputTokens: 2, outputTokens: 2 })]);
    const s2 = expectChanged(s, ev.interrupted('r-1'));
    expect(s2.completions['r-1']).toEqual({ stopReason: 'end_turn', usage: { inputTokens: 2, outputTokens: 2 }, usageConsumed: false });
  });
  it('I3: an unknown response is remembered as discarded', () => {
    const s = expectChanged(initialRealtimeState, ev.interrupted('r-7'));
    expect(s.discardedResponseIds).toEqual(['r-7']);
    expect(s.completions['r-7']).toEqual({ stopReason: 'cancelled', usageConsumed: false });
  });
});

describe('conflicts', () => {
  it('a two-item cycle and self-reference are refused at apply', () => {
    const s = stepAll([ev.final('u-1', 'a', { prev: 'u-2' })]);
    expectRefused(s, ev.final('u-2', 'b', { prev: 'u-1' }), 'causal_cycle');
    expectRefused(s, ev.skipped('u-2', 'u-1'), 'causal_cycle');
    expectRefused(s, ev.skipped('u-3', 'u-3'), 'causal_cycle');
  });
});

describe('inFlightResponseIds', () => {
  it('distinct, first-seen order; excludes committed, skipped and discarded; includes waiting ones', () => {
    const s = applyAll([
      ev.text('r-3', 'c-1', 'waits on unknown x', { id: 'e-1', prev: 'x-0' }),
      ev.completed('r-3'), // completed, waiting on a predecessor
      ev.text('r-1', 'a-1', 'one', { id: 'e-2' }),
      ev.text('r-1', 'a-2', 'two', { id: 'e-3', prev: 'x-0' }),
      ev.text('r-2', 'b-1', 'cut', { id: 'e-4', prev: 'x-0' }),
      ev.interrupted('r-2'), // discarded (b-1 kept, but r-2 is discarded)
      ev.text('r-4', 'd-1', 'done', { id: 'e-5' }),
      ev.completed('r-4'), // committed
      ev.observed('f-1', 'assistant', { resp: 'r-5', prev: 'x-0' }),
      ev.skipped('f-1'), // skipped
      ev.text('r-6', 'g-1', 'tool text', { id: 'e-6' }),
      ev.completed('r-6', 'tool_use'), // awaiting hand-off
      ev.observed('h-1', 'assistant'), // unbound
    ]);
    expect(item(s, 'd-1').materialized).toBe(true);
    expect(inFlightResponseIds(s)).toEqual(['r-3', 'r-1', 'r-6']);
  });
});
