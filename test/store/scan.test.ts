/**
 * Scans read ahead in large batches (io.ts): every record still comes back once,
 * in order, across batch boundaries; a consumer that stops early leaves the store
 * usable; verify reads the whole log.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { cleanupDirs, msg, openStore, right, tempDir } from './helpers.ts';

afterAll(cleanupDirs);

describe('scan read-ahead', () => {
  it('returns every record in order across batches of large values, and stops cleanly', async () => {
    const store = await openStore(tempDir('scan'));
    right(await store.create({ id: 's' }));
    const n = 1200;
    let seq = 1;
    for (let i = 0; i < n; i += 100) {
      const commands = Array.from({ length: 100 }, (_, j) => ({ type: 'messages_appended', messages: [msg(i + j, `${i + j} `.padEnd(3000, 'x'))] }));
      seq = right(await store.append('s', commands, { expectedSeq: seq })).session.seq;
    }
    const log = right(await store.log('s'));
    expect(log.map((r) => r.seq)).toEqual(Array.from({ length: n + 1 }, (_, i) => i + 1));

    let seen = 0;
    for await (const r of store.logStream('s')) {
      expect(E.isRight(r)).toBe(true);
      if (++seen === 10) break;
    }
    expect(seen).toBe(10);

    const reports = right(await store.verify('s'));
    expect(reports.map((r) => [r.ok, r.records, r.problems])).toEqual([[true, n + 1, []]]);
    const again = right(await store.load('s'));
    expect(again.seq).toBe(n + 1);
    right(await store.close());
  });
});
