/**
 * Restore validation (realtime.md §5): strict decode, then every rule in the
 * spec's order, failing closed at the first broken one with
 * `MachineStateInvalid { machine: 'realtime', reason }` whose reason starts with
 * the rule id and names the item or response. Nothing is repaired. All checks
 * together are linear in the size of the state (plus hashing); `acyclic` is
 * Kahn's algorithm.
 */
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith } from '../../model/decode.ts';
import { machineStateInvalid, stateDecodeFailed, type MachineStateInvalid } from '../common.ts';
import { MAX_CONTENT_INDEX, RealtimeStateCodec, emptyDict, type RealtimeCompletion, type RealtimeItem, type RealtimeState } from './codecs.ts';
import { hasContent, hasSegments, own } from './derive.ts';

/** The restore rules, in the order they are checked. */
export const REALTIME_RESTORE_RULES = [
  'order_permutation',
  'ids_normalized',
  'sets_sorted',
  'segment_keys',
  'no_self_predecessor',
  'materialized_predecessor_known',
  'materialized_ancestry',
  'acyclic',
  'user_items',
  'anchors',
  'materialized_eligible',
  'assistant_bound',
  'ready_has_completion',
  'committed_consumed',
  'completed_content_ready',
  'discarded_items',
  'completions_valid',
] as const;
/** A restore rule id. */
export type RealtimeRestoreRule = (typeof REALTIME_RESTORE_RULES)[number];

const q = (s: string): string => JSON.stringify(s);
const canonicalIndexRe = /^(?:0|[1-9][0-9]*)$/;
const isNormalized = (s: string): boolean => s !== '' && s.trim() === s;

type Violation = string | undefined;

/** Checks the rules on a decoded state; the first violation as `"<rule>: <detail>"`. */
export const realtimeStateViolation = (s: RealtimeState): Violation => {
  const order = s.firstSeenOrder;
  const itemKeys = Object.keys(s.items);
  const items: Array<[string, RealtimeItem]> = order.map((id) => [id, own(s.items, id) as RealtimeItem]);

  // order_permutation
  {
    const seen = new Set<string>();
    for (const id of order) {
      if (seen.has(id)) return `order_permutation: item ${q(id)} appears more than once in firstSeenOrder`;
      seen.add(id);
      if (own(s.items, id) === undefined) return `order_permutation: firstSeenOrder names ${q(id)}, which is not an item`;
    }
    for (const k of itemKeys) if (!seen.has(k)) return `order_permutation: item ${q(k)} is missing from firstSeenOrder`;
  }

  // ids_normalized
  for (const [id, it] of items) {
    if (!isNormalized(id)) return `ids_normalized: item id ${q(id)} is empty or not trimmed`;
    if (it.previousItemId !== undefined && !isNormalized(it.previousItemId)) {
      return `ids_normalized: item ${q(id)} has previousItemId ${q(it.previousItemId)}, empty or not trimmed`;
    }
    if (it.responseId !== undefined && !isNormalized(it.responseId)) return `ids_normalized: item ${q(id)} has responseId ${q(it.responseId)}, empty or not trimmed`;
  }
  for (const d of s.seenDeltaIds) if (!isNormalized(d)) return `ids_normalized: delta id ${q(d)} is empty or not trimmed`;
  for (const r of Object.keys(s.completions)) if (!isNormalized(r)) return `ids_normalized: completion key ${q(r)} is empty or not trimmed`;
  for (const r of s.discardedResponseIds) if (!isNormalized(r)) return `ids_normalized: discarded response id ${q(r)} is empty or not trimmed`;

  // sets_sorted
  for (const [name, arr] of [
    ['seenDeltaIds', s.seenDeltaIds],
    ['discardedResponseIds', s.discardedResponseIds],
  ] as const) {
    for (let i = 1; i < arr.length; i++) {
      const a = arr[i - 1] as string;
      const b = arr[i] as string;
      if (!(a < b)) return `sets_sorted: ${name} is not strictly ascending at ${q(b)} (index ${i})`;
    }
  }

  // segment_keys
  for (const [id, it] of items) {
    for (const k of Object.keys(it.segments)) {
      if (!canonicalIndexRe.test(k) || Number(k) > MAX_CONTENT_INDEX) return `segment_keys: item ${q(id)} has segment key ${q(k)}, not a canonical content index`;
    }
  }

  // no_self_predecessor
  for (const [id, it] of items) if (it.previousItemId === id) return `no_self_predecessor: item ${q(id)} is its own predecessor`;

  // materialized_predecessor_known (an unmaterialized item may wait on an unknown id)
  for (const [id, it] of items) {
    if (it.materialized && it.previousItemId !== undefined && own(s.items, it.previousItemId) === undefined) {
      return `materialized_predecessor_known: materialized item ${q(id)} names unknown predecessor ${q(it.previousItemId)}`;
    }
  }

  // materialized_ancestry (immediate predecessor; induction does the rest)
  for (const [id, it] of items) {
    if (it.materialized && it.previousItemId !== undefined && own(s.items, it.previousItemId)?.materialized !== true) {
      return `materialized_ancestry: materialized item ${q(id)} has unmaterialized predecessor ${q(it.previousItemId)}`;
    }
  }

  // acyclic (Kahn): in-degree 1 when the predecessor is a known item.
  {
    const children = new Map<string, string[]>();
    const queue: string[] = [];
    for (const [id, it] of items) {
      const p = it.previousItemId;
      if (p !== undefined && own(s.items, p) !== undefined) {
        const list = children.get(p);
        if (list === undefined) children.set(p, [id]);
        else list.push(id);
      } else {
        queue.push(id);
      }
    }
    let count = 0;
    for (let head = 0; head < queue.length; head++) {
      count++;
      const kids = children.get(queue[head] as string);
      if (kids !== undefined) for (const k of kids) queue.push(k);
    }
    if (count !== items.length) {
      const released = new Set(queue);
      const stuck = order.find((id) => !released.has(id)) as string;
      return `acyclic: predecessor links form a cycle through item ${q(stuck)}`;
    }
  }

  // user_items
  for (const [id, it] of items) {
    if (it.role !== 'user') continue;
    if (it.responseId !== undefined) return `user_items: user item ${q(id)} has responseId ${q(it.responseId)}`;
    if (it.lane !== 'display') return `user_items: user item ${q(id)} has lane ${q(it.lane)}`;
  }

  // anchors
  for (const [id, it] of items) {
    if (!it.skipped) continue;
    if (!it.ready) return `anchors: skipped item ${q(id)} is not ready`;
    if (hasSegments(it)) return `anchors: skipped item ${q(id)} has segments`;
  }

  const content = new Map<string, boolean>();
  const contentOf = (id: string, it: RealtimeItem): boolean => {
    let c = content.get(id);
    if (c === undefined) {
      c = hasContent(it);
      content.set(id, c);
    }
    return c;
  };

  // materialized_eligible
  for (const [id, it] of items) {
    if (!it.materialized || it.skipped) continue;
    if (!it.ready) return `materialized_eligible: materialized item ${q(id)} is not ready`;
    if (!contentOf(id, it)) return `materialized_eligible: materialized item ${q(id)} has no content`;
  }

  // assistant_bound
  for (const [id, it] of items) {
    if (it.role !== 'assistant' || it.skipped || it.responseId !== undefined) continue;
    if (it.ready || it.materialized || contentOf(id, it)) return `assistant_bound: assistant item ${q(id)} is ready, materialized or has content but has no responseId`;
  }

  // ready_has_completion
  for (const [id, it] of items) {
    if (it.role !== 'assistant' || it.skipped || !it.ready) continue;
    const r = it.responseId as string;
    if (own(s.completions, r) === undefined) return `ready_has_completion: ready assistant item ${q(id)} has no completion for response ${q(r)}`;
  }

  // committed_consumed
  for (const [id, it] of items) {
    if (it.role !== 'assistant' || it.skipped || !it.materialized) continue;
    const r = it.responseId as string;
    const c = own(s.completions, r);
    if (c === undefined) return `committed_consumed: materialized item ${q(id)} has no completion for response ${q(r)}`;
    if (!c.usageConsumed) return `committed_consumed: materialized item ${q(id)}: completion of response ${q(r)} is not usageConsumed`;
  }

  // completed_content_ready
  for (const [id, it] of items) {
    if (it.role !== 'assistant' || it.skipped || it.materialized || it.ready) continue;
    if (it.responseId !== undefined && own(s.completions, it.responseId) !== undefined && contentOf(id, it)) {
      return `completed_content_ready: item ${q(id)} has content and response ${q(it.responseId)} has a completion, but it is not ready`;
    }
  }

  // discarded_items
  {
    const discarded = new Set(s.discardedResponseIds);
    for (const [id, it] of items) {
      if (it.role !== 'assistant' || it.responseId === undefined || !discarded.has(it.responseId)) continue;
      if (it.skipped || it.materialized) continue;
      if (it.lane === 'display' && contentOf(id, it) && it.ready) continue;
      return `discarded_items: item ${q(id)} of discarded response ${q(it.responseId)} is neither skipped, materialized, nor ready display text`;
    }
  }

  // completions_valid
  {
    const committed = new Set<string>();
    for (const [, it] of items) if (it.role === 'assistant' && it.materialized && !it.skipped && it.responseId !== undefined) committed.add(it.responseId);
    for (const r of Object.keys(s.completions)) {
      const c = s.completions[r] as RealtimeCompletion;
      if (c.stopReason === 'tool_use') return `completions_valid: completion of response ${q(r)} has stopReason "tool_use"`;
      if (c.usageConsumed && !committed.has(r)) return `completions_valid: completion of response ${q(r)} is usageConsumed but no item of it is committed`;
    }
  }
  return undefined;
};

/** A null-prototype deep copy of the id-keyed records (arrays shared). */
const toInternal = (s: RealtimeState): RealtimeState => {
  const items = emptyDict<RealtimeItem>();
  for (const k of Object.keys(s.items)) {
    const it = s.items[k] as RealtimeItem;
    const segments = emptyDict<string>();
    for (const sk of Object.keys(it.segments)) segments[sk] = it.segments[sk] as string;
    items[k] = { ...it, segments };
  }
  const completions = emptyDict<RealtimeCompletion>();
  for (const k of Object.keys(s.completions)) completions[k] = { ...(s.completions[k] as RealtimeCompletion) };
  return { items, firstSeenOrder: [...s.firstSeenOrder], seenDeltaIds: [...s.seenDeltaIds], completions, discardedResponseIds: [...s.discardedResponseIds] };
};

/**
 * Decodes and validates a stored realtime state (realtime.md §5): the strict
 * codec, then every rule in order; the first broken rule fails closed. The
 * result is a fresh copy whose id-keyed records have null prototypes.
 */
export const restoreRealtimeState = (u: unknown): E.Either<MachineStateInvalid, RealtimeState> => {
  const decoded = decodeWith(RealtimeStateCodec, u);
  if (E.isLeft(decoded)) return E.left(stateDecodeFailed('realtime', decoded.left));
  const violation = realtimeStateViolation(decoded.right);
  if (violation !== undefined) return E.left(machineStateInvalid('realtime', violation));
  return E.right(toInternal(decoded.right));
};
