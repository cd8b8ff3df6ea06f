/**
 * Realtime restore is linear (realtime.md §5): restoring a 4,096-item waiting
 * chain (first seen in reverse, its head naming an unknown id) against a
 * 1,024-item one of the same shape, in the same run. Linear gives a ratio near
 * 4; a per-item ancestry walk would give about 16.
 *
 * Standalone: `npx tsx bench/realtimeRestore.ts`.
 */
import { pathToFileURL } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { restoreRealtimeState } from '../src/machines/realtime.ts';

/** A stored (JSON) realtime state: the chain c-1 <- ... <- c-n seen in reverse, c-1 naming the unknown c-0. */
const storedChain = (n: number): unknown => {
  const items: Record<string, unknown> = {};
  const firstSeenOrder: string[] = [];
  for (let i = n; i >= 1; i--) {
    const id = `c-${i}`;
    items[id] = {
      role: i % 2 === 0 ? 'assistant' : 'user',
      previousItemId: `c-${i - 1}`,
      ...(i % 2 === 0 ? { responseId: `r-${i}` } : {}),
      segments: { 0: `segment text of item ${i}` },
      lane: 'display',
      skipped: false,
      ready: i % 2 === 1,
      materialized: false,
    };
    firstSeenOrder.push(id);
  }
  return JSON.parse(JSON.stringify({ items, firstSeenOrder, seenDeltaIds: [], completions: {}, discardedResponseIds: [] }));
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

const timeRestore = (u: unknown): number => {
  const t0 = performance.now();
  const r = restoreRealtimeState(u);
  const t1 = performance.now();
  if (E.isLeft(r)) throw new Error(`benchmark state is invalid: ${r.left.reason}`);
  return t1 - t0;
};

/**
 * Restore time of a 4,096-item chain over a 1,024-item chain. Each sample of the
 * small chain restores it four times, so both samples allocate alike and the
 * garbage collector weighs on them equally; the ratio is the median large
 * sample over a quarter of the median small sample (interleaved runs).
 */
export async function benchRealtimeRestore(): Promise<{ id: string; ratio: number; budget: string; pass: boolean; detail: string }> {
  const small = storedChain(1024);
  const large = storedChain(4096);
  for (let i = 0; i < 5; i++) {
    timeRestore(small);
    timeRestore(large);
  }
  const rounds = 31;
  const ts: number[] = [];
  const tl: number[] = [];
  for (let i = 0; i < rounds; i++) {
    let t = 0;
    for (let k = 0; k < 4; k++) t += timeRestore(small);
    ts.push(t / 4);
    tl.push(timeRestore(large));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const ms = median(ts);
  const ml = median(tl);
  const ratio = ml / ms;
  return {
    id: 'realtime-restore',
    ratio,
    budget: '<= 6 (linear)',
    pass: ratio <= 6,
    detail: `restore of a 4,096-item waiting chain / a 1,024-item one, medians of ${rounds} interleaved samples (${ml.toFixed(2)} ms / ${ms.toFixed(2)} ms)`,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchRealtimeRestore();
  console.log(`${r.id}: ratio ${r.ratio.toFixed(2)} (budget ${r.budget}) ${r.pass ? 'PASS' : 'FAIL'} - ${r.detail}`);
  if (!r.pass) process.exitCode = 1;
}
