/**
 * The inspector's labels on a real LevelDB store: listing and resolving labels
 * set by `setLabel` (checked against the log), a label a fork inherited (shown
 * on its parent, resolved to the parent's record), a label that disagrees with
 * the log (fail closed: `LabelMismatch`, never a point), and the original
 * times of a pi import in the log and timeline views.
 */
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importPiFile } from '../../src/adapters/pi/index.ts';
import type { SessionStore } from '../../src/store/index.ts';
import { labelCommand, setLabel } from '../../src/store/labels.ts';
import { comparePoints, listLabels, loadPoint, resolveStoreLabel, storeLabelSource } from '../../src/inspect/index.ts';
import { lineageView, logPage, timelineView } from '../../src/inspect/api.ts';
import { apiReply } from '../../src/inspect/handler.ts';
import { writeGeneratedPiFile } from '../adapters/pi/generate.ts';
import { appendMessages, cleanupDirs, openStore, right, tempDir } from '../store/helpers.ts';

let store: SessionStore;
let dir = '';

/** root: 12 messages one per record (seq 2..13); label `checkpoint` names seq 5 (recorded at seq 14); child forked from root's head, then 3 messages. */
beforeAll(async () => {
  dir = tempDir('inspect-labels');
  store = await openStore(dir);
  right(await store.create({ id: 'root' }));
  await appendMessages(store, 'root', 0, 12);
  right(await setLabel(store, 'root', 'checkpoint', { seq: 5 }));
  right(await store.fork('root', { id: 'child' }));
  await appendMessages(store, 'child', 100, 3);
});

afterAll(async () => {
  await store.close();
  cleanupDirs();
});

const revisionAt = async (sid: string, seq: number): Promise<string> => right(await store.load(sid, { atSeq: seq })).transcriptRevision();

/** Appends a `label:<name>` value directly (what a buggy or hostile writer could record). */
const forge = async (sid: string, name: string, value: Parameters<typeof labelCommand>[1]): Promise<void> => {
  const head = right(await store.load(sid));
  right(await store.append(sid, [labelCommand(name, value)], { expectedSeq: head.seq }));
};

describe('storeLabelSource', () => {
  it('lists a label with the record and revision it names, checked against the log', async () => {
    const l = right(await listLabels(store, 'root'));
    expect(l).toEqual([{ status: 'ok', label: 'checkpoint', setOn: 'root', sessionId: 'root', seq: 5, revision: await revisionAt('root', 5) }]);
    expect(right(await resolveStoreLabel(store, 'root', 'checkpoint'))).toEqual({ sessionId: 'root', seq: 5 });
    expect(right(await resolveStoreLabel(store, 'root', 'nope'))).toBeUndefined();
  });

  it('a label the fork inherited names the parent record: listed on the parent in the lineage, resolved there, diffed from the child', async () => {
    const l = right(await listLabels(store, 'child'));
    expect(l).toEqual([{ status: 'ok', label: 'checkpoint', setOn: 'child', sessionId: 'root', seq: 5, revision: await revisionAt('root', 5) }]);
    expect(right(await resolveStoreLabel(store, 'child', 'checkpoint'))).toEqual({ sessionId: 'root', seq: 5 });
    const at = right(await loadPoint(store, 'child', { kind: 'label', label: 'checkpoint' }, storeLabelSource.resolve));
    expect([at.id, at.seq, at.messageCount]).toEqual(['root', 5, 4]);
    const g = right(await lineageView(store));
    expect(g.labels).toEqual([{ status: 'ok', label: 'checkpoint', setOn: 'root', sessionId: 'root', seq: 5, revision: await revisionAt('root', 5) }]);
    const c = right(await comparePoints(store, 'child', { kind: 'label', label: 'checkpoint' }, { kind: 'head' }));
    expect(c.comparison.a).toMatchObject({ sessionId: 'root', seq: 5, messages: 4 });
    expect(c.comparison.b.sessionId).toBeUndefined();
    expect(c.comparison.diff.counts).toEqual({ kept: 4, removed: 0, added: 11, replaced: 0, replacements: 0 });
  });

  it('the timeline and the log carry the labels; the log row of the labelled seq is named', async () => {
    const t = right(await timelineView(store, 'root'));
    expect(t.labels.map((l) => l.label)).toEqual(['checkpoint']);
    expect(t.annotationsError).toBeUndefined();
    const p = right(await logPage(store, 'root', 1, 10));
    expect(p.labels.map((l) => (l.status === 'ok' ? [l.label, l.seq] : []))).toEqual([['checkpoint', 5]]);
  });

  it('fails closed on a label whose revision disagrees with the log, names a record not in the log, or is malformed', async () => {
    await forge('root', 'forged', { sessionId: 'root', seq: 3, revision: (await revisionAt('root', 6)) as never });
    await forge('root', 'beyond', { sessionId: 'root', seq: 9999, revision: (await revisionAt('root', 6)) as never });
    const head = right(await store.load('root'));
    right(await store.append('root', [{ type: 'metadata_set', key: 'label:junk', value: 'seq 4' }], { expectedSeq: head.seq }));

    const l = right(await listLabels(store, 'root'));
    expect(l.map((x) => [x.label, x.status, x.status === 'mismatch' ? x.error._tag : x.seq])).toEqual([
      ['beyond', 'mismatch', 'LabelMismatch'],
      ['checkpoint', 'ok', 5],
      ['forged', 'mismatch', 'LabelMismatch'],
      ['junk', 'mismatch', 'LabelMismatch'],
    ]);
    // A label naming a session that is not an ancestor, or an ancestor's record past the fork point.
    right(await store.create({ id: 'stranger' }));
    await appendMessages(store, 'stranger', 0, 4);
    await forge('child', 'elsewhere', { sessionId: 'stranger', seq: 3, revision: (await revisionAt('stranger', 3)) as never });
    const forkPoint = right(await store.lineage('child'))[0]!.forkedAt!.seq;
    await forge('child', 'later', { sessionId: 'root', seq: forkPoint + 1, revision: (await revisionAt('root', forkPoint + 1)) as never });
    const c = right(await listLabels(store, 'child'));
    expect(c.map((x) => [x.label, x.status])).toEqual([
      ['checkpoint', 'ok'],
      ['elsewhere', 'mismatch'],
      ['later', 'mismatch'],
    ]);
    expect(c[1]!.status === 'mismatch' && c[1]!.error.message).toMatch(/not this session or one of its ancestors/);
    expect(c[2]!.status === 'mismatch' && c[2]!.error.message).toMatch(/past the fork point/);
    for (const name of ['forged', 'beyond', 'junk']) {
      const r = await resolveStoreLabel(store, 'root', name);
      expect(E.isLeft(r) && r.left._tag).toBe('LabelMismatch');
      const p = await loadPoint(store, 'root', { kind: 'label', label: name }, storeLabelSource.resolve);
      expect(E.isLeft(p) && p.left._tag).toBe('LabelMismatch');
    }
    const forged = await resolveStoreLabel(store, 'root', 'forged');
    expect(E.isLeft(forged) && forged.left.message).toMatch(/records revision sha256:[0-9a-f]{64} at root seq 3, but the log has sha256:[0-9a-f]{64} there/);
    // The API answers a diff from such a label with the typed error, never with data.
    const reply = await apiReply('diff', new URLSearchParams({ session: 'root', a: 'label:forged', b: 'head' }), store, storeLabelSource);
    expect(reply.status).toBe(500);
    expect('json' in reply && (reply.json as { error: { _tag: string } }).error._tag).toBe('LabelMismatch');
    // The timeline lists it as a mismatch, without a seq or revision to follow.
    const t = right(await timelineView(store, 'root'));
    const shown = t.labels.find((x) => x.label === 'forged');
    expect(shown).toMatchObject({ status: 'mismatch', setOn: 'root', error: { _tag: 'LabelMismatch' } });
    expect(shown).not.toHaveProperty('seq');
  });
});

describe('original times of an import', () => {
  it('the log rows and the timeline nodes carry pi\'s times; the record time stays the import time', async () => {
    const d = tempDir('inspect-times');
    const s = await openStore(d);
    try {
      const file = nodePath.join(d, '..', `gen-${process.pid}.jsonl`);
      await writeGeneratedPiFile(file, { messages: 40, textChars: 10 });
      const imported = right(await importPiFile(s, file));
      const sid = imported.sessions[0]!.sessionId;
      const p = right(await logPage(s, sid, 1, 50));
      expect(p.annotationsError).toBeUndefined();
      const withTimes = p.rows.filter((r) => r.originalAt !== undefined);
      expect(withTimes.length).toBeGreaterThan(10);
      for (const r of withTimes) expect(r.originalAt).not.toBe(r.at);
      const t = right(await timelineView(s, sid));
      expect(t.nodes.filter((n) => n.originalAt !== undefined).length).toBeGreaterThan(5);
      // The generator labels turn 7: an imported pi label is listed like any other.
      expect(t.labels.map((l) => [l.label, l.status])).toEqual([['turn-7', 'ok']]);
    } finally {
      await s.close();
    }
  });
});
