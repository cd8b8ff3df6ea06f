/**
 * Shape rules (revisions.md §2) against the transcript arbitraries: generated
 * transcripts are valid, appends of valid pieces pass, and the kit's
 * independent pairing check agrees with `validateTranscriptShape` on arbitrary
 * message lists.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { decodeMessages, type Message } from '../../src/model/index.ts';
import { checkAppend, takeTranscript, transcriptFromMessages, validateTranscriptShape } from '../../src/transcript/index.ts';
import { arbMessage, arbPendingToolCall, arbToolExchange, arbTranscript, arbTurns } from '../arbitraries/messages.ts';
import { firstPairingFault } from '../../src/testing/index.ts';

const ids = (m: Message | undefined): string[] => (m?.role === 'assistant' ? m.content.flatMap((b) => (b.type === 'tool_use' ? [b.id] : [])) : []);

/** revisions.md §2 stated directly, once, in `palimpsest/testing` (`firstPairingFault`): whether `ms` is shape-valid. */
const referenceValid = (ms: readonly Message[]): boolean => firstPairingFault(ms) === undefined;

describe('shape properties', () => {
  it('generated transcripts decode and are shape-valid', () => {
    fc.assert(
      fc.property(arbTranscript({ maxTurns: 10 }), (ms) => {
        expect(E.isRight(decodeMessages(JSON.parse(JSON.stringify(ms))))).toBe(true);
        expect(validateTranscriptShape(ms)).toEqual(E.right(undefined));
      }),
      { numRuns: 100 },
    );
  });

  it('validateTranscriptShape agrees with the rules stated directly', () => {
    const arbMixed = fc.oneof(
      fc.array(arbMessage, { maxLength: 6 }),
      // valid transcripts with one message dropped, duplicated or swapped in
      fc.tuple(arbTranscript({ minTurns: 1, maxTurns: 6 }), fc.nat(), fc.nat(), fc.constantFrom('drop', 'dup', 'swap')).map(([ms, i, j, how]) => {
        const a = i % ms.length;
        const b = j % ms.length;
        const out = ms.slice();
        if (how === 'drop') out.splice(a, 1);
        else if (how === 'dup') out.splice(a, 0, ms[a]!);
        else [out[a], out[b]] = [out[b]!, out[a]!];
        return out;
      }),
    );
    fc.assert(
      fc.property(arbMixed, (ms) => {
        const r = validateTranscriptShape(ms);
        expect(E.isRight(r)).toBe(referenceValid(ms));
        if (E.isLeft(r)) {
          expect(r.left.index).toBeGreaterThanOrEqual(0);
          expect(r.left.index).toBeLessThan(ms.length);
          // the list up to the error's predecessor is fine as a pending transcript
          expect(E.isRight(validateTranscriptShape(ms.slice(0, r.left.index), { allowPendingToolUse: true }))).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('appending turns at any split of a valid transcript passes checkAppend; a pending call may end it', () => {
    fc.assert(
      fc.property(arbTurns({ maxTurns: 8 }), fc.nat(), arbPendingToolCall, arbToolExchange, (turns, cut, pending, exchange) => {
        const k = cut % (turns.length + 1);
        const head = turns.slice(0, k).flat();
        const rest = turns.slice(k).flat();
        const t = transcriptFromMessages([...head, ...rest]);
        expect(checkAppend(takeTranscript(t, head.length), rest)).toEqual(E.right(undefined));
        expect(checkAppend(t, [pending])).toEqual(E.right(undefined));
        expect(E.isLeft(validateTranscriptShape([...head, ...rest, pending]))).toBe(true);
        // after a pending call only its results may come; the exchange's own results resolve other ids
        const withPending = transcriptFromMessages([...head, ...rest, pending]);
        const results = exchange[1]!;
        const sameIds = results.role === 'tool_results' && results.results.map((r) => r.toolUseId).sort().join('\u0000') === ids(pending).sort().join('\u0000');
        expect(E.isRight(checkAppend(withPending, [results]))).toBe(sameIds);
        expect(E.isLeft(checkAppend(withPending, [exchange[0]!]))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
