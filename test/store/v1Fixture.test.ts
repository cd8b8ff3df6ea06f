/**
 * A store written by the record-format v1 code (`fixtures/v1-store`, made by
 * `fixtures/makeV1Store.ts` at commit af675f4) still opens, verifies and loads
 * with the digests it was written with.
 */
import * as nodePath from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupDirs, copyToTempDir, openStore, right } from './helpers.ts';

const FIXTURE = nodePath.join(import.meta.dirname, 'fixtures', 'v1-store');

/** A copy of the fixture (opening a LevelDB database writes to it). */
const copyFixture = (): string => copyToTempDir(FIXTURE, 'v1');

afterEach(cleanupDirs);

describe('a record-format v1 store', () => {
  it('opens, verifies every session and loads the heads it was written with; reads it as v1 and appends v2 after it', async () => {
    const store = await openStore(copyFixture());
    try {
      const reports = right(await store.verify());
      expect(reports.map((r) => [r.sessionId, r.ok])).toEqual([
        ['root', true],
        ['child', true],
      ]);
      const root = right(await store.load('root'));
      expect(root.seq).toBe(15);
      expect(root.transcriptRevision()).toBe('sha256:79a0dcb54f4e3d7350f7846c6d895e97c392c1505658ce3a895f3e480c85a56e');
      expect(root.messages).toHaveLength(10);
      expect(root.metadata).toMatchObject({ project: 'fixture', 'pi.cwd': '/home/user', title: 'v1 fixture' });
      const child = right(await store.load('child'));
      expect(child.transcriptRevision()).toBe('sha256:c4c1c2c872f947e23fa6f15bbe1078bc3f8d387551095032e85adc1d00ccb423');
      const log = right(await store.log('root'));
      expect(log).toHaveLength(15);
      expect(new Set(log.map((r) => r.v))).toEqual(new Set([1]));
      // Never rewritten: a new record is v2, the old ones stay v1, and the session still verifies.
      const next = right(await store.append('child', [{ type: 'metadata_set', key: 'after', value: 'v2' }], { expectedSeq: child.seq }));
      expect(next.records.map((r) => r.v)).toEqual([2]);
      expect(right(await store.log('child')).map((r) => r.v)).toEqual([1, 1, 2]);
      expect(right(await store.verify('child'))[0]!.ok).toBe(true);
    } finally {
      right(await store.close());
    }
  });
});
