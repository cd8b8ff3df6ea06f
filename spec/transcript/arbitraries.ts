/**
 * Arbitraries for rewrite properties: a shape-valid transcript with a valid
 * rewrite of it (cut at turn boundaries, replaced by other turns, so the result
 * is shape-valid too), and sequences of session-like operations.
 */
import fc from 'fast-check';
import type { Message, MessageInput } from '../../src/model/index.ts';
import { arbTurn, arbTurns } from '../arbitraries/messages.ts';

/** A transcript (as turns and flattened) with a valid rewrite request's parts. */
export interface TranscriptWithRewrite {
  readonly messages: Message[];
  readonly start: number;
  readonly end: number;
  readonly replacement: MessageInput[];
}

const messageIndexOfTurn = (turns: readonly Message[][], k: number): number => turns.slice(0, k).reduce((n, t) => n + t.length, 0);

/** Drops `createdAt` from some messages (they are stamped with the record time). */
const someUnstamped = (ms: readonly Message[], drops: readonly boolean[]): MessageInput[] =>
  ms.map((m, i) => {
    if (!drops[i]) return m;
    const { createdAt: _c, ...rest } = m;
    return rest as MessageInput;
  });

/** A span `[start, end)` on turn boundaries of `turns`, replaced by 0..3 other turns. */
export const arbRewriteOf = (turns: readonly Message[][]): fc.Arbitrary<{ start: number; end: number; replacement: MessageInput[] }> =>
  fc
    .record({
      a: fc.nat({ max: turns.length }),
      b: fc.nat({ max: turns.length }),
      repl: fc.array(arbTurn, { maxLength: 3 }),
      drops: fc.array(fc.boolean(), { maxLength: 8 }),
      // sometimes re-insert the span itself (a no-op) or part of it
      reuse: fc.oneof({ weight: 6, arbitrary: fc.constant('fresh') }, fc.constant('same'), fc.constant('keep_first')),
    })
    .map(({ a, b, repl, drops, reuse }) => {
      const [s, e] = a <= b ? [a, b] : [b, a];
      const span = turns.slice(s, e);
      const chosen = reuse === 'same' ? span : reuse === 'keep_first' ? [...span.slice(0, 1), ...repl] : repl;
      return { start: messageIndexOfTurn(turns, s), end: messageIndexOfTurn(turns, e), replacement: someUnstamped(chosen.flat(), drops) };
    });

/** A shape-valid transcript of up to `maxTurns` turns with a valid rewrite of it. */
export const arbTranscriptWithRewrite = (maxTurns = 12): fc.Arbitrary<TranscriptWithRewrite> =>
  arbTurns({ maxTurns }).chain((turns) => arbRewriteOf(turns).map((r) => ({ messages: turns.flat(), ...r })));

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
