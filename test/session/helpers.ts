/** Test helpers for the Session value: unwrap Eithers with a readable failure. */
import * as E from 'fp-ts/lib/Either.js';
import { Session } from '../../src/session/session.ts';

/** The Right value, or a thrown Error naming the Left. */
export const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected Right, got Left ${JSON.stringify(e.left)}`);
  return e.right;
};

/** The Left value, or a thrown Error. */
export const left = <L>(e: E.Either<L, unknown>): L => {
  if (E.isRight(e)) throw new Error('expected Left, got Right');
  return e.left;
};

/** A clock that advances by 1 ms per call from `start`. */
export const tickingClock = (start = 1_700_000_000_000): (() => number) => {
  let t = start;
  return () => t++;
};

/** A fresh session with a ticking clock. */
export const fresh = (id = 's-1', metadata: Record<string, string> = {}): Session => Session.create({ id, clock: tickingClock(), metadata });
