/**
 * Property specifications of the realtime transcript machine (realtime.md §9).
 *
 * - Random event sequences (valid, refused, duplicated, with the tool-results
 *   gate opening and closing and flushes in between) never throw; every
 *   reachable state passes `restoreRealtimeState` after a JSON round trip and
 *   comes back equal; an unchanged state is the same object; no item commits
 *   twice and no response's usage is counted twice.
 * - The O(n log n) causal order and pass equal the normative reference loops,
 *   on reachable states and on arbitrary link structures and flags (cycles,
 *   unknown predecessors, odd flags included).
 * - Linear conversations whose first event per item carries its predecessor
 *   and whose completions follow their content: any interleaving, with
 *   duplicates and a replayed suffix, commits the same items, texts, stop
 *   reasons and total usage as in-order delivery.
 * - Any permutation (with duplicates) of a causally closed event set of a
 *   linear chain, one item per response, gives the same transcript.
 * - Decoding arbitrary values never throws.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import {
  applyRealtime,
  causalOrder,
  decodeRealtimeEvent,
  emptyRealtimeDict,
  initialRealtimeState,
  materializeRealtime,
  restoreRealtimeState,
  stepRealtime,
  type RealtimeCommand,
  type RealtimeItem,
  type RealtimeMaterializedMessage,
  type RealtimeState,
  type RealtimeTranscriptEvent,
} from '../../src/machines/realtime.ts';
import { referenceMaterialize, referenceOrder } from '../../test/support/realtimeReference.ts';
import type { StopReason } from '../../src/model/content.ts';
import type { Message } from '../../src/model/message.ts';
import { addUsage, emptyUsage, type Usage } from '../../src/model/usage.ts';

const ctx = { sessionId: 's-1', seq: 1, at: 7 };
const open = { awaitingToolResults: false };

/** Runs one command the way the session does; checks the invariants every step must keep. */
const check = (s: RealtimeState, command: RealtimeCommand, gateClosed: boolean) => {
  const r = applyRealtime(s, command, ctx, { awaitingToolResults: gateClosed });
  if (r.state === s) {
    expect(r.result.messages).toEqual([]);
    expect(r.result.usage).toBeUndefined();
  } else {
    expect(JSON.stringify(r.state)).not.toBe(JSON.stringify(s));
    const json = JSON.parse(JSON.stringify(r.state)) as unknown;
    const restored = restoreRealtimeState(json);
    if (E.isLeft(restored)) throw new Error(`${restored.left.reason}\n${JSON.stringify(json)}`);
    expect(JSON.parse(JSON.stringify(restored.right))).toEqual(json);
  }
  expect(r.result.outcome.isInert).toBe(r.result.outcome.materializedMessages.length === 0);
  return r;
};

const eventCommand = (event: RealtimeTranscriptEvent): RealtimeCommand => ({ type: 'realtime_transcript_event', event });

// ---------------------------------------------------------------------------
// Random event sequences over a small alphabet

const itemIds = ['a', 'b', 'c', 'd', 'e', ' a', 'b ', '', '  ', '__proto__'];
const prevIds = [...itemIds, 'zz'];
const responseIds = ['r1', 'r2', 'r3', ' r1', ''];
const deltaIds = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7', 'd8', '', ' d1'];
const texts = ['', ' ', 'hi', 'yo ', 'x'];
const stopReasons: StopReason[] = ['end_turn', 'tool_use', 'max_tokens', 'stop_sequence', 'content_filter', 'cancelled', 'error'];
/** Mostly the first few values, so events collide on items and responses; the odd spellings now and then. */
const skewed = <T,>(values: readonly T[], common: number): fc.Arbitrary<T> =>
  fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...values.slice(0, common)) }, { weight: 1, arbitrary: fc.constantFrom(...values) });
const itemId = skewed(itemIds, 3);
const responseId = skewed(responseIds, 2);
const text = skewed(texts, 5);
const contentIndex = fc.constantFrom(0, 1, 2, 10);
const optPrev = fc.option(skewed(prevIds, 3), { nil: undefined, freq: 2 });
const usageArb = fc.option(
  fc.record({ inputTokens: fc.integer({ min: 0, max: 50 }), outputTokens: fc.integer({ min: 0, max: 50 }) }),
  { nil: undefined },
);
const withPrev = <T extends object>(e: T, p: string | undefined): T => (p === undefined ? e : { ...e, previousItemId: p });

const eventArb: fc.Arbitrary<RealtimeTranscriptEvent> = fc.oneof(
  fc
    .tuple(itemId, fc.constantFrom('user' as const, 'assistant' as const), optPrev, fc.option(responseId, { nil: undefined }))
    .map(([itemId, role, p, r]) => withPrev({ type: 'item_observed' as const, itemId, role, ...(r === undefined ? {} : { responseId: r }) }, p)),
  fc.tuple(itemId, optPrev).map(([itemId, p]) => withPrev({ type: 'item_skipped' as const, itemId }, p)),
  fc
    .tuple(itemId, optPrev, contentIndex, text)
    .map(([itemId, p, ci, text]) => withPrev({ type: 'user_transcript_final' as const, itemId, contentIndex: ci, text }, p)),
  fc
    .tuple(
      fc.constantFrom('assistant_text_delta' as const, 'assistant_transcript_delta' as const),
      responseId,
      fc.constantFrom(...deltaIds),
      itemId,
      optPrev,
      contentIndex,
      text,
    )
    .map(([type, responseId, deltaId, itemId, p, ci, delta]) => withPrev({ type, responseId, deltaId, itemId, contentIndex: ci, delta }, p)),
  fc
    .tuple(
      fc.constantFrom('assistant_transcript_truncated' as const, 'assistant_transcript_final_text' as const),
      responseId,
      itemId,
      contentIndex,
      text,
    )
    .map(([type, responseId, itemId, ci, text]) => ({ type, responseId, itemId, contentIndex: ci, text })),
  fc
    .tuple(responseId, fc.constantFrom(...stopReasons), usageArb)
    .map(([responseId, stopReason, usage]) => ({ type: 'assistant_turn_completed' as const, responseId, stopReason, ...(usage === undefined ? {} : { usage }) })),
  responseId.map((responseId) => ({ type: 'assistant_turn_interrupted' as const, responseId })),
);

/** A step of a random run: an event or a flush, and whether the tool-results gate is closed. */
const runStepArb = fc.record({
  command: fc.oneof({ weight: 12, arbitrary: eventArb.map(eventCommand) }, { weight: 1, arbitrary: fc.constant<RealtimeCommand>({ type: 'realtime_transcript_flush' }) }),
  gateClosed: fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))), // closed about a quarter of the time
});

const sameMaterialization = (s: RealtimeState): void => {
  expect(causalOrder(s)).toEqual(referenceOrder(s));
  const fast = materializeRealtime(s, ctx);
  const ref = referenceMaterialize(s, ctx);
  expect(fast.items).toEqual(ref.items);
  expect(fast.messages).toEqual(ref.messages);
  expect(fast.materialized).toEqual(ref.materialized);
  expect(fast.usage).toEqual(ref.usage);
  expect(JSON.parse(JSON.stringify(fast.state))).toEqual(JSON.parse(JSON.stringify(ref.state)));
  expect(fast.state === s).toBe(ref.state === s);
};

describe('random event sequences', () => {
  it('never throw; reachable states restore; nothing commits or counts usage twice; fast = reference', () => {
    fc.assert(
      fc.property(fc.array(runStepArb, { minLength: 1, maxLength: 40, size: 'max' }), (steps) => {
        let s = initialRealtimeState;
        const committed = new Set<string>();
        const usageCounted = new Set<string>();
        for (const { command, gateClosed } of steps) {
          if (gateClosed) sameMaterialization(s); // states that pile up behind the gate are the interesting ones
          const r = check(s, command, gateClosed);
          for (const m of r.result.outcome.materializedMessages) {
            expect(committed.has(m.itemId)).toBe(false);
            committed.add(m.itemId);
            if (m.role === 'assistant' && m.usage !== undefined) {
              expect(usageCounted.has(m.responseId)).toBe(false);
              usageCounted.add(m.responseId);
            }
          }
          for (const m of r.result.messages) {
            if (m.role === 'user') expect(m.content.every((b) => b.type === 'text' && b.text.trim() !== '')).toBe(true);
            if (m.role === 'assistant') expect(m.content.length).toBeGreaterThan(0);
          }
          s = r.state;
        }
        sameMaterialization(s);
      }),
      { numRuns: 1500 },
    );
  });
});

// ---------------------------------------------------------------------------
// Arbitrary link structures and flags: fast order and pass = reference loops

const rawStateArb: fc.Arbitrary<RealtimeState> = fc.integer({ min: 0, max: 12 }).chain((n) => {
  const ids = Array.from({ length: n }, (_, i) => `i${i}`);
  const itemArb: fc.Arbitrary<RealtimeItem> = fc
    .record({
      role: fc.constantFrom('user' as const, 'assistant' as const),
      prev: fc.oneof(
        { weight: 3, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constant('unknown') },
        { weight: 6, arbitrary: n > 0 ? fc.constantFrom(...ids) : fc.constant(undefined) },
      ),
      resp: fc.option(fc.constantFrom('r0', 'r1', 'r2'), { nil: undefined, freq: 5 }),
      text: fc.constantFrom('', ' ', 'x', 'y z', 'x', 'y z'),
      lane: fc.constantFrom('display' as const, 'spoken' as const),
      // biased towards eligible items, so that passes span several rounds
      skipped: fc.constantFrom(false, false, false, true),
      ready: fc.constantFrom(true, true, true, false),
      materialized: fc.constantFrom(false, false, true),
    })
    .map((o) => {
      const segments = emptyRealtimeDict<string>();
      if (o.text !== '') segments['0'] = o.text;
      const it: RealtimeItem = { role: o.role, segments, lane: o.lane, skipped: o.skipped, ready: o.ready, materialized: o.materialized };
      if (o.prev !== undefined) it.previousItemId = o.prev;
      if (o.resp !== undefined) it.responseId = o.resp;
      return it;
    });
  return fc
    .record({
      items: fc.array(itemArb, { minLength: n, maxLength: n }),
      order: fc.shuffledSubarray(ids, { minLength: n, maxLength: n }),
      completions: fc.array(fc.record({ stopReason: fc.constantFrom<StopReason>('end_turn', 'cancelled'), usage: usageArb, usageConsumed: fc.boolean() }), { minLength: 3, maxLength: 3 }),
      present: fc.array(fc.constantFrom(true, true, true, false), { minLength: 3, maxLength: 3 }),
    })
    .map(({ items, order, completions, present }) => {
      const rec = emptyRealtimeDict<RealtimeItem>();
      ids.forEach((id, i) => {
        rec[id] = items[i] as RealtimeItem;
      });
      const comps = emptyRealtimeDict<RealtimeState['completions'][string]>();
      completions.forEach((c, i) => {
        if (present[i] === true) comps[`r${i}`] = c.usage === undefined ? { stopReason: c.stopReason, usageConsumed: c.usageConsumed } : c as { stopReason: StopReason; usage: Usage; usageConsumed: boolean };
      });
      return { items: rec, firstSeenOrder: order, seenDeltaIds: [], completions: comps, discardedResponseIds: [] };
    });
});

describe('efficient order and pass', () => {
  it('equal the reference loops on arbitrary links and flags', () => {
    fc.assert(
      fc.property(rawStateArb, (s) => {
        sameMaterialization(s);
      }),
      { numRuns: 4000 },
    );
  });
});

// ---------------------------------------------------------------------------
// Linear conversations: any interleaving with duplicates and a replayed suffix

type Plan = {
  items: Array<
    | { kind: 'user'; id: string; text: string; observe: boolean }
    | {
        kind: 'assistant';
        id: string;
        responseId: string;
        lane: 'display' | 'spoken';
        observe: boolean;
        segments: Array<{ ci: number; deltas: string[]; finalText?: string; dropFirst: boolean }>;
      }
  >;
  completions: Map<string, { stopReason: StopReason; usage?: Usage }>;
};

const wordArb = fc.constantFrom('Hi', ' there', ' ok', 'x y', 'z');
const userArb = fc.record({ kind: fc.constant('user' as const), text: fc.constantFrom('hello', ' what?', 'a b'), observe: fc.boolean() });
const assistantArb = fc.record({
  kind: fc.constant('assistant' as const),
  newResponse: fc.boolean(),
  lane: fc.constantFrom('display' as const, 'spoken' as const),
  observe: fc.boolean(),
  segments: fc.uniqueArray(
    fc.record({ ci: fc.constantFrom(0, 1, 2, 9, 10), deltas: fc.array(wordArb, { minLength: 1, maxLength: 3 }), finalText: fc.option(fc.constantFrom('Final.', 'Said it'), { nil: undefined }), dropFirst: fc.boolean() }),
    { minLength: 1, maxLength: 3, selector: (s) => s.ci },
  ),
});
const completionArb = fc.record({ stopReason: fc.constantFrom<StopReason>('end_turn', 'max_tokens', 'stop_sequence', 'content_filter', 'error'), usage: usageArb });

const planArb: fc.Arbitrary<Plan> = fc
  .tuple(fc.array(fc.oneof(userArb, assistantArb), { minLength: 1, maxLength: 8 }), fc.array(completionArb, { minLength: 8, maxLength: 8 }))
  .map(([raw, comps]) => {
    let r = 0;
    let started = false;
    const items: Plan['items'] = raw.map((x, i) => {
      const id = `it-${i}`;
      if (x.kind === 'user') return { kind: 'user', id, text: x.text, observe: x.observe };
      if (x.newResponse || !started) {
        r++;
        started = true;
      }
      const spoken = x.lane === 'spoken';
      return {
        kind: 'assistant',
        id,
        responseId: `r-${r}`,
        lane: x.lane,
        observe: x.observe,
        // replacements only on the spoken lane; a delta may be lost only when a final text repairs it
        segments: x.segments.map((s) => ({ ci: s.ci, deltas: s.deltas, ...(spoken && s.finalText !== undefined ? { finalText: s.finalText } : {}), dropFirst: spoken && s.finalText !== undefined && s.dropFirst })),
      };
    });
    const completions = new Map<string, { stopReason: StopReason; usage?: Usage }>();
    for (const it of items) {
      if (it.kind !== 'assistant' || completions.has(it.responseId)) continue;
      const c = comps[completions.size] as { stopReason: StopReason; usage: Usage | undefined };
      completions.set(it.responseId, c.usage === undefined ? { stopReason: c.stopReason } : { stopReason: c.stopReason, usage: c.usage });
    }
    return { items, completions };
  });

/** Per-item event streams (each in order), and the completion events keyed by response. */
const streamsOf = (plan: Plan): { streams: Array<{ key: string; responseId?: string; events: RealtimeTranscriptEvent[] }>; completions: Map<string, RealtimeTranscriptEvent> } => {
  const streams = plan.items.map((it, i) => {
    const prev = i === 0 ? undefined : plan.items[i - 1]?.id;
    const events: RealtimeTranscriptEvent[] = [];
    if (it.kind === 'user') {
      if (it.observe) events.push(withPrev({ type: 'item_observed', itemId: it.id, role: 'user' } as RealtimeTranscriptEvent, prev));
      events.push(withPrev({ type: 'user_transcript_final', itemId: it.id, contentIndex: 0, text: it.text } as RealtimeTranscriptEvent, prev));
      return { key: it.id, events };
    }
    if (it.observe) events.push(withPrev({ type: 'item_observed', itemId: it.id, role: 'assistant', responseId: it.responseId } as RealtimeTranscriptEvent, prev));
    let n = 0;
    for (const seg of it.segments) {
      seg.deltas.forEach((delta, k) => {
        n++;
        if (k === 0 && seg.dropFirst) return; // lost on the wire; the final text repairs it
        events.push(
          withPrev(
            {
              type: it.lane === 'display' ? 'assistant_text_delta' : 'assistant_transcript_delta',
              responseId: it.responseId,
              deltaId: `${it.id}/${n}`,
              itemId: it.id,
              contentIndex: seg.ci,
              delta,
            } as RealtimeTranscriptEvent,
            events.length === 0 || k % 2 === 1 ? prev : undefined, // the first event carries the predecessor, some later ones too
          ),
        );
      });
      if (seg.finalText !== undefined) {
        if (events.length === 0) {
          // a final text cannot carry the predecessor: observe first
          events.push(withPrev({ type: 'item_observed', itemId: it.id, role: 'assistant', responseId: it.responseId } as RealtimeTranscriptEvent, prev));
        }
        events.push({ type: 'assistant_transcript_final_text', responseId: it.responseId, itemId: it.id, contentIndex: seg.ci, text: seg.finalText });
      }
    }
    return { key: it.id, responseId: it.responseId, events };
  });
  const completions = new Map<string, RealtimeTranscriptEvent>();
  for (const [r, c] of plan.completions) completions.set(r, { type: 'assistant_turn_completed', responseId: r, stopReason: c.stopReason, ...(c.usage === undefined ? {} : { usage: c.usage }) });
  return { streams, completions };
};

/** In-order delivery: items in chain order, each response's completion right after its last item. */
const inOrder = (plan: Plan): RealtimeTranscriptEvent[] => {
  const { streams, completions } = streamsOf(plan);
  const last = new Map<string, number>();
  plan.items.forEach((it, i) => {
    if (it.kind === 'assistant') last.set(it.responseId, i);
  });
  const out: RealtimeTranscriptEvent[] = [];
  streams.forEach((s, i) => {
    out.push(...s.events);
    for (const [r, li] of last) if (li === i) out.push(completions.get(r) as RealtimeTranscriptEvent);
  });
  return out;
};

/** A random interleaving respecting stream order and completion-after-content, with duplicates re-sent later. */
const interleave = (plan: Plan, choices: number[], dupChoices: number[]): RealtimeTranscriptEvent[] => {
  const { streams, completions } = streamsOf(plan);
  const pos = streams.map(() => 0);
  const pendingCompletions = new Set(completions.keys());
  const sent: RealtimeTranscriptEvent[] = [];
  const out: RealtimeTranscriptEvent[] = [];
  let c = 0;
  const next = (): number => choices[c++ % Math.max(choices.length, 1)] ?? 0;
  for (;;) {
    const heads: Array<() => RealtimeTranscriptEvent> = [];
    streams.forEach((s, i) => {
      if ((pos[i] as number) < s.events.length) heads.push(() => s.events[(pos[i] as number)++] as RealtimeTranscriptEvent);
    });
    for (const r of pendingCompletions) {
      const contentDone = streams.every((s, i) => s.responseId !== r || pos[i] === s.events.length);
      if (contentDone) {
        heads.push(() => {
          pendingCompletions.delete(r);
          return completions.get(r) as RealtimeTranscriptEvent;
        });
      }
    }
    const dup = dupChoices[out.length];
    if (dup !== undefined && dup >= 0 && sent.length > 0 && (heads.length === 0 || dup % 3 === 0)) {
      out.push(sent[dup % sent.length] as RealtimeTranscriptEvent);
      if (heads.length === 0) continue;
    }
    if (heads.length === 0) break;
    const e = (heads[next() % heads.length] as () => RealtimeTranscriptEvent)();
    sent.push(e);
    out.push(e);
  }
  return out;
};

type Committed = { itemId: string; role: string; text: string; stopReason?: StopReason; lane?: string };
const deliver = (events: RealtimeTranscriptEvent[]): { committed: Committed[]; usage: Usage; messages: Message[]; state: RealtimeState } => {
  let s = initialRealtimeState;
  const committed: Committed[] = [];
  const messages: Message[] = [];
  let usage = emptyUsage;
  for (const e of events) {
    const r = check(s, eventCommand(e), false);
    for (const m of r.result.outcome.materializedMessages) committed.push(project(m));
    messages.push(...r.result.messages);
    if (r.result.usage !== undefined) usage = addUsage(usage, r.result.usage);
    s = r.state;
  }
  return { committed, usage, messages, state: s };
};
const project = (m: RealtimeMaterializedMessage): Committed =>
  m.role === 'user' ? { itemId: m.itemId, role: 'user', text: m.text } : { itemId: m.itemId, role: 'assistant', text: m.text, stopReason: m.stopReason, lane: m.lane };

/** What the plan should commit, computed independently of the machine. */
const expected = (plan: Plan): { committed: Committed[]; usage: Usage } => {
  let usage = emptyUsage;
  for (const c of plan.completions.values()) if (c.usage !== undefined) usage = addUsage(usage, c.usage);
  const committed = plan.items.map((it): Committed => {
    if (it.kind === 'user') return { itemId: it.id, role: 'user', text: it.text };
    const text = [...it.segments]
      .sort((a, b) => a.ci - b.ci)
      .map((s) => s.finalText ?? s.deltas.join(''))
      .join('');
    return { itemId: it.id, role: 'assistant', text, stopReason: plan.completions.get(it.responseId)?.stopReason as StopReason, lane: it.lane };
  });
  return { committed, usage };
};

describe('linear conversations', () => {
  it('any interleaving with duplicates and a replayed suffix commits what in-order delivery commits', () => {
    fc.assert(
      fc.property(
        planArb,
        fc.array(fc.nat(), { minLength: 1, maxLength: 60 }),
        fc.array(fc.integer({ min: -3, max: 40 }), { maxLength: 80 }),
        fc.nat(),
        (plan, choices, dupChoices, suffixAt) => {
          const ordered = inOrder(plan);
          const reference = deliver(ordered);
          const want = expected(plan);
          expect(reference.committed).toEqual(want.committed);
          expect(reference.usage).toEqual(want.usage);

          const shuffled = interleave(plan, choices, dupChoices);
          const replay = ordered.slice(suffixAt % (ordered.length + 1));
          const got = deliver([...shuffled, ...replay]);
          expect(got.committed).toEqual(reference.committed);
          expect(got.usage).toEqual(reference.usage);
          expect(got.messages.reduce((u, m) => (m.role === 'assistant' && m.usage !== undefined ? addUsage(u, m.usage) : u), emptyUsage)).toEqual(reference.usage);
        },
      ),
      { numRuns: 1500 },
    );
  });
});

// ---------------------------------------------------------------------------
// Permutations of a causally closed event set

type ClosedItem = { kind: 'user' | 'display' | 'spoken' | 'anchor'; text: string; stopReason: StopReason; usage?: Usage; observe: boolean; ci: number };
const closedItemArb: fc.Arbitrary<ClosedItem> = fc
  .record({
    kind: fc.constantFrom('user' as const, 'display' as const, 'spoken' as const, 'anchor' as const),
    text: fc.constantFrom('one', ' two', 'three four'),
    stopReason: fc.constantFrom<StopReason>('end_turn', 'max_tokens', 'error'),
    usage: usageArb,
    observe: fc.boolean(),
    ci: fc.constantFrom(0, 3),
  })
  .map((o) => (o.usage === undefined ? { kind: o.kind, text: o.text, stopReason: o.stopReason, observe: o.observe, ci: o.ci } : (o as ClosedItem)));

const closedEvents = (items: ClosedItem[]): RealtimeTranscriptEvent[] =>
  items.flatMap((it, i): RealtimeTranscriptEvent[] => {
    const id = `c-${i}`;
    const p = i === 0 ? undefined : `c-${i - 1}`;
    const r = `r-${i}`;
    switch (it.kind) {
      case 'user':
        return [
          ...(it.observe ? [withPrev({ type: 'item_observed', itemId: id, role: 'user' } as RealtimeTranscriptEvent, p)] : []),
          withPrev({ type: 'user_transcript_final', itemId: id, contentIndex: it.ci, text: it.text } as RealtimeTranscriptEvent, p),
        ];
      case 'anchor':
        return [withPrev({ type: 'item_skipped', itemId: id } as RealtimeTranscriptEvent, p)];
      default:
        return [
          ...(it.observe ? [withPrev({ type: 'item_observed', itemId: id, role: 'assistant', responseId: r } as RealtimeTranscriptEvent, p)] : []),
          withPrev(
            {
              type: it.kind === 'display' ? 'assistant_text_delta' : 'assistant_transcript_delta',
              responseId: r,
              deltaId: `e-${i}`,
              itemId: id,
              contentIndex: it.ci,
              delta: it.text,
            } as RealtimeTranscriptEvent,
            p,
          ),
          { type: 'assistant_turn_completed', responseId: r, stopReason: it.stopReason, ...(it.usage === undefined ? {} : { usage: it.usage }) },
        ];
    }
  });

describe('causally closed event sets', () => {
  it('any permutation, with duplicates, gives the same transcript', () => {
    fc.assert(
      fc.property(
        fc.array(closedItemArb, { minLength: 1, maxLength: 8 }).chain((items) => {
          const events = closedEvents(items);
          return fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }), fc.subarray(events));
        }),
        fc.nat(),
        ([events, permuted, dups], seed) => {
          const mixed = [...permuted];
          dups.forEach((d, k) => mixed.splice((seed + k * 7) % (mixed.length + 1), 0, d));
          const want = deliver(events);
          const got = deliver(mixed);
          expect(got.messages).toEqual(want.messages);
          expect(got.usage).toEqual(want.usage);
          expect(JSON.parse(JSON.stringify(got.state.items))).toEqual(JSON.parse(JSON.stringify(want.state.items)));
          // everything committed or passed
          expect(Object.values(got.state.items).every((it) => it.materialized)).toBe(true);
        },
      ),
      { numRuns: 1500 },
    );
  });
});

// ---------------------------------------------------------------------------

describe('decoding', () => {
  it('never throws on arbitrary values; whatever decodes steps without throwing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), eventArb, eventArb.map((e) => ({ ...e, contentIndex: -1 }))), (u) => {
        const r = decodeRealtimeEvent(u);
        if (E.isRight(r)) check(initialRealtimeState, eventCommand(r.right), false);
        else expect(r.left._tag).toBe('InvalidRealtimeEvent');
        const s = restoreRealtimeState(u);
        expect(E.isLeft(s)).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });

  it('applyRealtime with an open gate is step, then materialize when the state changed', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 20 }), (events) => {
        let s = initialRealtimeState;
        for (const e of events) {
          const r = applyRealtime(s, eventCommand(e), ctx, open);
          const stepped = stepRealtime(s, e, ctx);
          if (stepped.state === s) {
            expect(r.state).toBe(s);
            expect(r.result.outcome.notes).toEqual(stepped.result);
          } else {
            const m = materializeRealtime(stepped.state, ctx);
            expect(r.result.messages).toEqual(m.messages);
            expect(r.result.usage).toEqual(m.usage);
            expect(r.result.outcome).toEqual({ materializedMessages: m.materialized, isInert: m.materialized.length === 0, notes: stepped.result });
            expect(JSON.stringify(r.state)).toBe(JSON.stringify(m.state));
          }
          s = r.state;
        }
      }),
      { numRuns: 500 },
    );
  });
});
