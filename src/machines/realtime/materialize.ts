/**
 * The materializer (realtime.md §4): causal order, verdicts, rounds, grouping,
 * take-time usage consumption.
 *
 * Efficient forms of the normative loops (compared with them by property specs,
 * see `test/support/realtimeReference.ts`):
 *
 * - order: `sweep(id) = 1` without a predecessor, else `sweep(p) + (index(p) >
 *   index(id) ? 1 : 0)`, undefined when `p` is unknown or undefined; the order is
 *   the defined items sorted by `(sweep, index)`. Computed iteratively (explicit
 *   stack, memoized), so a 4,096-item chain costs O(n) plus the sort.
 * - pass: verdicts V3 to V7 do not change during a pass, so `round(i) = 1` when
 *   `predDone` held at pass start, else `round(predecessor) + 1` when the
 *   predecessor is itself in the pass; the pass is those items sorted by
 *   `(round, sweep, index)`, processed once.
 */
import { produce } from 'immer';
import type { StepContext } from '../common.ts';
import type { AssistantBlock } from '../../model/content.ts';
import type { Message } from '../../model/message.ts';
import { addUsage, type Usage } from '../../model/usage.ts';
import type { RealtimeCompletion, RealtimeItem, RealtimeMaterializedMessage, RealtimeState } from './codecs.ts';
import { withNullProtoDicts } from './dicts.ts';
import { hasContent, own, realtimeItemText } from './derive.ts';

/** What one materializer pass produced. */
export interface RealtimeMaterialization {
  /** The state after the pass (the input object when nothing was passed or taken). */
  readonly state: RealtimeState;
  /** The ids of the committed (taken) items, in commit order; passed anchors are not listed. */
  readonly items: string[];
  /** The grouped transcript messages, each stamped `createdAt = ctx.at`. */
  readonly messages: Message[];
  /** The usage the pass consumed (sum over the responses whose usage it consumed), if any. */
  readonly usage?: Usage;
  /** One entry per committed item, in commit order. */
  readonly materialized: RealtimeMaterializedMessage[];
}

const UNDEF = -1;
const PENDING = -2;

/** The first-seen index of every id (first occurrence). */
const indexOf = (state: RealtimeState): Map<string, number> => {
  const index = new Map<string, number>();
  state.firstSeenOrder.forEach((id, i) => {
    if (!index.has(id)) index.set(id, i);
  });
  return index;
};

/**
 * `sweep` of every position of `firstSeenOrder` (closed form of the reference
 * loop's sweep number); `-1` where undefined (unknown ancestor or a cycle).
 */
export const computeSweeps = (state: RealtimeState, index: Map<string, number> = indexOf(state)): Int32Array => {
  const ids = state.firstSeenOrder;
  const n = ids.length;
  const sweep = new Int32Array(n); // 0: not computed yet
  const predIndex = new Int32Array(n).fill(UNDEF);
  const stack: number[] = [];
  for (let start = 0; start < n; start++) {
    if (sweep[start] !== 0) continue;
    let cur = start;
    // Walk up until a computed position, a root or an unknown predecessor.
    for (;;) {
      if (sweep[cur] !== 0) break; // computed, or PENDING (a cycle)
      const id = ids[cur] as string;
      const item = index.get(id) === cur ? own(state.items, id) : undefined;
      if (item === undefined) {
        sweep[cur] = UNDEF; // missing item, or a duplicate position (invalid states only)
        break;
      }
      const p = item.previousItemId;
      if (p === undefined) {
        sweep[cur] = 1;
        break;
      }
      const pi = index.get(p);
      if (pi === undefined) {
        sweep[cur] = UNDEF;
        break;
      }
      predIndex[cur] = pi;
      sweep[cur] = PENDING;
      stack.push(cur);
      cur = pi;
    }
    while (stack.length > 0) {
      const c = stack.pop() as number;
      const pi = predIndex[c] as number;
      const ps = sweep[pi] as number;
      sweep[c] = ps < 1 ? UNDEF : ps + (pi > c ? 1 : 0);
    }
  }
  return sweep;
};

/**
 * The causal order (realtime.md §4.1) in O(n log n): the items whose ancestry
 * reaches no unknown id, sorted by `(sweep, index)`. Equal to `referenceOrder`.
 */
export const causalOrder = (state: RealtimeState): string[] => {
  const sweep = computeSweeps(state);
  const positions: number[] = [];
  for (let i = 0; i < sweep.length; i++) if ((sweep[i] as number) >= 1) positions.push(i);
  positions.sort((a, b) => (sweep[a] as number) - (sweep[b] as number) || a - b);
  return positions.map((i) => state.firstSeenOrder[i] as string);
};

const NOT = 0;
const PASS = 1;
const TAKE_USER = 2;
const TAKE_ASSISTANT = 3;

/** One entry of a pass, in processing order. */
export interface PassEntry {
  readonly id: string;
  readonly item: RealtimeItem;
  readonly verdict: 'pass' | 'user' | 'assistant';
}

/**
 * The items one pass passes or takes, in processing order `(round, sweep,
 * index)`. Verdicts are those of realtime.md §4.2 with `predDone` replaced by
 * rounds: round 1 when the predecessor was done at pass start, else one more
 * than the predecessor's round when the predecessor is in the pass.
 */
export const computePass = (state: RealtimeState): PassEntry[] => {
  const ids = state.firstSeenOrder;
  const n = ids.length;
  const index = indexOf(state);
  // Cheap exit: no unmaterialized item could pass or be taken.
  const verdict = new Int8Array(n);
  let any = false;
  for (let i = 0; i < n; i++) {
    const id = ids[i] as string;
    if (index.get(id) !== i) continue;
    const item = own(state.items, id);
    if (item === undefined || item.materialized) continue; // V1
    let v = NOT;
    if (item.skipped) v = PASS; // V3
    else if (!item.ready || !hasContent(item)) v = NOT; // V4
    else if (item.role === 'user') v = TAKE_USER; // V5
    else if (item.responseId !== undefined && own(state.completions, item.responseId) !== undefined) v = TAKE_ASSISTANT; // V6
    verdict[i] = v; // V7: NOT
    if (v !== NOT) any = true;
  }
  if (!any) return [];
  const sweep = computeSweeps(state, index);
  // Rounds (V2 by induction): 0 not computed, -1 never in this pass.
  const round = new Int32Array(n);
  const stack: number[] = [];
  const predIdx = new Int32Array(n).fill(UNDEF);
  for (let start = 0; start < n; start++) {
    if (verdict[start] === NOT || round[start] !== 0) continue;
    let cur = start;
    for (;;) {
      if (round[cur] !== 0) break;
      if (verdict[cur] === NOT || (sweep[cur] as number) < 1) {
        round[cur] = UNDEF;
        break;
      }
      const item = own(state.items, ids[cur] as string) as RealtimeItem;
      const p = item.previousItemId;
      const pItem = p === undefined ? undefined : own(state.items, p);
      if (p === undefined || pItem?.materialized === true) {
        round[cur] = 1; // predDone at pass start
        break;
      }
      const pi = index.get(p);
      if (pi === undefined) {
        round[cur] = UNDEF;
        break;
      }
      predIdx[cur] = pi;
      round[cur] = PENDING;
      stack.push(cur);
      cur = pi;
    }
    while (stack.length > 0) {
      const c = stack.pop() as number;
      const pr = round[predIdx[c] as number] as number;
      round[c] = pr < 1 ? UNDEF : pr + 1;
    }
  }
  const positions: number[] = [];
  for (let i = 0; i < n; i++) if ((round[i] as number) >= 1 && verdict[i] !== NOT) positions.push(i);
  positions.sort((a, b) => (round[a] as number) - (round[b] as number) || (sweep[a] as number) - (sweep[b] as number) || a - b);
  return positions.map((i) => {
    const id = ids[i] as string;
    const v = verdict[i];
    return { id, item: own(state.items, id) as RealtimeItem, verdict: v === PASS ? 'pass' : v === TAKE_USER ? 'user' : 'assistant' };
  });
};

/** The assistant block of a taken item: `text` for lane display, `transcript` (spoken) for lane spoken. */
export const blockOf = (item: RealtimeItem, text: string): AssistantBlock =>
  item.lane === 'spoken' ? { type: 'transcript', text, source: 'spoken' } : { type: 'text', text };

/** Builds the user message of a take. */
export const userMessageOf = (text: string, at: number): Message => ({
  role: 'user',
  content: [{ type: 'text', text }],
  transcriptRole: 'conversational',
  createdAt: at,
});

/** Builds the assistant message of a group. */
export const assistantMessageOf = (blocks: AssistantBlock[], stopReason: RealtimeCompletion['stopReason'], usage: Usage | undefined, at: number): Message =>
  usage === undefined ? { role: 'assistant', content: blocks, stopReason, createdAt: at } : { role: 'assistant', content: blocks, stopReason, usage, createdAt: at };

/**
 * Runs one materializer pass (realtime.md §4) in O(n log n): passes anchors,
 * takes ready items in causal order over as many rounds as one pass needs,
 * groups consecutive takes of one response into one assistant message, and
 * consumes each response's usage at its first take anywhere (once).
 */
export const materializeRealtime = (input: RealtimeState, ctx: Pick<StepContext, 'at'>): RealtimeMaterialization => {
  const state = withNullProtoDicts(input);
  const entries = computePass(state);
  if (entries.length === 0) return { state: input, items: [], messages: [], materialized: [] };

  const items: string[] = [];
  const messages: Message[] = [];
  const materialized: RealtimeMaterializedMessage[] = [];
  const consumedNow = new Set<string>();
  let usage: Usage | undefined;
  let pending: { responseId: string; blocks: AssistantBlock[]; stopReason: RealtimeCompletion['stopReason']; usage?: Usage } | undefined;
  const flush = (): void => {
    if (pending === undefined) return;
    messages.push(assistantMessageOf(pending.blocks, pending.stopReason, pending.usage, ctx.at));
    pending = undefined;
  };

  for (const { id, item, verdict } of entries) {
    if (verdict === 'pass') continue;
    items.push(id);
    const text = realtimeItemText(item);
    if (verdict === 'user') {
      flush();
      messages.push(userMessageOf(text, ctx.at));
      materialized.push({ role: 'user', itemId: id, text });
      continue;
    }
    const r = item.responseId as string;
    const c = own(state.completions, r) as RealtimeCompletion;
    if (pending !== undefined && pending.responseId !== r) flush();
    const consumes = !c.usageConsumed && !consumedNow.has(r);
    consumedNow.add(r);
    const itemUsage = consumes ? c.usage : undefined;
    if (itemUsage !== undefined) usage = usage === undefined ? itemUsage : addUsage(usage, itemUsage);
    if (pending === undefined) {
      pending = itemUsage === undefined ? { responseId: r, blocks: [], stopReason: c.stopReason } : { responseId: r, blocks: [], stopReason: c.stopReason, usage: itemUsage };
    }
    pending.blocks.push(blockOf(item, text));
    materialized.push(
      itemUsage === undefined
        ? { role: 'assistant', itemId: id, responseId: r, text, lane: item.lane, stopReason: c.stopReason }
        : { role: 'assistant', itemId: id, responseId: r, text, lane: item.lane, stopReason: c.stopReason, usage: itemUsage },
    );
  }
  flush();

  const next = produce(state, (d) => {
    for (const { id } of entries) {
      const it = d.items[id];
      if (it !== undefined) it.materialized = true;
    }
    for (const r of consumedNow) {
      const c = d.completions[r];
      if (c !== undefined) c.usageConsumed = true;
    }
  });
  return usage === undefined ? { state: next, items, messages, materialized } : { state: next, items, messages, usage, materialized };
};
