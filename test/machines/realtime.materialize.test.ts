/**
 * Realtime machine: the materializer and its composition with the step
 * (realtime.md §4, §9): causal order, rounds, grouping and usage, tool_use,
 * cancellation and interruption, the tool-results gate, applyRealtime.
 */
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import {
  applyRealtime,
  causalOrder,
  hasUnmaterializedRealtimeItems,
  initialRealtimeState,
  materializeRealtime,
  restoreRealtimeState,
  stepRealtime,
  type RealtimeApplyOutcome,
  type RealtimeItem,
  type RealtimeMaterializedMessage,
  type RealtimeState,
  type RealtimeTranscriptEvent,
} from '../../src/machines/realtime.ts';
import { referenceMaterialize, referenceOrder } from '../support/realtimeReference.ts';
import type { StopReason } from '../../src/model/content.ts';
import type { Message } from '../../src/model/message.ts';
import { addUsage, type Usage } from '../../src/model/usage.ts';

// ---------------------------------------------------------------------------
// helpers

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
const u = (inputTokens: number, outputTokens: number): Usage => ({ inputTokens, outputTokens });

/** A stand-in for the session: applies commands, keeps the transcript, cumulative usage and a record count. */
const harness = (from: RealtimeState = initialRealtimeState) => {
  let state = from;
  let seq = 0;
  const messages: Message[] = [];
  const committed: RealtimeMaterializedMessage[] = [];
  let usage: Usage = { inputTokens: 0, outputTokens: 0 };
  let records = 0;
  let gate = false;
  const run = (command: { type: 'realtime_transcript_event'; event: RealtimeTranscriptEvent } | { type: 'realtime_transcript_flush' }): RealtimeApplyOutcome => {
    seq++;
    const r = applyRealtime(state, command, { sessionId: 's-1', seq, at: 1_000 + seq }, { awaitingToolResults: gate });
    if (r.state !== state) {
      records++;
      const v = restoreRealtimeState(JSON.parse(JSON.stringify(r.state)));
      if (E.isLeft(v)) throw new Error(v.left.message);
    } else {
      expect(r.result.messages).toEqual([]);
    }
    state = r.state;
    messages.push(...r.result.messages);
    committed.push(...r.result.outcome.materializedMessages);
    if (r.result.usage !== undefined) usage = addUsage(usage, r.result.usage);
    expect(r.result.outcome.isInert).toBe(r.result.outcome.materializedMessages.length === 0);
    return r.result.outcome;
  };
  return {
    send: (...events: RealtimeTranscriptEvent[]): RealtimeApplyOutcome[] => events.map((event) => run({ type: 'realtime_transcript_event', event })),
    flush: (): RealtimeApplyOutcome => run({ type: 'realtime_transcript_flush' }),
    setGate: (closed: boolean) => {
      gate = closed;
    },
    get state() {
      return state;
    },
    messages,
    committed,
    get usage() {
      return usage;
    },
    get records() {
      return records;
    },
    ids: () => committed.map((m) => m.itemId),
    item: (id: string): RealtimeItem => {
      const it = Object.prototype.hasOwnProperty.call(state.items, id) ? state.items[id] : undefined;
      if (it === undefined) throw new Error(`no item ${id}`);
      return it;
    },
  };
};

// ---------------------------------------------------------------------------

describe('messages', () => {
  it('a user take is a conversational user message stamped with ctx.at', () => {
    const s = stepRealtime(initialRealtimeState, ev.final('u-1', ' hello '), { sessionId: 's', seq: 1, at: 42 }).state;
    const m = materializeRealtime(s, { at: 42 });
    expect(m.items).toEqual(['u-1']);
    expect(m.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: ' hello ' }], transcriptRole: 'conversational', createdAt: 42 }]);
    expect(m.materialized).toEqual([{ role: 'user', itemId: 'u-1', text: ' hello ' }]);
    expect(m.usage).toBeUndefined();
    expect('usage' in m).toBe(false);
    expect(m.state.items['u-1']?.materialized).toBe(true);
  });

  it('nothing to do returns the same state', () => {
    const s = stepRealtime(initialRealtimeState, ev.observed('u-1', 'user'), { sessionId: 's', seq: 1, at: 1 }).state;
    const m = materializeRealtime(s, { at: 1 });
    expect(m.state).toBe(s);
    expect(m).toEqual({ state: s, items: [], messages: [], materialized: [] });
  });

  it('an assistant group carries stop reason, blocks by lane, and the consumed usage', () => {
    const h = harness();
    h.send(
      ev.final('u-1', 'hi'),
      ev.text('r-1', 'a-1', 'Here ', { prev: 'u-1' }),
      ev.text('r-1', 'a-1', 'it is', {}),
      ev.spoken('r-1', 'a-2', 'and said', { prev: 'a-1' }),
      ev.completed('r-1', 'max_tokens', { inputTokens: 10, outputTokens: 7, cacheReadTokens: 4 }),
    );
    expect(h.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Here it is' },
          { type: 'transcript', text: 'and said', source: 'spoken' },
        ],
        stopReason: 'max_tokens',
        usage: { inputTokens: 10, outputTokens: 7, cacheReadTokens: 4 },
        createdAt: 1_005,
      },
    ]);
    expect(h.committed.slice(1)).toEqual([
      { role: 'assistant', itemId: 'a-1', responseId: 'r-1', text: 'Here it is', lane: 'display', stopReason: 'max_tokens', usage: { inputTokens: 10, outputTokens: 7, cacheReadTokens: 4 } },
      { role: 'assistant', itemId: 'a-2', responseId: 'r-1', text: 'and said', lane: 'spoken', stopReason: 'max_tokens' },
    ]);
    expect(h.usage).toEqual({ inputTokens: 10, outputTokens: 7, cacheReadTokens: 4 });
    expect(h.state.completions['r-1']?.usageConsumed).toBe(true);
  });
});

describe('recording behaviour of applyRealtime', () => {
  it('a refused or duplicate event returns the same state object; a staging delta is recorded yet inert', () => {
    const h = harness();
    const [o1] = h.send(ev.text('r-1', 'a-1', 'Hel', { id: 'e-1', prev: 'u-0' }));
    expect(o1).toEqual({ materializedMessages: [], isInert: true, notes: [] });
    expect(h.records).toBe(1);
    const before = h.state;
    const [o2] = h.send(ev.text('r-1', 'a-1', 'Hel', { id: 'e-1' }));
    expect(o2).toEqual({ materializedMessages: [], isInert: true, notes: ['duplicate_delta'] });
    const [o3] = h.send(ev.observed(' ', 'user'));
    expect(o3?.notes).toEqual(['invalid_item_id']);
    expect(h.state).toBe(before);
    expect(h.records).toBe(1);
  });

  it('an interrupted pass-only flush is not recorded; a flush with nothing to do is inert', () => {
    const h = harness();
    h.setGate(true);
    h.send(ev.skipped('x-1'));
    expect(h.item('x-1').materialized).toBe(false);
    h.setGate(false);
    const before = h.state;
    const o = h.flush();
    expect(o).toEqual({ materializedMessages: [], isInert: true, notes: [] });
    expect(h.state).toBe(before); // only anchors would pass: nothing committed, nothing recorded
    // the anchor passes with the next pass that commits something
    h.send(ev.final('u-1', 'after the anchor', { prev: 'x-1' }));
    expect(h.ids()).toEqual(['u-1']);
    expect(h.item('x-1').materialized).toBe(true);
  });
});

describe('causal order', () => {
  it('a successor delivered first commits after its predecessor', () => {
    const h = harness();
    h.send(ev.final('u-2', 'second', { prev: 'u-1' }));
    expect(h.committed).toEqual([]);
    h.send(ev.final('u-1', 'first'));
    expect(h.ids()).toEqual(['u-1', 'u-2']);
    expect(h.messages.map((m) => m.createdAt)).toEqual([1_002, 1_002]);
  });

  it('an unknown predecessor holds its successor until it commits', () => {
    const h = harness();
    h.send(ev.text('r-1', 'a-1', 'answer', { prev: 'u-1' }), ev.completed('r-1'));
    expect(h.committed).toEqual([]);
    h.send(ev.observed('u-1', 'user'));
    expect(h.committed).toEqual([]); // known now, but not committed
    h.send(ev.final('u-1', 'question'));
    expect(h.ids()).toEqual(['u-1', 'a-1']);
  });

  it('a reversed chain commits in chain order in one event', () => {
    const h = harness();
    const n = 20;
    for (let i = n; i >= 2; i--) h.send(ev.final(`u-${i}`, `t${i}`, { prev: `u-${i - 1}` }));
    expect(h.committed).toEqual([]);
    const [o] = h.send(ev.final('u-1', 't1'));
    expect(o?.materializedMessages.map((m) => m.itemId)).toEqual(Array.from({ length: n }, (_, i) => `u-${i + 1}`));
    expect(h.messages).toHaveLength(n);
  });

  it('the O(n log n) order equals the reference on a branching state', () => {
    let s = initialRealtimeState;
    for (const e of [
      ev.observed('c', 'user', { prev: 'b' }),
      ev.observed('b', 'user', { prev: 'a' }),
      ev.observed('d', 'user', { prev: 'a' }),
      ev.observed('a', 'user'),
      ev.observed('w', 'user', { prev: 'zz' }),
      ev.observed('e', 'user', { prev: 'c' }),
    ]) {
      s = stepRealtime(s, e, { sessionId: 's', seq: 1, at: 1 }).state;
    }
    expect(referenceOrder(s)).toEqual(['a', 'b', 'd', 'c', 'e']); // first seen: c, b, d, a, w, e; w waits on an unknown id
    expect(causalOrder(s)).toEqual(referenceOrder(s));
  });
});

describe('rounds', () => {
  it('u-1 <- a-1, u-2; a-1 <- a-2 (one response): the last final commits four messages, a-2 without usage', () => {
    const h = harness();
    h.send(
      ev.text('r-1', 'a-1', 'reply one', { prev: 'u-1' }),
      ev.final('u-2', 'interjection', { prev: 'u-1' }),
      ev.text('r-1', 'a-2', 'reply two', { prev: 'a-1' }),
      ev.completed('r-1', 'end_turn', u(30, 12)),
    );
    expect(h.committed).toEqual([]);
    const [o] = h.send(ev.final('u-1', 'question'));
    expect(o?.materializedMessages).toEqual([
      { role: 'user', itemId: 'u-1', text: 'question' },
      { role: 'assistant', itemId: 'a-1', responseId: 'r-1', text: 'reply one', lane: 'display', stopReason: 'end_turn', usage: u(30, 12) },
      { role: 'user', itemId: 'u-2', text: 'interjection' },
      { role: 'assistant', itemId: 'a-2', responseId: 'r-1', text: 'reply two', lane: 'display', stopReason: 'end_turn' },
    ]);
    expect(h.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(h.messages[1]).toMatchObject({ usage: u(30, 12) });
    expect(h.messages[3]).not.toHaveProperty('usage');
    expect(h.usage).toEqual(u(30, 12));
    expect(referenceMaterialize(h.state, { at: 1 }).items).toEqual([]);
  });

  it('the efficient pass equals the reference loops on the same state', () => {
    let s = initialRealtimeState;
    for (const e of [
      ev.text('r-1', 'a-1', 'reply one', { prev: 'u-1' }),
      ev.final('u-2', 'interjection', { prev: 'u-1' }),
      ev.text('r-1', 'a-2', 'reply two', { prev: 'a-1' }),
      ev.skipped('x-1', 'a-2'),
      ev.spoken('r-2', 'b-1', 'next', { prev: 'x-1' }),
      ev.completed('r-2', 'end_turn', u(1, 1)),
      ev.completed('r-1', 'end_turn', u(30, 12)),
      ev.final('u-1', 'question'),
    ]) {
      s = stepRealtime(s, e, { sessionId: 's', seq: 1, at: 1 }).state;
    }
    const fast = materializeRealtime(s, { at: 7 });
    const ref = referenceMaterialize(s, { at: 7 });
    expect(fast).toEqual(ref);
    expect(fast.items).toEqual(['u-1', 'a-1', 'u-2', 'a-2', 'b-1']);
    expect(fast.usage).toEqual(u(31, 13));
  });
});

describe('grouping and usage', () => {
  it('two consecutive items of a response form one message: text block, then transcript block', () => {
    const h = harness();
    h.send(ev.text('r-1', 'a-1', 'shown'), ev.spoken('r-1', 'a-2', 'said', { prev: 'a-1' }), ev.completed('r-1'));
    expect(h.messages).toHaveLength(1);
    expect(h.messages[0]).toMatchObject({
      role: 'assistant',
      content: [
        { type: 'text', text: 'shown' },
        { type: 'transcript', text: 'said', source: 'spoken' },
      ],
      stopReason: 'end_turn',
    });
  });

  it('a user item splits a group, an anchor does not', () => {
    const h = harness();
    h.send(
      ev.text('r-1', 'a-1', 'one', { prev: 'u-0' }),
      ev.skipped('x-1', 'a-1'),
      ev.text('r-1', 'a-2', 'two', { prev: 'x-1' }),
      ev.final('u-1', 'but', { prev: 'a-2' }),
      ev.text('r-1', 'a-3', 'three', { prev: 'u-1' }),
      ev.completed('r-1', 'end_turn', u(5, 5)),
      ev.skipped('u-0'),
    );
    expect(h.ids()).toEqual(['a-1', 'a-2', 'u-1', 'a-3']);
    expect(h.messages.map((m) => (m.role === 'assistant' ? m.content.length : 'user'))).toEqual([2, 'user', 1]);
    expect(h.messages[0]).toMatchObject({ usage: u(5, 5) });
    expect(h.messages[2]).not.toHaveProperty('usage');
    expect(h.usage).toEqual(u(5, 5));
  });

  it('usage is counted once when a response commits over two passes (two messages, the second without usage)', () => {
    const h = harness();
    h.send(ev.final('u-1', 'q'), ev.text('r-1', 'a-1', 'first', { prev: 'u-1' }), ev.text('r-1', 'a-2', 'second', { prev: 'w-1' }), ev.completed('r-1', 'end_turn', u(8, 2)));
    expect(h.ids()).toEqual(['u-1', 'a-1']);
    h.send(ev.skipped('w-1', 'a-1'));
    expect(h.ids()).toEqual(['u-1', 'a-1', 'a-2']);
    expect(h.messages.filter((m) => m.role === 'assistant')).toHaveLength(2);
    expect(h.messages[1]).toMatchObject({ usage: u(8, 2) });
    expect(h.messages[2]).not.toHaveProperty('usage');
    expect(h.usage).toEqual(u(8, 2));
  });

  it('usage is counted once in one pass and across responses', () => {
    const h = harness();
    h.send(
      ev.text('r-1', 'a-1', 'x', { prev: 'u-1' }),
      ev.completed('r-1', 'end_turn', u(1, 2)),
      ev.text('r-2', 'b-1', 'y', { prev: 'a-1' }),
      ev.completed('r-2', 'end_turn', u(10, 20)),
      ev.final('u-1', 'go'),
    );
    expect(h.ids()).toEqual(['u-1', 'a-1', 'b-1']);
    expect(h.messages).toHaveLength(3);
    expect(h.usage).toEqual(u(11, 22));
  });

  it('the first completion\u2019s stop reason and usage win', () => {
    const h = harness();
    h.send(
      ev.text('r-1', 'a-1', 'x', { prev: 'u-1' }),
      ev.completed('r-1', 'content_filter', u(3, 3)),
      ev.completed('r-1', 'end_turn', u(100, 100)),
      ev.final('u-1', 'go'),
    );
    expect(h.messages[1]).toMatchObject({ stopReason: 'content_filter', usage: u(3, 3) });
    expect(h.usage).toEqual(u(3, 3));
  });
});

describe('tool_use', () => {
  it('nothing commits; item_skipped hands off and releases later items', () => {
    const h = harness();
    h.send(ev.final('u-1', 'weather?'), ev.text('r-1', 'a-1', 'Checking.', { prev: 'u-1' }), ev.completed('r-1', 'tool_use', u(4, 4)));
    expect(h.ids()).toEqual(['u-1']);
    expect(h.state.completions).toEqual({});
    expect(h.usage).toEqual(u(0, 0));
    h.send(ev.text('r-2', 'a-2', 'Sunny.', { prev: 'a-1' }), ev.completed('r-2', 'end_turn', u(9, 1)));
    expect(h.ids()).toEqual(['u-1']); // held by a-1
    h.send(ev.skipped('a-1'));
    expect(h.ids()).toEqual(['u-1', 'a-2']);
    expect(h.item('a-1')).toMatchObject({ skipped: true, materialized: true, segments: {} });
    expect(h.usage).toEqual(u(9, 1));
  });

  it('an unconsumed completion is withdrawn; a later end_turn commits the staged text instead', () => {
    const h = harness();
    h.send(ev.text('r-1', 'a-1', 'staged', { prev: 'u-1' }), ev.completed('r-1', 'end_turn', u(1, 1)));
    expect(h.item('a-1').ready).toBe(true);
    h.send(ev.completed('r-1', 'tool_use'));
    expect(h.state.completions).toEqual({});
    expect(h.item('a-1').ready).toBe(false);
    h.send(ev.final('u-1', 'go'));
    expect(h.ids()).toEqual(['u-1']);
    h.send(ev.completed('r-1', 'end_turn', u(2, 2)));
    expect(h.ids()).toEqual(['u-1', 'a-1']);
    expect(h.messages[1]).toMatchObject({ stopReason: 'end_turn', usage: u(2, 2), content: [{ type: 'text', text: 'staged' }] });
  });

  it('after consumption tool_use is a no-op', () => {
    const h = harness();
    h.send(ev.text('r-1', 'a-1', 'one'), ev.text('r-1', 'a-2', 'two', { prev: 'w-1' }), ev.completed('r-1', 'end_turn', u(1, 1)));
    expect(h.ids()).toEqual(['a-1']);
    const [o] = h.send(ev.completed('r-1', 'tool_use'));
    expect(o?.notes).toEqual(['completion_consumed']);
    expect(h.item('a-2').ready).toBe(true);
  });
});

describe('cancelled and interrupted', () => {
  it('cancellation turns every open item into an anchor; nothing of it commits', () => {
    const h = harness();
    h.send(ev.final('u-1', 'q'), ev.text('r-1', 'a-1', 'partial', { prev: 'u-1' }), ev.spoken('r-1', 'a-2', 'spo', { prev: 'a-1' }), ev.completed('r-1', 'cancelled'));
    expect(h.ids()).toEqual(['u-1']);
    expect(h.item('a-1')).toMatchObject({ skipped: true, materialized: true });
    expect(h.item('a-2')).toMatchObject({ skipped: true, materialized: true });
    h.send(ev.final('u-2', 'next', { prev: 'a-2' }));
    expect(h.ids()).toEqual(['u-1', 'u-2']);
  });

  it('interruption keeps display text (cancelled, no usage), drops spoken and empty items', () => {
    const h = harness();
    h.send(
      ev.final('u-1', 'q'),
      ev.text('r-1', 'a-1', 'on screen', { prev: 'u-1' }),
      ev.spoken('r-1', 'a-2', 'half', { prev: 'a-1' }),
      ev.observed('a-3', 'assistant', { resp: 'r-1', prev: 'a-2' }),
    );
    const [o] = h.send(ev.interrupted('r-1'));
    expect(o?.materializedMessages).toEqual([{ role: 'assistant', itemId: 'a-1', responseId: 'r-1', text: 'on screen', lane: 'display', stopReason: 'cancelled' }]);
    expect(h.messages[1]).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'on screen' }], stopReason: 'cancelled', createdAt: h.messages[1]?.createdAt });
    expect(h.item('a-2')).toMatchObject({ skipped: true, materialized: true, segments: {} });
    expect(h.item('a-3')).toMatchObject({ skipped: true, materialized: true });
    // later events for the response make anchors; a duplicate delta is a silent no-op
    const [late] = h.send(ev.spoken('r-1', 'a-4', 'more', { id: 'late-1', prev: 'a-3' }));
    expect(late?.notes).toEqual(['response_discarded']);
    expect(h.item('a-4')).toMatchObject({ skipped: true, materialized: true });
    const before = h.state;
    const [again] = h.send(ev.text('r-1', 'a-1', 'x', { id: 'd-1' }));
    expect(again?.notes).toEqual(['response_discarded']); // a committed item of a discarded response: nothing
    expect(h.state).toBe(before);
    // the server's own response.done (cancelled) and a second interruption are no-ops
    expect(h.send(ev.completed('r-1', 'cancelled'))[0]?.notes).toEqual(['response_discarded']);
    expect(h.send(ev.interrupted('r-1'))[0]?.notes).toEqual(['response_discarded']);
    expect(h.usage).toEqual(u(0, 0));
  });

  it('a duplicate delta of a since-discarded response is a silent no-op', () => {
    const h = harness();
    h.send(ev.spoken('r-1', 'a-1', 'said', { id: 'e-1', prev: 'u-9' }), ev.interrupted('r-1'));
    const before = h.state;
    const [o] = h.send(ev.spoken('r-1', 'a-1', 'said', { id: 'e-1', prev: 'u-9' }));
    expect(o?.notes).toEqual(['duplicate_delta']);
    expect(h.state).toBe(before);
  });

  it('a cancelled completion after an interruption keeps display text that waits on a predecessor', () => {
    const h = harness();
    h.send(ev.text('r-1', 'a-1', 'kept', { prev: 'u-1' }), ev.interrupted('r-1'));
    expect(h.ids()).toEqual([]);
    h.send(ev.completed('r-1', 'cancelled'));
    expect(h.item('a-1')).toMatchObject({ skipped: false, ready: true, segments: { 0: 'kept' } });
    h.send(ev.final('u-1', 'q'));
    expect(h.ids()).toEqual(['u-1', 'a-1']);
    expect(h.committed[1]).toMatchObject({ stopReason: 'cancelled', text: 'kept' });
  });

  it('kept items commit with an earlier real completion and its usage', () => {
    const h = harness();
    h.send(ev.text('r-1', 'a-1', 'kept', { prev: 'u-1' }), ev.completed('r-1', 'end_turn', u(6, 6)), ev.interrupted('r-1'), ev.final('u-1', 'q'));
    expect(h.committed[1]).toMatchObject({ stopReason: 'end_turn', usage: u(6, 6) });
    expect(h.usage).toEqual(u(6, 6));
  });
});

describe('lanes and replacements on the transcript', () => {
  it('a replacement after commit is refused and the message stays unchanged', () => {
    const h = harness();
    h.send(ev.spoken('r-1', 'a-1', 'Hello wor'), ev.finalText('r-1', 'a-1', 'Hello world'), ev.completed('r-1'));
    expect(h.messages).toEqual([{ role: 'assistant', content: [{ type: 'transcript', text: 'Hello world', source: 'spoken' }], stopReason: 'end_turn', createdAt: 1_003 }]);
    const snapshot = JSON.stringify(h.messages);
    expect(h.send(ev.truncated('r-1', 'a-1', 'Hello'))[0]?.notes).toEqual(['item_materialized']);
    expect(JSON.stringify(h.messages)).toBe(snapshot);
  });

  it('a truncation of spoken text before commit replaces the heard part', () => {
    const h = harness();
    h.send(ev.spoken('r-1', 'a-1', 'Hello there friend', { prev: 'u-1' }), ev.truncated('r-1', 'a-1', 'Hello there'), ev.completed('r-1'), ev.final('u-1', 'q'));
    expect(h.committed[1]).toMatchObject({ text: 'Hello there', lane: 'spoken' });
  });
});

describe('the tool-results gate', () => {
  it('during an unresolved tool call events are recorded and nothing commits; a flush commits in causal order', () => {
    const h = harness();
    h.setGate(true);
    const outcomes = h.send(ev.text('r-1', 'a-1', 'answer', { prev: 'u-1' }), ev.final('u-1', 'question'), ev.completed('r-1', 'end_turn', u(2, 3)));
    for (const o of outcomes) expect(o).toEqual({ materializedMessages: [], isInert: true, notes: ['transcript_awaiting_tool_results'] });
    expect(h.records).toBe(3);
    expect(h.messages).toEqual([]);
    expect(hasUnmaterializedRealtimeItems(h.state)).toBe(true);
    // a flush while the gate is still closed does nothing
    const before = h.state;
    expect(h.flush()).toEqual({ materializedMessages: [], isInert: true, notes: ['transcript_awaiting_tool_results'] });
    expect(h.state).toBe(before);
    // a refused event under a closed gate carries only its own note
    expect(h.send(ev.observed('', 'user'))[0]?.notes).toEqual(['invalid_item_id']);
    h.setGate(false);
    const o = h.flush();
    expect(o.materializedMessages.map((m) => m.itemId)).toEqual(['u-1', 'a-1']);
    expect(h.records).toBe(4);
    expect(h.usage).toEqual(u(2, 3));
    expect(hasUnmaterializedRealtimeItems(h.state)).toBe(false);
    // a second flush has nothing to do
    const after = h.state;
    h.flush();
    expect(h.state).toBe(after);
    expect(h.records).toBe(4);
  });
});
