/**
 * Properties of the lifecycle machine (machines.md §3), checked against a
 * two-state model: random archive / revive / other-command sequences (some not
 * decodable) never throw, fail only with known tags, keep every state
 * restorable, are inert iff unchanged, and the guard refuses exactly while
 * archived.
 */
import { describe, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith } from '../../src/model/decode.ts';
import { canonicalJsonUnsafe } from '../../src/model/json.ts';
import { LifecycleCommandCodec, initialLifecycle, lifecycleGuard, restoreLifecycle, stepLifecycle, type LifecycleState } from '../../src/machines/lifecycle.ts';

const check = (ok: boolean, what: string): void => {
  if (!ok) throw new Error(what);
};

const arbRaw: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.option(fc.constantFrom('retention', 'audit hold', ''), { nil: undefined }).map((reason) => ({ type: 'session_archived', ...(reason === undefined ? {} : { reason }) })) },
  { weight: 4, arbitrary: fc.constant({ type: 'session_revived' }) },
  { weight: 3, arbitrary: fc.constant('other') },
  { weight: 1, arbitrary: fc.record({ type: fc.constantFrom('session_archived', 'session_revived', 'session_deleted'), reason: fc.anything({ maxDepth: 1 }) }) },
);

describe('lifecycle: model-based properties', () => {
  it('matches the two-state model and keeps the guard exact', () => {
    fc.assert(
      fc.property(fc.array(arbRaw, { maxLength: 30, size: 'max' }), (raws) => {
        let state: LifecycleState = initialLifecycle;
        let archived = false;
        let at = 1;
        for (const raw of raws) {
          const guard = lifecycleGuard(state, 'sess');
          check(E.isLeft(guard) === archived, 'guard refuses iff archived');
          if (E.isLeft(guard)) check(guard.left._tag === 'SessionArchived' && guard.left.sessionId === 'sess', 'guard error');
          if (raw === 'other') continue;
          const decoded = decodeWith(LifecycleCommandCodec, raw);
          if (E.isLeft(decoded)) {
            check(decoded.left._tag === 'DecodeError', 'decode error tag');
            continue;
          }
          const r = stepLifecycle(state, decoded.right, { sessionId: 'sess', seq: at, at: at * 100 });
          const cmd = decoded.right;
          if (cmd.type === 'session_revived') {
            check(E.isLeft(r) === !archived, 'revive fails iff active');
            if (E.isLeft(r)) {
              check(r.left._tag === 'SessionNotArchived' && r.left.sessionId === 'sess', 'revive error');
              continue;
            }
          }
          if (E.isLeft(r)) throw new Error(`unexpected ${JSON.stringify(r.left)}`);
          const next = r.right.state;
          if (cmd.type === 'session_archived') {
            check(r.right.result === (archived ? 'already_archived' : 'archived'), 'archive result');
            check((next === state) === archived, 'archive inert iff archived');
            if (!archived) check(next.status === 'archived' && next.archivedAt === at * 100 && next.reason === cmd.reason, 'archived state');
            archived = true;
          } else {
            check(r.right.result === 'revived' && next.status === 'active', 'revived');
            archived = false;
          }
          check((next === state) === (canonicalJsonUnsafe(next) === canonicalJsonUnsafe(state)), 'inert iff unchanged');
          if (next !== state) at++;
          state = next;
          const restored = restoreLifecycle(JSON.parse(JSON.stringify(state)));
          check(E.isRight(restored) && canonicalJsonUnsafe(restored.right) === canonicalJsonUnsafe(state), 'restore round trip');
        }
      }),
      { numRuns: 2500 },
    );
  });

  it('restore never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ status: fc.constantFrom('active', 'archived'), archivedAt: fc.anything(), reason: fc.anything() }, { requiredKeys: ['status'] })), (u) => {
        const r = restoreLifecycle(u);
        check(E.isRight(r) || r.left._tag === 'MachineStateInvalid', 'restore error tag');
      }),
      { numRuns: 500 },
    );
  });
});
