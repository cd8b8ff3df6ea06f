/**
 * Property: under any interleaving of concurrent appends, subscriptions (with or
 * without `fromSeq`), partial consumption, slow consumers (tiny buffers, small
 * catch-up pages), writers around the engine and engine restarts, every
 * subscription yields a gap-free, duplicate-free run of the session's committed
 * records in seq order, identical to the stored log, starting where it should:
 * exactly at `fromSeq`, or (without it) right after the records committed
 * before the call.
 *
 * Runs against real LevelDB in temp directories, so the run count is modest.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { SessionEngine, type Subscription } from '../../src/engine/index.ts';
import type { LogRecord } from '../../src/session/record.ts';
import { userText } from '../../src/model/index.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected Right, got Left ${JSON.stringify(e.left)}`);
  return e.right;
};

const cmd = (i: number): unknown => ({ type: 'messages_appended', messages: [{ ...userText(`m${i}`), createdAt: i }] });

/** One concurrent action of a step. */
type Action =
  | { readonly type: 'append'; readonly n: number }
  | { readonly type: 'direct'; readonly n: number } // a writer around the engine
  | { readonly type: 'subscribe'; readonly from: number | 'new'; readonly buffer: number }
  | { readonly type: 'consume'; readonly sub: number; readonly k: number };

/** A step: actions launched together, then awaited; or a restart of the engine. */
type Step = { readonly type: 'batch'; readonly actions: readonly Action[] } | { readonly type: 'restart' };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('append' as const), n: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('direct' as const), n: fc.integer({ min: 1, max: 2 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('subscribe' as const),
      from: fc.oneof(fc.constant('new' as const), fc.integer({ min: 1, max: 30 })),
      buffer: fc.integer({ min: 1, max: 6 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('consume' as const), sub: fc.nat(20), k: fc.integer({ min: 1, max: 8 }) }) },
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ type: fc.constant('batch' as const), actions: fc.array(actionArb, { minLength: 1, maxLength: 5 }) }) },
  { weight: 1, arbitrary: fc.constant({ type: 'restart' as const }) },
);

interface Tracked {
  readonly sub: Subscription;
  /** Explicit start, or the bounds a "new records only" start must fall in. */
  readonly expectedFrom: { readonly exact: number } | { readonly min: number; readonly max: number };
  readonly got: LogRecord[];
  /** Records requested so far (concurrent consumers of one subscription claim before they await). */
  claimed: number;
  live: boolean;
}

const next = async (t: Tracked): Promise<LogRecord> => {
  const r = await t.sub.next();
  if (r.done === true) throw new Error(`subscription ended early${t.sub.error !== undefined ? `: ${t.sub.error.message}` : ''}`);
  t.got.push(r.value);
  return r.value;
};

/** The first seq a subscription must yield (once it yielded one, for a "new" start). */
const firstExpected = (t: Tracked): number | undefined => ('exact' in t.expectedFrom ? t.expectedFrom.exact : t.got[0]?.seq);

const checkRun = (t: Tracked, stored: readonly LogRecord[]): void => {
  if ('min' in t.expectedFrom && t.got.length > 0) {
    expect(t.got[0]!.seq).toBeGreaterThanOrEqual(t.expectedFrom.min);
    expect(t.got[0]!.seq).toBeLessThanOrEqual(t.expectedFrom.max);
  }
  const from = firstExpected(t);
  t.got.forEach((r, i) => {
    expect(r.seq).toBe(from! + i);
    expect(r.hash).toBe(stored[r.seq - 1]!.hash);
  });
};

describe('engine subscriptions (property)', () => {
  it('yield exactly the committed records from their start, in order, under random interleavings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 6 }), async (steps, pageSize) => {
        const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'palimpsest-engine-spec-'));
        dirs.push(dir);
        const openIt = async (): Promise<SessionEngine> => right(await SessionEngine.open(dir, { subscriptionPageSize: pageSize, snapshotEvery: 16, conflictRetries: 1_000 }));
        let engine = await openIt();
        right(await engine.create({ id: 's' }));
        let head = 1; // committed records (awaited)
        let counter = 0;
        const tracked: Tracked[] = [];
        try {
          for (const step of steps) {
            if (step.type === 'restart') {
              right(await engine.close());
              for (const t of tracked) {
                if (t.live) {
                  expect((await t.sub.next()).done).toBe(true);
                  t.live = false;
                }
              }
              engine = await openIt();
              continue;
            }
            const before = head;
            const launched = step.actions.map(async (a): Promise<void> => {
              switch (a.type) {
                case 'append': {
                  const cmds = Array.from({ length: a.n }, () => cmd(counter++));
                  right(await engine.append('s', cmds));
                  return;
                }
                case 'direct': {
                  const cmds = Array.from({ length: a.n }, () => cmd(counter++));
                  for (;;) {
                    const s = right(await engine.store.load('s'));
                    const r = await engine.store.append('s', cmds, { expectedSeq: s.seq });
                    if (E.isRight(r)) return;
                    expect(r.left._tag).toBe('SeqConflict');
                  }
                }
                case 'subscribe': {
                  const from = a.from === 'new' ? undefined : Math.min(a.from, before + 1);
                  const sub = engine.subscribe('s', { ...(from !== undefined ? { fromSeq: from } : {}), bufferSize: a.buffer });
                  // a "new" start lies after what was committed before the batch and at most after the whole batch
                  tracked.push({ sub, expectedFrom: from !== undefined ? { exact: from } : { min: before + 1, max: Number.MAX_SAFE_INTEGER }, got: [], claimed: 0, live: true });
                  return;
                }
                case 'consume': {
                  const live = tracked.filter((t) => t.live);
                  const t = live[a.sub % Math.max(1, live.length)];
                  if (t === undefined) return;
                  // only records committed before this batch are certain to exist for every start
                  const from = firstExpected(t);
                  if (from === undefined) return; // a "new" subscription's start is not known yet
                  const n = Math.min(a.k, Math.max(0, before - (from - 1) - t.claimed));
                  t.claimed += n;
                  for (let i = 0; i < n; i++) await next(t);
                  return;
                }
              }
            });
            await Promise.all(launched);
            // records written around the engine reach subscribers with the engine's next commit
            if (step.actions.some((a) => a.type === 'direct')) right(await engine.append('s', [cmd(counter++)]));
            head = right(await engine.store.load('s')).seq;
            // pin the bounds of "new" starts made in this batch
            for (const t of tracked) if ('min' in t.expectedFrom && t.expectedFrom.max === Number.MAX_SAFE_INTEGER) (t as { expectedFrom: unknown }).expectedFrom = { min: t.expectedFrom.min, max: head + 1 };
          }
          const stored = right(await engine.store.log('s'));
          expect(stored.map((r) => r.seq)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
          // drain every live subscription to the head
          for (const t of tracked.filter((x) => x.live)) {
            const from = firstExpected(t);
            if (from === undefined) {
              // a "new" subscription that saw nothing: whatever comes first must be within its bounds
              if ('min' in t.expectedFrom && t.expectedFrom.max <= head) {
                t.claimed++;
                await next(t);
              }
            }
            const start = firstExpected(t);
            if (start !== undefined) while ((t.got.at(-1)?.seq ?? start - 1) < head) await next(t);
          }
          for (const t of tracked) checkRun(t, stored);
        } finally {
          for (const t of tracked) t.sub.close();
          await engine.close();
        }
      }),
      { numRuns: 60, timeout: 3000 },
    );
  });
});
