/**
 * A store written by the record-format v1 code (`fixtures/v1-store`, made by
 * `fixtures/makeV1Store.ts` at commit af675f4) still opens, verifies and loads
 * with the digests it was written with.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupDirs, openStore, right, tempDir } from './helpers.ts';

const FIXTURE = nodePath.join(import.meta.dirname, 'fixtures', 'v1-store');

/** A copy of the fixture (opening a LevelDB database writes to it). */
const copyFixture = (): string => {
  const dir = tempDir('v1');
  fs.cpSync(FIXTURE, dir, { recursive: true });
  return dir;
};

afterEach(cleanupDirs);

describe('a record-format v1 store', () => {
  it('opens, verifies every session and loads the heads it was written with', async () => {
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
      expect(right(await store.log('root'))).toHaveLength(15);
    } finally {
      right(await store.close());
    }
  });
});
