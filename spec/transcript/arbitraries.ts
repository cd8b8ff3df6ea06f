/**
 * Arbitraries for rewrite properties: the transcript-with-rewrite arbitraries of
 * `palimpsest/testing`, and sequences of session-like operations (spec only).
 */
import fc from 'fast-check';
import type { Message } from '../../src/model/index.ts';
import { arbTurn } from '../arbitraries/messages.ts';

export { arbRewriteOf, arbTranscriptWithRewrite, type TranscriptWithRewrite } from '../../src/testing/arbitraries/rewrite.ts';

/** One step of a session-like history: append turns, or rewrite on turn boundaries. */
export type Op =
  | { readonly kind: 'append'; readonly turns: Message[][] }
  | { readonly kind: 'rewrite'; readonly a: number; readonly b: number; readonly turns: Message[][] };

/** A list of operations (indices `a`, `b` are turn positions, taken modulo the turn count when applied). */
export const arbOps = (maxOps = 6): fc.Arbitrary<Op[]> =>
  fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant('append' as const), turns: fc.array(arbTurn, { minLength: 1, maxLength: 2 }) }),
      fc.record({ kind: fc.constant('rewrite' as const), a: fc.nat(), b: fc.nat(), turns: fc.array(arbTurn, { maxLength: 2 }) }),
    ),
    { maxLength: maxOps },
  );
