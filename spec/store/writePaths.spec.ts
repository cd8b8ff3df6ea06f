/**
 * The three write paths give identical records for the same command sequence:
 * `Session.apply` in memory, `store.append` on LevelDB, and `engine.append`
 * (one command per call each, the same constant clock, so `at` agrees). A
 * command one path refuses is refused by all three, with the same tag.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { Session } from '../../src/session/session.ts';
import { SessionStore } from '../../src/store/index.ts';
import { SessionEngine } from '../../src/engine/index.ts';
import { arbCommandSequence } from '../../src/testing/arbitraries/commands.ts';

const clock = (): number => 1_700_000_000_000;
const must = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

describe('Session, store and engine write the same records', () => {
  it('for any command sequence', async () => {
    await fc.assert(
      fc.asyncProperty(arbCommandSequence({ maxCommands: 12 }), async (commands) => {
        const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'palimpsest-paths-'));
        try {
          let session = Session.create({ id: 's', clock });
          const store = must(await SessionStore.open(nodePath.join(dir, 'store'), { clock }));
          const engine = must(await SessionEngine.open(nodePath.join(dir, 'engine'), { clock }));
          try {
            must(await store.create({ id: 's' }));
            must(await engine.create({ id: 's' }));
            for (const c of commands) {
              const viaSession = session.apply(c);
              const last = must(await store.load('s')).seq;
              const viaStore = await store.append('s', [c], { expectedSeq: last });
              const viaEngine = await engine.append('s', [c]);
              expect(E.isRight(viaStore), c.type).toBe(E.isRight(viaSession));
              expect(E.isRight(viaEngine), c.type).toBe(E.isRight(viaSession));
              if (E.isLeft(viaSession)) {
                expect((viaStore as E.Left<{ _tag: string }>).left._tag).toBe(viaSession.left._tag);
                expect((viaEngine as E.Left<{ _tag: string }>).left._tag).toBe(viaSession.left._tag);
                continue;
              }
              session = viaSession.right.session;
            }
            const records = [...session.log];
            expect(must(await store.log('s'))).toEqual(records);
            expect(must(await engine.store.log('s'))).toEqual(records);
            expect(records.every((r) => r.v === 2)).toBe(true);
          } finally {
            await engine.close();
            await store.close();
          }
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 15 },
    );
  });
});
