/**
 * Labels (src/store/labels.ts): named references to a record, recorded as
 * commands, so they replay, verify and fork; resolving one checks it against
 * the log.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { deleteLabel, labelsOf, resolveLabel, setLabel } from '../../src/store/labels.ts';
import { appendMessages, cleanupDirs, left, openStore, right, tempDir } from './helpers.ts';

afterAll(cleanupDirs);

describe('labels', () => {
  it('set at a seq or a revision, resolve, list, delete; each change is one recorded command', async () => {
    const store = await openStore(tempDir());
    try {
      right(await store.create({ id: 's' }));
      await appendMessages(store, 's', 0, 6);
      const at3 = right(await store.load('s', { atSeq: 3 }));
      const a = right(await setLabel(store, 's', 'checkpoint-1', { seq: 3 }));
      expect(a.target).toEqual({ sessionId: 's', seq: 3, revision: at3.transcriptRevision() });
      expect(a.session.seq).toBe(8);
      const b = right(await setLabel(store, 's', 'by revision', { revision: at3.transcriptRevision() }));
      expect(b.target.seq).toBe(3);
      right(await setLabel(store, 's', 'head'));
      expect(right(await resolveLabel(store, 's', 'head')).seq).toBe(9);
      expect(labelsOf(right(await store.load('s')).metadata).map((l) => [l.name, l.seq])).toEqual([
        ['by revision', 3],
        ['checkpoint-1', 3],
        ['head', 9],
      ]);
      const log = right(await store.log('s'));
      expect(log.slice(7).map((r) => r.command.type)).toEqual(['metadata_set', 'metadata_set', 'metadata_set']);
      right(await deleteLabel(store, 's', 'head'));
      expect(left(await resolveLabel(store, 's', 'head'))._tag).toBe('LabelNotFound');
      expect(left(await deleteLabel(store, 's', 'head'))._tag).toBe('LabelNotFound');
      expect(left(await setLabel(store, 's', 'bad\nname'))._tag).toBe('InvalidLabel');
      expect(left(await setLabel(store, 's', ''))._tag).toBe('InvalidLabel');
      expect(left(await setLabel(store, 's', 'x', { seq: 99 }))._tag).toBe('SeqOutOfRange');
      // Replays and verifies like every other record; a fork keeps the labels it was forked with.
      expect(right(await store.verify()).every((r) => r.ok)).toBe(true);
      right(await store.fork('s', { id: 'c' }));
      expect(right(await resolveLabel(store, 'c', 'checkpoint-1'))).toMatchObject({ sessionId: 's', seq: 3 });
    } finally {
      await store.close();
    }
  });

  it('a label whose recorded revision disagrees with the log fails closed', async () => {
    const store = await openStore(tempDir());
    try {
      right(await store.create({ id: 's' }));
      await appendMessages(store, 's', 0, 3);
      const wrong = right(await store.load('s', { atSeq: 2 })).transcriptRevision();
      right(await store.append('s', [{ type: 'metadata_set', key: 'label:forged', value: { sessionId: 's', seq: 3, revision: wrong } }], { expectedSeq: 4 }));
      expect(left(await resolveLabel(store, 's', 'forged'))).toMatchObject({ _tag: 'LabelMismatch', name: 'forged' });
    } finally {
      await store.close();
    }
  });
});
