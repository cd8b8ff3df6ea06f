/** Test helpers for the Session value: unwrap Eithers with a readable failure. */
import { Session } from '../../src/session/session.ts';
import { ticking } from '../support/either.ts';
export { right, left } from '../support/either.ts';

/** A clock that advances by 1 ms per call from `start` (ms). */
export const tickingClock = (start = 1_700_000_000_000): (() => number) => ticking(start);

/** A fresh session with a ticking clock. */
export const fresh = (id = 's-1', metadata: Record<string, string> = {}): Session => Session.create({ id, clock: tickingClock(), metadata });
