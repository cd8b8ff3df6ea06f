/**
 * Realtime machine: restore validation (realtime.md §5), one minimal violating
 * state per rule, rule order, and the 4,096-item waiting chain (correctness
 * only; its timing is `bench/realtimeRestore.ts`).
 */
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import {
  REALTIME_RESTORE_RULES,
  applyRealtime,
  initialRealtimeState,
  restoreRealtimeState,
  stepRealtime,
  type RealtimeRestoreRule,
  type RealtimeState,
} from '../../src/machines/realtime.ts';

type Json = Record<string, unknown>;
const item = (o: Json = {}): Json => ({ role: 'assistant', segments: {}, lane: 'display', skipped: false, ready: false, materialized: false, ...o });
const user = (o: Json = {}): Json => item({ role: 'user', ...o });
const anchor = (o: Json = {}): Json => item({ skipped: true, ready: true, ...o });
const state = (items: Json, o: Json = {}): Json => ({
  items,
  firstSeenOrder: Object.keys(items),
  seenDeltaIds: [],
  completions: {},
  discardedResponseIds: [],
  ...o,
});
const done = { stopReason: 'end_turn', usageConsumed: false };
const consumed = { stopReason: 'end_turn', usageConsumed: true };

const expectRule = (u: unknown, rule: RealtimeRestoreRule, mentions?: string): void => {
  const r = restoreRealtimeState(u);
  expect(E.isLeft(r)).toBe(true);
  if (E.isLeft(r)) {
    expect(r.left._tag).toBe('MachineStateInvalid');
    expect(r.left.machine).toBe('realtime');
    expect(r.left.reason.startsWith(`${rule}:`)).toBe(true);
    if (mentions !== undefined) expect(r.left.reason).toContain(JSON.stringify(mentions));
    expect(r.left.message).toContain(r.left.reason);
  }
};
const expectValid = (u: unknown): RealtimeState => {
  const r = restoreRealtimeState(u);
  if (E.isLeft(r)) throw new Error(r.left.reason);
  return r.right;
};

const violations: Record<RealtimeRestoreRule, Array<[string, Json, string?]>> = {
  order_permutation: [
    ['a duplicate', state({ 'a-1': anchor() }, { firstSeenOrder: ['a-1', 'a-1'] }), 'a-1'],
    ['a missing item', state({ 'a-1': anchor(), 'a-2': anchor() }, { firstSeenOrder: ['a-1'] }), 'a-2'],
    ['an id that is no item', state({ 'a-1': anchor() }, { firstSeenOrder: ['a-1', 'x-1'] }), 'x-1'],
  ],
  ids_normalized: [
    ['an untrimmed item key', state({ ' a-1': anchor() }), ' a-1'],
    ['an empty item key', state({ '': anchor() }), ''],
    ['an untrimmed previousItemId', state({ 'a-1': anchor({ previousItemId: 'u-1 ' }) }), 'u-1 '],
    ['an empty responseId', state({ 'a-1': anchor({ responseId: '' }) }), ''],
    ['an untrimmed delta id', state({}, { seenDeltaIds: [' e-1'] }), ' e-1'],
    ['an untrimmed completion key', state({}, { completions: { 'r-1\n': done } }), 'r-1\n'],
    ['an empty discarded id', state({}, { discardedResponseIds: [''] }), ''],
  ],
  sets_sorted: [
    ['unsorted delta ids', state({}, { seenDeltaIds: ['e-2', 'e-1'] }), 'e-1'],
    ['duplicate delta ids', state({}, { seenDeltaIds: ['e-1', 'e-1'] }), 'e-1'],
    ['unsorted discarded ids', state({}, { discardedResponseIds: ['r-b', 'r-a'] }), 'r-a'],
  ],
  segment_keys: [
    ['a leading zero', state({ 'a-1': item({ segments: { '01': 'x' } }) }), '01'],
    ['a negative key', state({ 'a-1': item({ segments: { '-1': 'x' } }) }), '-1'],
    ['above 2^32 - 1', state({ 'a-1': item({ segments: { '4294967296': 'x' } }) }), '4294967296'],
    ['not a number', state({ 'a-1': item({ segments: { x: 'x' } }) }), 'x'],
  ],
  no_self_predecessor: [['a self link', state({ 'a-1': anchor({ previousItemId: 'a-1' }) }), 'a-1']],
  materialized_predecessor_known: [
    ['a committed item naming an unknown id', state({ 'u-1': user({ previousItemId: 'u-0', segments: { 0: 'hi' }, ready: true, materialized: true }) }), 'u-1'],
  ],
  materialized_ancestry: [
    ['a committed item after a waiting one', state({ 'u-1': user({ previousItemId: 'u-0' }), 'u-2': user({ previousItemId: 'u-1', segments: { 0: 'hi' }, ready: true, materialized: true }) }), 'u-2'],
  ],
  acyclic: [
    ['a two-item cycle', state({ 'a-1': anchor({ previousItemId: 'a-2' }), 'a-2': anchor({ previousItemId: 'a-1' }) }), 'a-1'],
    ['a cycle hanging off a root', state({ 'r-0': anchor(), 'a-1': anchor({ previousItemId: 'a-3' }), 'a-2': anchor({ previousItemId: 'a-1' }), 'a-3': anchor({ previousItemId: 'a-2' }) })],
  ],
  user_items: [
    ['a user item with a responseId', state({ 'u-1': user({ responseId: 'r-1' }) }), 'u-1'],
    ['a spoken user item', state({ 'u-1': user({ lane: 'spoken' }) }), 'u-1'],
  ],
  anchors: [
    ['a skipped item that is not ready', state({ 'a-1': item({ skipped: true }) }), 'a-1'],
    ['a skipped item with segments', state({ 'a-1': anchor({ segments: { 0: '' } }) }), 'a-1'],
  ],
  materialized_eligible: [
    ['a committed item that is not ready', state({ 'u-1': user({ segments: { 0: 'hi' }, materialized: true }) }), 'u-1'],
    ['a committed item without content', state({ 'u-1': user({ segments: { 0: '  ' }, ready: true, materialized: true }) }), 'u-1'],
  ],
  assistant_bound: [
    ['content without a response', state({ 'a-1': item({ segments: { 0: 'hi' } }) }), 'a-1'],
    ['ready without a response', state({ 'a-1': item({ ready: true }) }), 'a-1'],
  ],
  ready_has_completion: [['a ready item without completion', state({ 'a-1': item({ responseId: 'r-1', segments: { 0: 'hi' }, ready: true }) }), 'a-1']],
  committed_consumed: [
    [
      'a committed item whose completion is unconsumed',
      state({ 'a-1': item({ responseId: 'r-1', segments: { 0: 'hi' }, ready: true, materialized: true }) }, { completions: { 'r-1': done } }),
      'a-1',
    ],
  ],
  completed_content_ready: [
    ['content and a completion but not ready', state({ 'a-1': item({ responseId: 'r-1', segments: { 0: 'hi' } }) }, { completions: { 'r-1': done } }), 'a-1'],
  ],
  discarded_items: [
    ['un-ready display text of a discarded response', state({ 'a-1': item({ responseId: 'r-1', segments: { 0: 'hi' } }) }, { discardedResponseIds: ['r-1'] }), 'a-1'],
    [
      'ready spoken text of a discarded response',
      state({ 'a-1': item({ responseId: 'r-1', lane: 'spoken', segments: { 0: 'hi' }, ready: true }) }, { discardedResponseIds: ['r-1'], completions: { 'r-1': done } }),
      'a-1',
    ],
    ['an empty open item of a discarded response', state({ 'a-1': item({ responseId: 'r-1' }) }, { discardedResponseIds: ['r-1'] }), 'a-1'],
  ],
  completions_valid: [
    ['a tool_use completion', state({}, { completions: { 'r-1': { stopReason: 'tool_use', usageConsumed: false } } }), 'r-1'],
    ['consumed without a committed item', state({}, { completions: { 'r-1': consumed } }), 'r-1'],
    ['consumed by a skipped item only', state({ 'a-1': anchor({ responseId: 'r-1', materialized: true }) }, { completions: { 'r-1': consumed } }), 'r-1'],
  ],
};

describe('restoreRealtimeState', () => {
  it('covers every rule, in the spec order', () => {
    expect(Object.keys(violations)).toEqual([...REALTIME_RESTORE_RULES]);
  });

  for (const rule of REALTIME_RESTORE_RULES) {
    describe(rule, () => {
      for (const [name, u, mentions] of violations[rule]) {
        it(`${name} names ${rule}`, () => expectRule(JSON.parse(JSON.stringify(u)), rule, mentions));
      }
    });
  }

  it('an unmaterialized item with an unknown predecessor is accepted', () => {
    const s = expectValid(state({ 'u-2': user({ previousItemId: 'u-1', segments: { 0: 'hi' }, ready: true }) }));
    expect(s.items['u-2']?.previousItemId).toBe('u-1');
  });

  it('valid states of every kind are accepted and copied into null-prototype records', () => {
    const u = state(
      {
        'u-1': user({ segments: { 0: 'q' }, ready: true, materialized: true }),
        'a-1': item({ previousItemId: 'u-1', responseId: 'r-1', lane: 'spoken', segments: { 0: 'x', 10: 'y' }, ready: true, materialized: true }),
        'x-1': anchor({ previousItemId: 'a-1', materialized: true }),
        'a-2': item({ previousItemId: 'x-1', responseId: 'r-2', segments: { 0: 'kept' }, ready: true }),
        'a-3': item({ previousItemId: 'a-2', responseId: 'r-3' }),
        'a-4': item({ previousItemId: 'zz', responseId: 'r-4', segments: { 0: 'staged' } }),
      },
      {
        seenDeltaIds: ['e-1', 'e-2'],
        completions: { 'r-1': { ...consumed, usage: { inputTokens: 1, outputTokens: 1 } }, 'r-2': { stopReason: 'cancelled', usageConsumed: false } },
        discardedResponseIds: ['r-2'],
      },
    );
    const s = expectValid(u);
    expect(JSON.parse(JSON.stringify(s))).toEqual(u);
    expect(Object.getPrototypeOf(s.items)).toBeNull();
    expect(Object.getPrototypeOf(s.completions)).toBeNull();
    expect(Object.getPrototypeOf(s.items['a-1']?.segments)).toBeNull();
  });

  it('reports the first broken rule when several are broken', () => {
    // anchors (rule 10) and sets_sorted (rule 3) both broken: sets_sorted wins
    expectRule(state({ 'a-1': item({ skipped: true }) }, { seenDeltaIds: ['b', 'a'] }), 'sets_sorted');
    // acyclic and user_items: acyclic wins
    expectRule(state({ 'u-1': user({ responseId: 'r', previousItemId: 'u-2' }), 'u-2': user({ previousItemId: 'u-1' }) }), 'acyclic');
  });

  it('a non-object or a wrongly typed state fails as decode', () => {
    for (const u of [null, 42, 'x', [], { ...state({}), items: [] }, { ...state({}), firstSeenOrder: [1] }]) {
      const r = restoreRealtimeState(u);
      expect(E.isLeft(r) && r.left.reason.startsWith('decode:')).toBe(true);
    }
  });
});

describe('the 4,096-item waiting chain', () => {
  const N = 4096;
  const ctx = { sessionId: 's-1', seq: 1, at: 5 };

  /** The chain c-1 <- c-2 <- ... <- c-N, first seen in reverse, its head naming the unknown id c-0, as stored JSON. */
  const storedChain = (n: number): Json => {
    const items: Json = {};
    for (let i = n; i >= 1; i--) items[`c-${i}`] = user({ previousItemId: `c-${i - 1}`, segments: { 0: `line ${i}` }, ready: true });
    return state(items);
  };

  it('a short chain built in reverse by events stores the same state as the hand-built one', () => {
    let s = initialRealtimeState;
    for (let i = 64; i >= 1; i--) {
      s = stepRealtime(s, { type: 'user_transcript_final', itemId: `c-${i}`, previousItemId: `c-${i - 1}`, contentIndex: 0, text: `line ${i}` }, ctx).state;
    }
    expect(JSON.parse(JSON.stringify(s))).toEqual(storedChain(64));
  });

  it('validates, and releasing it commits 4,096 messages in order', () => {
    const s = expectValid(storedChain(N));
    expect(s.firstSeenOrder[0]).toBe(`c-${N}`);
    expect(s.items['c-1']?.previousItemId).toBe('c-0'); // the head names an unknown id
    // nothing commits while the head waits
    const waiting = applyRealtime(s, { type: 'realtime_transcript_flush' }, ctx, { awaitingToolResults: false });
    expect(waiting.state).toBe(s);
    // passing the unknown head releases the whole chain in one event
    const r = applyRealtime(s, { type: 'realtime_transcript_event', event: { type: 'item_skipped', itemId: 'c-0' } }, ctx, { awaitingToolResults: false });
    expect(r.result.messages).toHaveLength(N);
    expect(r.result.outcome.materializedMessages.map((m) => m.itemId)).toEqual(Array.from({ length: N }, (_, i) => `c-${i + 1}`));
    expect(r.result.messages.every((m, i) => m.role === 'user' && m.content[0]?.type === 'text' && m.content[0].text === `line ${i + 1}`)).toBe(true);
    expect(E.isRight(restoreRealtimeState(JSON.parse(JSON.stringify(r.state))))).toBe(true);
  });
});
