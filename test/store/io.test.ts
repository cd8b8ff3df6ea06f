/**
 * The stored header text (`store/io.ts`): `headerJson` writes the header member
 * by member and must give exactly `JSON.stringify(headerOf(…))`, the text it
 * replaced, for roots and forks, active and archived, with and without a
 * snapshot, and for any session id.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { Session } from '../../src/session/session.ts';
import { userText, assistantText } from '../../src/model/index.ts';
import { headerJson, headerOf } from '../../src/store/io.ts';

/** A session `id` with `n` messages, archived or not, forked (at `forkAt`) or not, at time `at`. */
const sessionOf = (id: string, n: number, archived: boolean, forkAt: number | undefined, at: number): Session => {
  let s = Session.create({ id, clock: () => at });
  for (let i = 0; i < n; i++) {
    const r = s.push(i % 2 === 0 ? userText(`q${i} ${id}`) : assistantText(`a${i}`));
    if (E.isLeft(r)) throw new Error(r.left.message);
    s = r.right;
  }
  if (forkAt !== undefined) s = s.forkAt(forkAt, { id: `${id}-child` });
  if (archived) {
    const r = s.archive('done');
    if (E.isLeft(r)) throw new Error(r.left.message);
    s = r.right.session;
  }
  return s;
};

describe('headerJson', () => {
  it('is JSON.stringify(headerOf(state, snapshot)) for any session', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }),
        fc.nat({ max: 6 }),
        fc.boolean(),
        fc.option(fc.nat({ max: 6 }), { nil: undefined }),
        fc.option(fc.integer({ min: 1, max: 2 ** 40 }), { nil: undefined }),
        fc.integer({ min: 0, max: 2 ** 45 }),
        (id, n, archived, forkAt, snapshot, at) => {
          const s = sessionOf(id, n, archived, forkAt, at);
          expect(headerJson(s.state, snapshot)).toBe(JSON.stringify(headerOf(s.state, snapshot)));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('escapes what JSON.stringify escapes in the session id', () => {
    const s = sessionOf('a "quoted" \\ id\u2028', 1, false, undefined, 1);
    expect(headerJson(s.state, 1000)).toBe(JSON.stringify(headerOf(s.state, 1000)));
    expect(JSON.parse(headerJson(s.state, undefined)).sessionId).toBe('a "quoted" \\ id\u2028');
  });
});
