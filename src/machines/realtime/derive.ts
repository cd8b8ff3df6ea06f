/**
 * Derived quantities of the realtime state (realtime.md §2) and small helpers
 * shared by the step, the materializer and the validator.
 */
import type { RealtimeItem, RealtimeState } from './codecs.ts';

/** `rec[key]` when `key` is an own property, else `undefined` (safe for `__proto__`, `constructor`, ...). */
export const own = <A>(rec: Readonly<Record<string, A>>, key: string): A | undefined =>
  Object.prototype.hasOwnProperty.call(rec, key) ? rec[key] : undefined;

/** Whether `key` is an own property of `rec`. */
export const hasOwn = (rec: object, key: string): boolean => Object.prototype.hasOwnProperty.call(rec, key);

/** The segment keys of a segment map in ascending numeric order ("2", "9", "10"). */
export const segmentKeys = (segments: Readonly<Record<string, string>>): string[] =>
  Object.keys(segments).sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));

/**
 * `text(item)`: the segment values joined in ascending numeric key order
 * ("10" comes after "9"). Texts are never trimmed.
 */
export const realtimeItemText = (item: Pick<RealtimeItem, 'segments'>): string => {
  const keys = segmentKeys(item.segments);
  let out = '';
  for (const k of keys) out += item.segments[k] ?? '';
  return out;
};

/** Whether a string has a non-whitespace character (whitespace as `String.prototype.trim` defines it). */
export const isBlank = (s: string): boolean => s.trim() === '';

/** `hasContent(item)`: its text has a non-whitespace character. */
export const hasContent = (item: Pick<RealtimeItem, 'segments'>): boolean => {
  for (const k in item.segments) {
    if (hasOwn(item.segments, k) && !isBlank(item.segments[k] ?? '')) return true;
  }
  return false;
};

/** Whether an item has any segment at all (anchors have none). */
export const hasSegments = (item: Pick<RealtimeItem, 'segments'>): boolean => {
  for (const k in item.segments) if (hasOwn(item.segments, k)) return true;
  return false;
};

/** `predDone(item)`: no predecessor, or the predecessor is a known, materialized item. */
export const predDone = (state: RealtimeState, item: RealtimeItem): boolean => {
  if (item.previousItemId === undefined) return true;
  return own(state.items, item.previousItemId)?.materialized === true;
};

/** Index of `v` in the ascending array `arr`, or `-(insertion point) - 1` when absent. */
export const binarySearch = (arr: readonly string[], v: string): number => {
  let lo = 0;
  let hi = arr.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const m = arr[mid] as string;
    if (m < v) lo = mid + 1;
    else if (m > v) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
};

/** Whether the ascending array `arr` holds `v`. */
export const sortedHas = (arr: readonly string[], v: string): boolean => binarySearch(arr, v) >= 0;

/** `arr` with `v` inserted in order (a new array), or `arr` itself when `v` is already there. */
export const sortedInsert = (arr: readonly string[], v: string): readonly string[] => {
  const i = binarySearch(arr, v);
  if (i >= 0) return arr;
  const at = -i - 1;
  const out = arr.slice(0, at);
  out.push(v);
  for (let j = at; j < arr.length; j++) out.push(arr[j] as string);
  return out;
};

/** Whether response `r` is discarded. */
export const isDiscarded = (state: RealtimeState, r: string): boolean => sortedHas(state.discardedResponseIds, r);

/** `bound(R)`: the ids of the assistant items whose `responseId` is `r`, in first-seen order. */
export const boundItems = (state: RealtimeState, r: string): string[] => {
  const out: string[] = [];
  for (const id of state.firstSeenOrder) {
    const item = own(state.items, id);
    if (item !== undefined && item.role === 'assistant' && item.responseId === r) out.push(id);
  }
  return out;
};

/** Trims an id; empty after trimming means absent (realtime.md §3.1). */
export const normalizeId = (s: string | undefined): string | undefined => {
  if (s === undefined) return undefined;
  const trimmed = s.trim();
  return trimmed === '' ? undefined : trimmed;
};
