/** Test helpers shared by every test folder: unwrap fp-ts Eithers with a readable failure. */
import * as E from 'fp-ts/lib/Either.js';

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

/** A clock returning `start`, `start + 1`, … (ms; one tick per call). */
export const ticking = (start = 1_000): (() => number) => {
  let t = start;
  return () => t++;
};
