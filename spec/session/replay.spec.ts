/**
 * Property specs of the session aggregate (README §2, revisions.md §6–7):
 * - replaying the log of any random command sequence reproduces every
 *   recorded revision and the final state (stated once, in `palimpsest/testing`'s
 *   `checkReplay` / `checkSessionInvariants`);
 * - fork isolation: appends to the parent after a fork never show in the child,
 *   and appends to the child never show in the parent.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { Session } from '../../src/session/session.ts';
import { assistantText, assistantToolCalls, compactionSummary, systemNotice, toolResult, toolResults, userText } from '../../src/model/index.ts';
import { arbCommandSequence, checkReplay, checkSessionInvariants } from '../../src/testing/index.ts';

type Op =
  | { op: 'user'; text: string }
  | { op: 'assistant'; text: string }
  | { op: 'toolTurn'; ids: string[] }
  | { op: 'system'; text: string }
  | { op: 'notice'; kind: string; text: string }
  | { op: 'meta'; key: string; value: number }
  | { op: 'usage'; input: number; output: number }
  | { op: 'rewrite'; a: number; b: number; text: string }
  | { op: 'refresh'; kind: string; texts: string[] };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('user' as const), text: fc.string({ maxLength: 20 }) }),
  fc.record({ op: fc.constant('assistant' as const), text: fc.string({ maxLength: 20 }) }),
  fc.record({ op: fc.constant('toolTurn' as const), ids: fc.uniqueArray(fc.stringMatching(/^[a-z]{1,4}$/), { minLength: 1, maxLength: 3 }) }),
  fc.record({ op: fc.constant('system' as const), text: fc.string({ maxLength: 10 }) }),
  fc.record({ op: fc.constant('notice' as const), kind: fc.constantFrom('generic', 'external_event'), text: fc.string({ maxLength: 10 }) }),
  fc.record({ op: fc.constant('meta' as const), key: fc.constantFrom('a', 'b', 'c'), value: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ op: fc.constant('usage' as const), input: fc.nat(1000), output: fc.nat(1000) }),
  fc.record({ op: fc.constant('rewrite' as const), a: fc.nat(), b: fc.nat(), text: fc.string({ maxLength: 10 }) }),
  fc.record({ op: fc.constant('refresh' as const), kind: fc.constantFrom('generic', 'external_event'), texts: fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }) }),
);

/** Applies an op; refused ops (shape, no-op rewrites) leave the session as it was. */
const applyOp = (s: Session, o: Op): Session => {
  const keep = (r: E.Either<unknown, Session>): Session => (E.isRight(r) ? r.right : s);
  switch (o.op) {
    case 'user':
      return keep(s.push(userText(o.text)));
    case 'assistant':
      return keep(s.push(assistantText(o.text)));
    case 'toolTurn': {
      const withCalls = s.push(assistantToolCalls(o.ids.map((id) => ({ id, name: 'tool', args: { id } }))));
      if (E.isLeft(withCalls)) return s;
      return keep(withCalls.right.push(toolResults(o.ids.map((id) => toolResult(id, `result ${id}`)))));
    }
    case 'system':
      return keep(s.setSystemPrompt(o.text));
    case 'notice':
      return keep(s.push(systemNotice(o.kind, o.text)));
    case 'meta':
      return keep(s.setMetadata(o.key, o.value));
    case 'usage':
      return keep(s.recordUsage({ inputTokens: o.input, outputTokens: o.output }));
    case 'rewrite': {
      const n = s.messageCount;
      const start = n === 0 ? 0 : o.a % (n + 1);
      const end = start + (n - start === 0 ? 0 : o.b % (n - start + 1));
      const r = s.commitTranscriptRewrite({ selection: { type: 'message_range', start, end }, replacement: [compactionSummary(o.text)], reason: { kind: 'compaction' } });
      return E.isRight(r) ? r.right.session : s;
    }
    case 'refresh':
      return keep(s.replaceSyntheticNotices(o.kind, o.texts.map((t) => systemNotice(o.kind, t))));
  }
};

const clock = () => {
  let t = 1_000;
  return () => (t += 7);
};

describe('session replay', () => {
  it('replay of any command sequence reproduces every recorded revision and the final state (checkReplay)', () => {
    fc.assert(
      fc.property(arbCommandSequence({ maxCommands: 30 }), (commands) => {
        expect(checkReplay(commands)).toMatchObject({ ok: true });
      }),
      { numRuns: 200 },
    );
  });

  it('so does a session built through its methods (checkSessionInvariants)', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 40 }), (ops) => {
        let s = Session.create({ id: 'p', clock: clock() });
        for (const o of ops) s = applyOp(s, o);
        expect(checkSessionInvariants(s)).toMatchObject({ ok: true });
      }),
      { numRuns: 200 },
    );
  });

  it('fork isolation: later appends on either side never leak', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 15 }), fc.array(arbOp, { maxLength: 15 }), fc.array(arbOp, { maxLength: 15 }), (before, parentAfter, childAfter) => {
        let parent = Session.create({ id: 'p', clock: clock() });
        for (const o of before) parent = applyOp(parent, o);
        // A reference copy rebuilt from the log shares no structure with `parent`.
        const copy = E.getOrElseW(() => {
          throw new Error('replay failed');
        })(Session.replay(parent.log));
        let child = parent.fork({ id: 'c', clock: clock() });
        let parentNext = parent;
        for (const o of parentAfter) parentNext = applyOp(parentNext, o);
        for (const o of childAfter) child = applyOp(child, o);
        let childRef = copy.fork({ id: 'c', clock: clock() });
        for (const o of childAfter) childRef = applyOp(childRef, o);
        let parentRef = copy;
        for (const o of parentAfter) parentRef = applyOp(parentRef, o);
        // Revisions digest content without createdAt (the copy runs on another clock).
        expect(child.transcriptRevision()).toBe(childRef.transcriptRevision());
        expect(child.messageCount).toBe(childRef.messageCount);
        expect(parentNext.transcriptRevision()).toBe(parentRef.transcriptRevision());
        expect(parent.messages).toEqual(copy.messages);
      }),
      { numRuns: 200 },
    );
  });
});
