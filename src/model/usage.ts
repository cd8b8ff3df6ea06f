/**
 * Token usage (model.md §4).
 *
 * `inputTokens` counts every input token a call presented, cached or not; the cache
 * fields say how many of those were written to / read from the prompt cache, so
 * `(cacheCreationTokens ?? 0) + (cacheReadTokens ?? 0) <= inputTokens`.
 */
import type * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith, nat, refine, strict, type DecodeError } from './decode.ts';

const UsageShape = strict('Usage', { inputTokens: nat, outputTokens: nat }, { cacheCreationTokens: nat, cacheReadTokens: nat });

/** Token usage of one call or a running total (all counts in tokens). */
export const UsageCodec = refine(UsageShape, 'Usage', (u) =>
  (u.cacheCreationTokens ?? 0) + (u.cacheReadTokens ?? 0) <= u.inputTokens
    ? undefined
    : `cache tokens (${(u.cacheCreationTokens ?? 0) + (u.cacheReadTokens ?? 0)}) exceed inputTokens (${u.inputTokens})`,
);
/** Token usage: `{ inputTokens, outputTokens, cacheCreationTokens?, cacheReadTokens? }`. */
export type Usage = t.TypeOf<typeof UsageCodec>;

/** `{ inputTokens: 0, outputTokens: 0 }`, the identity of `addUsage`. */
export const emptyUsage: Usage = Object.freeze({ inputTokens: 0, outputTokens: 0 });

/**
 * Field-wise sum; a cache field is present iff present in `a` or `b` (absent counts
 * as 0). Associative and commutative. The sum may exceed `Number.MAX_SAFE_INTEGER`;
 * `checkedAddUsage` refuses that.
 */
export const addUsage = (a: Usage, b: Usage): Usage => {
  const out: Usage = { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens };
  if (a.cacheCreationTokens !== undefined || b.cacheCreationTokens !== undefined) {
    out.cacheCreationTokens = (a.cacheCreationTokens ?? 0) + (b.cacheCreationTokens ?? 0);
  }
  if (a.cacheReadTokens !== undefined || b.cacheReadTokens !== undefined) {
    out.cacheReadTokens = (a.cacheReadTokens ?? 0) + (b.cacheReadTokens ?? 0);
  }
  return out;
};

/** `addUsage` whose result is decoded again: `Left` when a sum leaves the safe-integer range. */
export const checkedAddUsage = (a: Usage, b: Usage): E.Either<DecodeError, Usage> => decodeWith(UsageCodec, addUsage(a, b));

/** `inputTokens + outputTokens` (cache tokens are already inside `inputTokens`). */
export const totalTokens = (u: Usage): number => u.inputTokens + u.outputTokens;

/** Whether every count is zero (such usage is inert when recorded). */
export const isZeroUsage = (u: Usage): boolean =>
  u.inputTokens === 0 && u.outputTokens === 0 && (u.cacheCreationTokens ?? 0) === 0 && (u.cacheReadTokens ?? 0) === 0;
