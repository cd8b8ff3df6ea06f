/**
 * `store.update(id, plan)`: the plan runs on the latest session inside the
 * writer lock and its records are written as they are (reduced once, by the
 * plan: the very record objects come back); a session not derived from the one
 * given is refused; `expectedSeq` guards it like `append`; typed commands give
 * typed `append` results; `snapshot: true` writes a snapshot at the new head
 * in the same batch (both backends), so a load after `evict` replays nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import * as commands from '../../src/session/builders.ts';
import type { LogRecord } from '../../src/session/record.ts';
import { userText } from '../../src/model/index.ts';
import { cleanupDirs, left, openStore, right, snapshotKey, tempDir } from './helpers.ts';
import { backends } from './backends.ts';

afterEach(async () => {
  cleanupDirs();
  for (const b of backends) await b.cleanup();
});

describe('store.update', () => {
  it('writes the records the plan made, as they are, and returns its result', async () => {
    const store = await openStore(tempDir());
    right(await store.create({ id: 's' }));
    let made: readonly LogRecord[] = [];
    const r = right(
      await store.update('s', (s) => {
        const a = s.push(userText('hi'));
        if (E.isLeft(a)) return a;
        const b = a.right.setMetadata('k', 'v');
        if (E.isLeft(b)) return b;
        made = b.right.log;
        return E.right({ session: b.right, result: 42 });
      }),
    );
    expect(r.result).toBe(42);
    expect(r.records).toHaveLength(2);
    r.records.forEach((rec, i) => expect(rec).toBe(made[i])); // the plan's own records: nothing reduced again
    const stored = right(await store.log('s'));
    expect(stored.map((x) => x.hash)).toEqual([stored[0]!.hash, ...made.map((x) => x.hash)]);
    expect(right(await store.verify('s'))[0]!.ok).toBe(true);
    right(await store.close());
  });

  it('refuses a session that does not derive from the latest, a stale expectedSeq, and passes a Left through', async () => {
    const store = await openStore(tempDir());
    const other = right(await store.create({ id: 'o' }));
    right(await store.create({ id: 's' }));
    expect(left(await store.update('s', () => E.right({ session: right(other.push(userText('x'))), result: 0 })))._tag).toBe('InvalidArgument');
    expect(left(await store.update('s', (s) => E.right({ session: s, result: 0 }), { expectedSeq: 5 }))._tag).toBe('SeqConflict');
    const mine = { _tag: 'Mine', message: 'no' } as const;
    expect(left(await store.update('s', () => E.left(mine)))).toBe(mine);
    expect(right(await store.load('s')).seq).toBe(1);
    right(await store.close());
  });

  it('append of typed commands has typed results; concurrent updates lose nothing', async () => {
    const store = await openStore(tempDir());
    right(await store.create({ id: 's' }));
    const a = right(await store.append('s', [commands.usageRecorded({ inputTokens: 1, outputTokens: 2 }), commands.metadataBackfilled('k', 1)], { expectedSeq: 1 }));
    const [usage, written] = a.results;
    expect(usage.outputTokens).toBe(2);
    expect(written).toBe(true);
    const n = 20;
    await Promise.all(
      Array.from({ length: n }, () =>
        store.update('s', (s) => s.apply(commands.metadataSet('n', (s.metadata['n'] as number | undefined ?? 0) + 1))),
      ),
    );
    expect(right(await store.load('s')).metadata['n']).toBe(n);
    right(await store.close());
  });
});

describe.each(backends)('store.update with snapshot: true on $name', (b) => {
  it('writes a snapshot at the new head with the records, so a load after evict replays none; without it, none is written', async () => {
    const t = b.fresh();
    const store = await b.open(t); // the default snapshotEvery (1,000): no snapshot is due
    right(await store.create({ id: 's' }));
    right(await store.update('s', (s) => s.apply(commands.metadataSet('a', 1)), { expectedSeq: 1 }));
    right(await store.update('s', (s) => E.map((next: typeof s) => ({ session: next, result: 0 }))(s.push(userText('kept'))), { expectedSeq: 2, snapshot: true }));
    // An update that adds no record writes nothing, snapshot or not.
    right(await store.update('s', (s) => E.right({ session: s, result: 0 }), { snapshot: true }));
    store.evict('s');
    const loaded = right(await store.load('s'));
    expect(loaded.seq).toBe(3);
    expect(loaded.log).toHaveLength(0); // loaded from the snapshot at seq 3: no record replayed
    expect(loaded.metadata['a']).toBe(1);
    expect(right(loaded.readMessages())).toMatchObject([{ role: 'user', content: [{ type: 'text', text: 'kept' }] }]);
    expect(right(await store.verify('s'))[0]!.ok).toBe(true);
    expect(left(await store.update('s', (s) => E.right({ session: s, result: 0 }), { snapshot: 'yes' as unknown as boolean }))._tag).toBe('InvalidArgument');
    right(await store.close());
    expect(await b.get(t, snapshotKey('s', 3))).toBeDefined();
    expect(await b.get(t, snapshotKey('s', 2))).toBeUndefined();
    expect(JSON.parse((await b.get(t, 'S/s'))!).snapshot).toBe(3);
  });
});
