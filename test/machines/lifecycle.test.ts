import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith } from '../../src/model/decode.ts';
import {
  LifecycleCommandCodec,
  initialLifecycle,
  isLifecycleCommandType,
  lifecycleCommandCodecs,
  lifecycleGuard,
  restoreLifecycle,
  stepLifecycle,
  type LifecycleCommand,
  type LifecycleState,
} from '../../src/machines/lifecycle.ts';

const ctx = (seq: number, at = 5_000 + seq) => ({ sessionId: 'sess-7', seq, at });
const run = (state: LifecycleState, u: unknown, seq: number) => {
  const cmd = decodeWith(LifecycleCommandCodec, u);
  if (E.isLeft(cmd)) throw new Error(cmd.left.message);
  return stepLifecycle(state, cmd.right as LifecycleCommand, ctx(seq), 'sess-7');
};
const right = <A>(r: E.Either<unknown, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected Right, got ${JSON.stringify(r.left)}`);
  return r.right;
};

describe('lifecycle (§3, §7 items 21–22 at the reducer level)', () => {
  it('archiving freezes writes; archiving again is inert; revive restores writes; reviving an active session fails', () => {
    expect(initialLifecycle).toEqual({ status: 'active' });
    expect(E.isRight(lifecycleGuard(initialLifecycle, 'sess-7'))).toBe(true);

    const a = right(run(initialLifecycle, { type: 'session_archived', reason: 'retention: 90 days' }, 3));
    expect(a.result).toBe('archived');
    expect(a.state).toEqual({ status: 'archived', archivedAt: 5003, reason: 'retention: 90 days' });

    const guard = lifecycleGuard(a.state, 'sess-7');
    expect(E.isLeft(guard) && guard.left).toMatchObject({ _tag: 'SessionArchived', sessionId: 'sess-7' });
    expect(E.isLeft(guard) && typeof guard.left.message).toBe('string');

    const again = right(run(a.state, { type: 'session_archived', reason: 'another reason' }, 4));
    expect(again.result).toBe('already_archived');
    expect(again.state).toBe(a.state);

    const revived = right(run(a.state, { type: 'session_revived' }, 5));
    expect(revived.result).toBe('revived');
    expect(revived.state).toEqual({ status: 'active' });
    expect(E.isRight(lifecycleGuard(revived.state, 'sess-7'))).toBe(true);

    const bad = run(revived.state, { type: 'session_revived' }, 6);
    expect(E.isLeft(bad) && bad.left).toMatchObject({ _tag: 'SessionNotArchived', sessionId: 'sess-7' });
  });

  it('archiving without a reason omits the field; the session id defaults to ctx.sessionId', () => {
    const r = right(stepLifecycle(initialLifecycle, { type: 'session_archived' }, ctx(2)));
    expect(r.state).toEqual({ status: 'archived', archivedAt: 5002 });
    expect('reason' in r.state).toBe(false);
    const bad = stepLifecycle(initialLifecycle, { type: 'session_revived' }, ctx(3));
    expect(E.isLeft(bad) && bad.left.sessionId).toBe('sess-7');
  });

  it('a fork starts active: the initial state', () => {
    expect(right(restoreLifecycle({ status: 'active' }))).toEqual(initialLifecycle);
  });

  it('codecs are strict; isLifecycleCommandType names the two commands', () => {
    expect(E.isLeft(decodeWith(lifecycleCommandCodecs.session_archived, { type: 'session_archived', reason: 3 }))).toBe(true);
    expect(E.isLeft(decodeWith(lifecycleCommandCodecs.session_revived, { type: 'session_revived', reason: 'x' }))).toBe(true);
    expect(isLifecycleCommandType('session_archived')).toBe(true);
    expect(isLifecycleCommandType('session_revived')).toBe(true);
    expect(isLifecycleCommandType('messages_appended')).toBe(false);
    expect(isLifecycleCommandType('__proto__')).toBe(false);
  });

  it('restore rejects malformed states', () => {
    expect(E.isRight(restoreLifecycle({ status: 'archived', archivedAt: 0 }))).toBe(true);
    expect(E.isRight(restoreLifecycle({ status: 'archived', archivedAt: 10, reason: 'audit' }))).toBe(true);
    for (const u of [
      {},
      { status: 'deleted' },
      { status: 'archived' },
      { status: 'archived', archivedAt: -1 },
      { status: 'archived', archivedAt: 1.5 },
      { status: 'active', archivedAt: 1 },
      { status: 'archived', archivedAt: 1, reason: null },
      'active',
      null,
    ]) {
      const r = restoreLifecycle(u);
      expect(E.isLeft(r) && r.left).toMatchObject({ _tag: 'MachineStateInvalid', machine: 'lifecycle' });
    }
  });
});
