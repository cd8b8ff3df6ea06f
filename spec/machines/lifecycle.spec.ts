/**
 * Properties of the lifecycle machine (machines.md §3), checked against a
 * two-state model: random archive / revive / other-command sequences (some not
 * decodable) obey the machine laws (`laws.ts`: known tags, inert iff
 * unchanged, restore round trip, restore total), archive and revive do what
 * the model says, and the guard refuses exactly while archived.
 */
import { describe, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith } from '../../src/model/decode.ts';
import { LifecycleCommandCodec, initialLifecycle, lifecycleGuard, stepLifecycle, type LifecycleState } from '../../src/machines/lifecycle.ts';
import { machines } from '../../src/machines/registry.ts';
import { checkRestoreTotal, checkStepLaws } from './laws.ts';

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
          checkStepLaws(machines.lifecycle, state, r, `after ${JSON.stringify(raw)}`);
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
          if (next !== state) at++;
          state = next;
        }
      }),
      { numRuns: 2500 },
    );
  });

  it('restore never throws on near-miss states', () => {
    fc.assert(
      fc.property(fc.record({ status: fc.constantFrom('active', 'archived'), archivedAt: fc.anything(), reason: fc.anything() }, { requiredKeys: ['status'] }), (u) =>
        checkRestoreTotal(machines.lifecycle, u),
      ),
      { numRuns: 500 },
    );
  });
});
