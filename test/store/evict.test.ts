/**
 * `store.evict(id)` drops the cached latest state of a session: its next use
 * loads the newest snapshot (messages read lazily) plus the records after it,
 * and appends continue exactly as without the eviction.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { vecUnloadedLeaves } from '../../src/transcript/index.ts';
import { appendCmd, cleanupDirs, openStore, right, tempDir } from './helpers.ts';

afterEach(cleanupDirs);

describe('evict', () => {
  it('the next load is cold (unloaded message leaves), appends continue with the same records as without evicting', async () => {
    const run = async (evict: boolean) => {
      const store = await openStore(tempDir('evict'));
      try {
        right(await store.create({ id: 's' }));
        let seq = 1;
        for (let i = 0; i < 1300; i += 100) {
          seq = right(await store.append('s', Array.from({ length: 100 }, (_, j) => appendCmd(i + j)), { expectedSeq: seq })).session.seq;
          if (evict && i === 1100) store.evict('s');
        }
        const warm = right(await store.load('s'));
        if (evict) store.evict('s');
        const loaded = right(await store.load('s'));
        store.evict('unknown');
        right(await store.append('s', [appendCmd(9999)], { expectedSeq: seq }));
        const log = right(await store.log('s')).map((r) => JSON.stringify(r.command));
        return { unloaded: vecUnloadedLeaves(loaded.state.transcript.messages), warmUnloaded: vecUnloadedLeaves(warm.state.transcript.messages), revision: loaded.transcriptRevision(), log, ok: right(await store.verify()).every((r) => r.ok) };
      } finally {
        right(await store.close());
      }
    };
    const plain = await run(false);
    const evicted = await run(true);
    expect(plain.warmUnloaded).toBe(0);
    expect(evicted.unloaded).toBeGreaterThan(0);
    expect(evicted.revision).toBe(plain.revision);
    expect(evicted.log).toEqual(plain.log);
    expect(evicted.ok).toBe(true);
  });
});
