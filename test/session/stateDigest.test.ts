/**
 * The state digest written from memoized pieces (`stateDigest`) is the digest of
 * the document serialized whole (`stateDigestOfDocument`, the definition in the
 * module docstring), on every state a random command sequence goes through, on
 * fork children, and on usages and times outside the fast path.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { Session } from '../../src/session/session.ts';
import { stateDigest, stateDigestOfDocument } from '../../src/session/stateDigest.ts';
import type { SessionState } from '../../src/session/state.ts';
import { userText } from '../../src/model/index.ts';
import { arbCommandSequence } from '../../src/testing/index.ts';
import { right } from './helpers.ts';

/** Every state `commands` take a session through (refused commands skipped), and fork children of the last. */
const statesOf = (commands: readonly unknown[]): SessionState[] => {
  let t = 1_000;
  let s = Session.create({ id: 'sd', clock: () => (t += 3) });
  const states = [s.state];
  for (const c of commands) {
    const r = s.apply(c);
    if (E.isLeft(r)) continue;
    s = r.right.session;
    states.push(s.state);
  }
  const child = s.fork({ id: 'sd-child' });
  states.push(child.state, s.forkAt(1, { id: 'sd-at' }).state);
  const pushed = child.push(userText('after the fork'));
  if (E.isRight(pushed)) states.push(pushed.right.state);
  return states;
};

describe('stateDigest', () => {
  it('equals the digest of the whole document on every state of random command sequences', () => {
    fc.assert(
      fc.property(arbCommandSequence({ maxCommands: 30 }), (commands) => {
        for (const st of statesOf(commands)) expect(stateDigest(st)).toBe(stateDigestOfDocument(st));
      }),
      { numRuns: 150 },
    );
  });

  it('equals it for usages with cache counts, extra or undefined members, and unusual times', () => {
    const base = right(Session.create({ id: 'u', clock: () => 5 }).push(userText('x'))).state;
    const usages: unknown[] = [
      { inputTokens: 10, outputTokens: 2, cacheReadTokens: 4 },
      { inputTokens: 10, outputTokens: 2, cacheCreationTokens: 3, cacheReadTokens: 4 },
      { outputTokens: 2, inputTokens: 10, cacheCreationTokens: 1 },
      { inputTokens: 10, outputTokens: 2, cacheReadTokens: undefined },
      { inputTokens: 10, outputTokens: 2, note: 'x' },
      { inputTokens: 1.5, outputTokens: 2 },
    ];
    for (const usage of usages) {
      const st = { ...base, usage } as SessionState;
      expect(stateDigest(st)).toBe(stateDigestOfDocument(st));
    }
    for (const updatedAt of [0, 1.25, Number.MAX_SAFE_INTEGER]) {
      const st = { ...base, updatedAt };
      expect(stateDigest(st)).toBe(stateDigestOfDocument(st));
    }
    // A usage that differs changes the digest (the pieces are not stale memos).
    expect(stateDigest({ ...base, usage: { inputTokens: 11, outputTokens: 2 } })).not.toBe(stateDigest({ ...base, usage: { inputTokens: 10, outputTokens: 2 } }));
  });
});
