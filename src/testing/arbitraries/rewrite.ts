/**
 * fast-check arbitraries for rewrite requests (revisions.md §3): a span on turn
 * boundaries of a shape-valid transcript replaced by other turns, so the result
 * is shape-valid too (it may be a no-op: the span re-inserted as it was).
 */
import fc from 'fast-check';
import type { Message, MessageInput } from '../../model/index.ts';
import type { TranscriptRewriteRequest } from '../../transcript/index.ts';
import { arbTurn, arbTurns } from './transcript.ts';

/** The parts of a valid rewrite of a transcript: replace messages `[start, end)` by `replacement`. */
export interface RewriteParts {
  readonly start: number;
  readonly end: number;
  readonly replacement: MessageInput[];
}

/** A shape-valid transcript with the parts of a valid rewrite of it. */
export interface TranscriptWithRewrite extends RewriteParts {
  readonly messages: Message[];
}

const messageIndexOfTurn = (turns: readonly Message[][], k: number): number => turns.slice(0, k).reduce((n, t) => n + t.length, 0);

/** Drops `createdAt` from the messages picked by `drops` (they are stamped with the record time). */
const someUnstamped = (ms: readonly Message[], drops: readonly boolean[]): MessageInput[] =>
  ms.map((m, i) => {
    if (!drops[i]) return m;
    const { createdAt: _c, ...rest } = m;
    return rest as MessageInput;
  });

/**
 * A span `[start, end)` (message indices) on turn boundaries of `turns`, replaced
 * by 0..3 other turns; one in eight re-inserts the span itself (a no-op) and one
 * in eight keeps its first turn.
 */
export const arbRewriteOf = (turns: readonly Message[][]): fc.Arbitrary<RewriteParts> =>
  fc
    .record({
      a: fc.nat({ max: turns.length }),
      b: fc.nat({ max: turns.length }),
      repl: fc.array(arbTurn, { maxLength: 3 }),
      drops: fc.array(fc.boolean(), { maxLength: 8 }),
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

/** A transcript with a full `TranscriptRewriteRequest` of it (reason kind from `kinds`, default `compaction`). */
export const arbRewriteRequest = (
  maxTurns = 12,
  kinds: readonly string[] = ['compaction'],
): fc.Arbitrary<{ readonly messages: Message[]; readonly request: TranscriptRewriteRequest }> =>
  fc.tuple(arbTranscriptWithRewrite(maxTurns), fc.constantFrom(...kinds)).map(([{ messages, start, end, replacement }, kind]) => ({
    messages,
    request: { selection: { type: 'message_range', start, end }, replacement, reason: { kind } },
  }));
