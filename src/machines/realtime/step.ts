/**
 * The realtime event reducer (realtime.md §3): `stepRealtime(state, event, ctx)`.
 *
 * Guards are evaluated on the immutable input state; the effect of the first row
 * whose guard holds is applied in one immer `produce`, so an event that changes
 * nothing returns the very input object. A *refused* row leaves the state
 * unchanged even when the observe step would have filled a field (the event as a
 * whole is refused); a *no-op* row keeps what the observe step did (which, on
 * the rows concerned, is nothing).
 */
import { produce, type Draft } from 'immer';
import type { StepContext, StepResult } from '../common.ts';
import {
  emptyDict,
  type Lane,
  type RealtimeEventOf,
  type RealtimeItem,
  type RealtimeNote,
  type RealtimeRole,
  type RealtimeState,
  type RealtimeTranscriptEvent,
} from './codecs.ts';
import { withNullProtoDicts } from './dicts.ts';
import { boundItems, hasContent, hasSegments, isBlank, isDiscarded, normalizeId, own, sortedHas, sortedInsert } from './derive.ts';

type Mutation = (d: Draft<RealtimeState>) => void;
type Step = StepResult<RealtimeState, RealtimeNote[]>;

/** Applies `mutations` in one `produce` (the input object when they change nothing). */
const apply = (state: RealtimeState, ...mutations: Array<Mutation | undefined>): RealtimeState => {
  if (mutations.every((m) => m === undefined)) return state;
  return produce(state, (d) => {
    for (const m of mutations) m?.(d);
  });
};

const result = (state: RealtimeState, notes: RealtimeNote[] = []): Step => ({ state, result: notes });

/** The draft of item `id` (it exists whenever a mutation asks for it). */
const draftItem = (d: Draft<RealtimeState>, id: string): Draft<RealtimeItem> => {
  const it = d.items[id];
  if (it === undefined) throw new Error(`realtime: internal error, item ${JSON.stringify(id)} missing in draft`);
  return it;
};

const newItem = (role: RealtimeRole, opts: { previousItemId?: string | undefined; responseId?: string | undefined; anchor: boolean }): RealtimeItem => {
  const item: RealtimeItem = { role, segments: emptyDict(), lane: 'display', skipped: opts.anchor, ready: opts.anchor, materialized: false };
  if (opts.previousItemId !== undefined) item.previousItemId = opts.previousItemId;
  if (opts.responseId !== undefined) item.responseId = opts.responseId;
  return item;
};

const createItem = (id: string, item: RealtimeItem): Mutation => (d) => {
  d.items[id] = item as Draft<RealtimeItem>;
  d.firstSeenOrder.push(id);
};

/** Turns an item into an anchor: skipped, ready, no segments (lane and links kept). */
const anchorDraft = (it: Draft<RealtimeItem>): void => {
  if (hasSegments(it)) it.segments = emptyDict();
  it.skipped = true;
  it.ready = true;
};

/**
 * O6 / S5: whether following `previousItemId` from `p` reaches `i`. The walk stops
 * at a root, an unknown id or a materialized item, so it costs at most the
 * waiting chain (bounded by the item count, which also makes it total on a state
 * that already holds a cycle).
 */
const reaches = (state: RealtimeState, p: string, i: string): boolean => {
  let cur: string | undefined = p;
  let budget = state.firstSeenOrder.length + 1;
  while (cur !== undefined && budget-- >= 0) {
    if (cur === i) return true;
    const item: RealtimeItem | undefined = own(state.items, cur);
    if (item === undefined || item.materialized) return false;
    cur = item.previousItemId;
  }
  return false;
};

type Observed =
  | { readonly tag: 'refused'; readonly note: RealtimeNote }
  | { readonly tag: 'ended'; readonly note: RealtimeNote; readonly mutate?: Mutation }
  | { readonly tag: 'continue'; readonly item: RealtimeItem; readonly mutate?: Mutation };

/**
 * The observe step (realtime.md §3.2), rows O1 to O9. `item` in a `continue`
 * outcome is the item before the step (or the fresh one): the rows after the
 * observe step only read fields the step does not fill.
 */
const observe = (state: RealtimeState, i: string | undefined, p: string | undefined, role: RealtimeRole, r: string | undefined): Observed => {
  if (i === undefined) return { tag: 'refused', note: 'invalid_item_id' }; // O1
  if (p !== undefined && p === i) return { tag: 'refused', note: 'causal_cycle' }; // O2
  const item = own(state.items, i);
  if (item !== undefined && item.skipped) return { tag: 'ended', note: 'item_skipped' }; // O3
  if (item !== undefined && item.role !== role) return { tag: 'refused', note: 'role_conflict' }; // O4
  if (item !== undefined && item.responseId !== undefined && r !== undefined && item.responseId !== r) {
    return { tag: 'refused', note: 'response_conflict' }; // O5
  }
  const setsPredecessor = item === undefined || (!item.materialized && item.previousItemId === undefined);
  if (setsPredecessor && p !== undefined && reaches(state, p, i)) return { tag: 'refused', note: 'causal_cycle' }; // O6
  if (role === 'assistant' && r !== undefined && isDiscarded(state, r)) {
    // O7: a late event for a discarded response.
    if (item === undefined) {
      return { tag: 'ended', note: 'response_discarded', mutate: createItem(i, newItem('assistant', { previousItemId: p, responseId: r, anchor: true })) };
    }
    if (!item.materialized && item.responseId === undefined) {
      return {
        tag: 'ended',
        note: 'response_discarded',
        mutate: (d) => {
          const it = draftItem(d, i);
          it.responseId = r;
          if (it.previousItemId === undefined && p !== undefined) it.previousItemId = p;
          anchorDraft(it);
        },
      };
    }
    return { tag: 'ended', note: 'response_discarded' };
  }
  if (item === undefined) {
    // O8
    const fresh = newItem(role, { previousItemId: p, responseId: role === 'assistant' ? r : undefined, anchor: false });
    return { tag: 'continue', item: fresh, mutate: createItem(i, fresh) };
  }
  // O9: fill-once.
  const fillPredecessor = p !== undefined && item.previousItemId === undefined && !item.materialized;
  const fillResponse = r !== undefined && item.responseId === undefined && !item.materialized;
  if (!fillPredecessor && !fillResponse) return { tag: 'continue', item };
  return {
    tag: 'continue',
    item,
    mutate: (d) => {
      const it = draftItem(d, i);
      if (fillPredecessor) it.previousItemId = p;
      if (fillResponse) it.responseId = r;
    },
  };
};

/** Runs an observe outcome that did not continue. */
const settle = (state: RealtimeState, o: Exclude<Observed, { tag: 'continue' }>): Step =>
  o.tag === 'refused' ? result(state, [o.note]) : result(apply(state, o.mutate), [o.note]);

// ---------------------------------------------------------------------------

const stepItemObserved = (state: RealtimeState, e: RealtimeEventOf<'item_observed'>): Step => {
  const r = e.role === 'assistant' ? normalizeId(e.responseId) : undefined; // 3.1: ignored on a user item
  const o = observe(state, normalizeId(e.itemId), normalizeId(e.previousItemId), e.role, r);
  return o.tag === 'continue' ? result(apply(state, o.mutate)) : settle(state, o);
};

const stepItemSkipped = (state: RealtimeState, e: RealtimeEventOf<'item_skipped'>): Step => {
  const i = normalizeId(e.itemId);
  const p = normalizeId(e.previousItemId);
  if (i === undefined) return result(state, ['invalid_item_id']); // S1
  if (p !== undefined && p === i) return result(state, ['causal_cycle']); // S2
  const item = own(state.items, i);
  if (item?.materialized === true) return result(state, ['item_materialized']); // S3
  if (item?.skipped === true) return result(state, ['item_skipped']); // S4
  const setsPredecessor = item === undefined || item.previousItemId === undefined;
  if (setsPredecessor && p !== undefined && reaches(state, p, i)) return result(state, ['causal_cycle']); // S5
  if (item === undefined) return result(apply(state, createItem(i, newItem('assistant', { previousItemId: p, anchor: true })))); // S6
  return result(
    apply(state, (d) => {
      // S7
      const it = draftItem(d, i);
      anchorDraft(it);
      if (it.previousItemId === undefined && p !== undefined) it.previousItemId = p;
    }),
  );
};

const stepUserFinal = (state: RealtimeState, e: RealtimeEventOf<'user_transcript_final'>): Step => {
  const i = normalizeId(e.itemId);
  const o = observe(state, i, normalizeId(e.previousItemId), 'user', undefined);
  if (o.tag !== 'continue') return settle(state, o);
  const id = i as string;
  const item = o.item;
  if (item.materialized) return result(apply(state, o.mutate), ['item_materialized']); // U1
  const ci = String(e.contentIndex);
  const setReady: Mutation = (d) => {
    draftItem(d, id).ready = true;
  };
  if (isBlank(e.text)) return result(apply(state, o.mutate, setReady)); // U2
  const seg = own(item.segments, ci);
  if (seg !== undefined && !isBlank(seg)) {
    if (seg === e.text) return result(apply(state, o.mutate, setReady)); // U3
    return result(apply(state, o.mutate, setReady), ['user_text_kept']); // U4
  }
  return result(
    apply(state, o.mutate, (d) => {
      // U5
      const it = draftItem(d, id);
      it.segments[ci] = e.text;
      it.ready = true;
    }),
  );
};

const laneOf = (type: 'assistant_text_delta' | 'assistant_transcript_delta'): Lane => (type === 'assistant_text_delta' ? 'display' : 'spoken');

const stepDelta = (state: RealtimeState, e: RealtimeEventOf<'assistant_text_delta' | 'assistant_transcript_delta'>): Step => {
  const r = normalizeId(e.responseId);
  const i = normalizeId(e.itemId);
  const deltaId = normalizeId(e.deltaId);
  if (r === undefined) return result(state, ['invalid_response_id']); // D1
  if (i === undefined) return result(state, ['invalid_item_id']); // D2
  if (deltaId !== undefined && sortedHas(state.seenDeltaIds, deltaId)) return result(state, ['duplicate_delta']); // D3
  const o = observe(state, i, normalizeId(e.previousItemId), 'assistant', r);
  if (o.tag !== 'continue') return settle(state, o);
  const item = o.item;
  const lane = laneOf(e.type);
  if (item.materialized) return result(state, ['item_materialized']); // D4
  if (hasContent(item) && item.lane !== lane) return result(state, ['lane_conflict']); // D5
  const ci = String(e.contentIndex);
  const completed = own(state.completions, r) !== undefined;
  return result(
    apply(state, o.mutate, (d) => {
      // D6
      const it = draftItem(d, i);
      it.segments[ci] = (own(it.segments, ci) ?? '') + e.delta;
      it.lane = lane;
      if (deltaId !== undefined) d.seenDeltaIds = sortedInsert(state.seenDeltaIds, deltaId) as string[];
      if (completed && hasContent(it)) it.ready = true;
    }),
  );
};

const stepReplacement = (state: RealtimeState, e: RealtimeEventOf<'assistant_transcript_truncated' | 'assistant_transcript_final_text'>): Step => {
  const r = normalizeId(e.responseId);
  const i = normalizeId(e.itemId);
  if (r === undefined) return result(state, ['invalid_response_id']); // T1
  if (i === undefined) return result(state, ['invalid_item_id']); // T2
  const o = observe(state, i, undefined, 'assistant', r);
  if (o.tag !== 'continue') return settle(state, o);
  const item = o.item;
  if (item.materialized) return result(state, ['item_materialized']); // T3
  if (hasContent(item) && item.lane === 'display') return result(state, ['lane_conflict']); // T4
  const ci = String(e.contentIndex);
  const completed = own(state.completions, r) !== undefined;
  return result(
    apply(state, o.mutate, (d) => {
      // T5
      const it = draftItem(d, i);
      it.segments[ci] = e.text;
      it.lane = 'spoken';
      if (completed && hasContent(it)) it.ready = true;
    }),
  );
};

const stepCompleted = (state: RealtimeState, e: RealtimeEventOf<'assistant_turn_completed'>): Step => {
  const r = normalizeId(e.responseId);
  if (r === undefined) return result(state, ['invalid_response_id']); // C1
  if (isDiscarded(state, r)) return result(state, ['response_discarded']); // C2
  const bound = boundItems(state, r);
  const open = bound.filter((id) => own(state.items, id)?.materialized === false);
  if (e.stopReason === 'cancelled') {
    // C3: discard R; completions untouched.
    return result(
      apply(state, (d) => {
        for (const id of open) anchorDraft(draftItem(d, id));
        d.discardedResponseIds = sortedInsert(state.discardedResponseIds, r) as string[];
      }),
    );
  }
  const completion = own(state.completions, r);
  if (e.stopReason === 'tool_use') {
    if (completion?.usageConsumed === true) return result(state, ['completion_consumed']); // C4
    // C5: withdraw an unconsumed completion; un-ready the open items.
    return result(
      apply(state, (d) => {
        if (completion !== undefined) delete d.completions[r];
        for (const id of open) {
          const it = draftItem(d, id);
          if (!it.skipped) it.ready = false;
        }
      }),
    );
  }
  if (completion !== undefined) return result(state, ['completion_exists']); // C6
  return result(
    apply(state, (d) => {
      // C7
      d.completions[r] = e.usage === undefined ? { stopReason: e.stopReason, usageConsumed: false } : { stopReason: e.stopReason, usage: e.usage, usageConsumed: false };
      for (const id of open) {
        const it = draftItem(d, id);
        if (!it.skipped && hasContent(it)) it.ready = true;
      }
    }),
  );
};

const stepInterrupted = (state: RealtimeState, e: RealtimeEventOf<'assistant_turn_interrupted'>): Step => {
  const r = normalizeId(e.responseId);
  if (r === undefined) return result(state, ['invalid_response_id']); // I1
  if (isDiscarded(state, r)) return result(state, ['response_discarded']); // I2
  const open = boundItems(state, r).filter((id) => own(state.items, id)?.materialized === false);
  return result(
    apply(state, (d) => {
      // I3: screen text stays, cut-off speech and empty items go.
      for (const id of open) {
        const it = draftItem(d, id);
        if (!it.skipped && it.lane === 'display' && hasContent(it)) it.ready = true;
        else anchorDraft(it);
      }
      d.discardedResponseIds = sortedInsert(state.discardedResponseIds, r) as string[];
      if (own(state.completions, r) === undefined) d.completions[r] = { stopReason: 'cancelled', usageConsumed: false };
    }),
  );
};

/**
 * Reduces one realtime event (realtime.md §3). Pure and total: refusals and
 * no-ops are notes, never errors; the input state object is returned whenever
 * nothing changed. `ctx` is accepted for the shared reducer shape; the machine
 * stores no time.
 */
export const stepRealtime = (state: RealtimeState, event: RealtimeTranscriptEvent, _ctx?: StepContext): Step => {
  const safe = withNullProtoDicts(state);
  const r = stepSafe(safe, event);
  return r.state === safe ? result(state, r.result) : r;
};

const stepSafe = (state: RealtimeState, event: RealtimeTranscriptEvent): Step => {
  switch (event.type) {
    case 'item_observed':
      return stepItemObserved(state, event);
    case 'item_skipped':
      return stepItemSkipped(state, event);
    case 'user_transcript_final':
      return stepUserFinal(state, event);
    case 'assistant_text_delta':
    case 'assistant_transcript_delta':
      return stepDelta(state, event);
    case 'assistant_transcript_truncated':
    case 'assistant_transcript_final_text':
      return stepReplacement(state, event);
    case 'assistant_turn_completed':
      return stepCompleted(state, event);
    case 'assistant_turn_interrupted':
      return stepInterrupted(state, event);
  }
};
