/**
 * The normative loops of realtime.md §4.1 and §4.3, written literally. They are
 * quadratic on adversarial inputs and exist only so that property specs can
 * compare the efficient `causalOrder` and `materializeRealtime` with them.
 */
import type { StepContext } from '../../src/machines/common.ts';
import type { AssistantBlock } from '../../src/model/content.ts';
import type { Message } from '../../src/model/message.ts';
import { addUsage, type Usage } from '../../src/model/usage.ts';
import { emptyDict, type RealtimeCompletion, type RealtimeItem, type RealtimeMaterializedMessage, type RealtimeState } from '../../src/machines/realtime/codecs.ts';
import { hasContent, own, realtimeItemText } from '../../src/machines/realtime/derive.ts';
import { assistantMessageOf, blockOf, userMessageOf, type RealtimeMaterialization } from '../../src/machines/realtime/materialize.ts';

/** Reference causal order (realtime.md §4.1): repeated sweeps over `firstSeenOrder`. */
export const referenceOrder = (state: RealtimeState): string[] => {
  const out: string[] = [];
  const emitted = new Set<string>();
  for (;;) {
    let progressed = false;
    for (const id of state.firstSeenOrder) {
      if (emitted.has(id)) continue;
      const item = own(state.items, id);
      if (item === undefined) continue; // invalid state only
      const p = item.previousItemId;
      if (p !== undefined && !emitted.has(p)) continue; // an unknown p is never emitted
      emitted.add(id);
      out.push(id);
      progressed = true;
    }
    if (!progressed) break;
  }
  return out;
};

const cloneState = (s: RealtimeState): RealtimeState => {
  const items = emptyDict<RealtimeItem>();
  for (const k of Object.keys(s.items)) {
    const it = s.items[k] as RealtimeItem;
    const segments = emptyDict<string>();
    for (const sk of Object.keys(it.segments)) segments[sk] = it.segments[sk] as string;
    items[k] = { ...it, segments };
  }
  const completions = emptyDict<RealtimeCompletion>();
  for (const k of Object.keys(s.completions)) completions[k] = { ...(s.completions[k] as RealtimeCompletion) };
  return {
    items,
    firstSeenOrder: [...s.firstSeenOrder],
    seenDeltaIds: [...s.seenDeltaIds],
    completions,
    discardedResponseIds: [...s.discardedResponseIds],
  };
};

type Verdict = 'wait' | 'pass' | 'user' | 'assistant';

const verdictOf = (state: RealtimeState, item: RealtimeItem): Verdict => {
  if (item.materialized) return 'wait'; // V1
  if (item.previousItemId !== undefined && own(state.items, item.previousItemId)?.materialized !== true) return 'wait'; // V2
  if (item.skipped) return 'pass'; // V3
  if (!item.ready || !hasContent(item)) return 'wait'; // V4
  if (item.role === 'user') return 'user'; // V5
  if (item.responseId !== undefined && own(state.completions, item.responseId) !== undefined) return 'assistant'; // V6
  return 'wait'; // V7
};

/**
 * Reference materializer (realtime.md §4.3): rounds with verdicts computed at
 * round start, passes marked first, takes in order, usage decided at take time.
 * Works on a copy; returns the input state object when nothing happened.
 */
export const referenceMaterialize = (input: RealtimeState, ctx: Pick<StepContext, 'at'>): RealtimeMaterialization => {
  const state = cloneState(input);
  const order = referenceOrder(state);
  const items: string[] = [];
  const messages: Message[] = [];
  const materialized: RealtimeMaterializedMessage[] = [];
  let usage: Usage | undefined;
  let changed = false;
  let pending: { responseId: string; blocks: AssistantBlock[]; stopReason: RealtimeCompletion['stopReason']; usage?: Usage } | undefined;
  const flush = (): void => {
    if (pending === undefined) return;
    messages.push(assistantMessageOf(pending.blocks, pending.stopReason, pending.usage, ctx.at));
    pending = undefined;
  };
  for (;;) {
    const verdicts = order.map((id) => [id, verdictOf(state, own(state.items, id) as RealtimeItem)] as const);
    const passes = verdicts.filter(([, v]) => v === 'pass');
    const takes = verdicts.filter(([, v]) => v === 'user' || v === 'assistant');
    if (passes.length === 0 && takes.length === 0) break;
    changed = true;
    for (const [id] of passes) (own(state.items, id) as RealtimeItem).materialized = true;
    for (const [id, v] of takes) {
      const item = own(state.items, id) as RealtimeItem;
      item.materialized = true;
      items.push(id);
      const text = realtimeItemText(item);
      if (v === 'user') {
        flush();
        messages.push(userMessageOf(text, ctx.at));
        materialized.push({ role: 'user', itemId: id, text });
        continue;
      }
      const r = item.responseId as string;
      if (pending !== undefined && pending.responseId !== r) flush();
      const c = own(state.completions, r) as RealtimeCompletion;
      const consumes = !c.usageConsumed;
      c.usageConsumed = true;
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
  }
  flush();
  const out = changed ? state : input;
  return usage === undefined ? { state: out, items, messages, materialized } : { state: out, items, messages, usage, materialized };
};
