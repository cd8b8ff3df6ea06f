/**
 * Head anchors: `store.anchor()` / `palimpsest anchor`, `verifyAnchors` /
 * `verify --anchors FILE`, and `onCommit`. The case anchors exist for: the last
 * records are deleted and the header rewritten to match the shorter log, so
 * the store is self-consistent and `verify` alone passes, while the anchor
 * names the session and seq that disappeared.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { anchorLine, parseAnchors, type AnchorHead } from '../../src/store/index.ts';
import { headerOf } from '../../src/store/io.ts';
import { cliJson } from '../cli/helpers.ts';
import { appendMessages, cleanupDirs, openStore, recordKey, right, tempDir, withRawDb } from './helpers.ts';

afterEach(cleanupDirs);

/** A store with `a` (10 records) and `b` (4 records); returns its directory and the state of `a` after record 7. */
const build = async (): Promise<{ dir: string; headerAt7: string }> => {
  const dir = tempDir('anchors');
  const store = await openStore(dir);
  right(await store.create({ id: 'a' }));
  right(await store.create({ id: 'b' }));
  await appendMessages(store, 'a', 0, 9);
  await appendMessages(store, 'b', 0, 3);
  const at7 = right(await store.load('a', { atSeq: 7 }));
  right(await store.close());
  return { dir, headerAt7: JSON.stringify(headerOf(at7.state, undefined)) };
};

/** Deletes records 8..10 of `a` and their revision-index keys, and rewrites its header as of record 7. */
const truncate = (dir: string, headerAt7: string): Promise<void> =>
  withRawDb(dir, async (db) => {
    for (let seq = 8; seq <= 10; seq++) await db.del(recordKey('a', seq));
    for await (const k of db.keys({ gte: 'V/a/', lt: 'V/a0' })) if (Number(k.slice(k.lastIndexOf('/') + 1)) > 7) await db.del(k);
    await db.put('S/a', headerAt7);
  });

describe('head anchors', () => {
  it('anchor() lists every head in id order with a digest; the line parses back; an edited line is refused', async () => {
    const { dir } = await build();
    const store = await openStore(dir);
    try {
      const a = right(await store.anchor());
      const heads = right(await store.list()).map((s) => ({ sessionId: s.sessionId, seq: s.lastSeq }));
      expect(a.heads.map((h) => ({ sessionId: h.sessionId, seq: h.seq }))).toEqual(heads);
      expect(a.heads.map((h) => h.sessionId)).toEqual(['a', 'b']);
      expect(a.heads[0]!.hash).toBe(right(await store.load('a')).head);
      const line = anchorLine(a);
      expect(line).not.toContain('\n');
      expect(parseAnchors(`${line}\n${line}\n`)).toEqual(E.right([a, a]));
      expect(right(await store.verifyAnchors([a]))).toEqual([]);
      const edited = line.replace('"seq":10', '"seq":9');
      expect(edited).not.toBe(line);
      expect(parseAnchors(edited)).toMatchObject({ _tag: 'Left', left: { _tag: 'InvalidAnchor', line: 1 } });
      // An anchor stays valid as the store grows.
      await appendMessages(store, 'a', 9, 2);
      expect(right(await store.verifyAnchors([a]))).toEqual([]);
    } finally {
      right(await store.close());
    }
  });

  it('onCommit receives the head of every committed batch', async () => {
    const heads: AnchorHead[] = [];
    const store = await openStore(tempDir('oncommit'), { onCommit: (h) => heads.push(h) });
    try {
      right(await store.create({ id: 'x' }));
      await appendMessages(store, 'x', 0, 2, 2);
      right(await store.fork('x', { id: 'y' }));
      right(await store.append('x', [{ type: 'session_touched' }], { expectedSeq: 3 }));
      // An inert batch commits nothing.
      right(await store.append('x', [{ type: 'metadata_removed', key: 'absent' }], { expectedSeq: 4 }));
      const x = right(await store.load('x'));
      const y = right(await store.load('y'));
      expect(heads.map((h) => [h.sessionId, h.seq])).toEqual([
        ['x', 1],
        ['x', 3], // two records in one batch: one head
        ['y', 1],
        ['x', 4],
      ]);
      expect(heads[3]!.hash).toBe(x.head);
      expect(heads[2]!.hash).toBe(y.head);
      // A throwing callback does not fail a durable write.
      const store2Dir = tempDir('oncommit-throws');
      const s2 = await openStore(store2Dir, {
        onCommit: () => {
          throw new Error('shipping failed');
        },
      });
      expect(E.isRight(await s2.create({ id: 'z' }))).toBe(true);
      right(await s2.close());
    } finally {
      right(await store.close());
    }
  });

  it('a truncation with a consistent header passes verify but not verify against the anchor, which names the seq', async () => {
    const { dir, headerAt7 } = await build();
    let store = await openStore(dir);
    const anchor = right(await store.anchor());
    right(await store.close());
    await truncate(dir, headerAt7);

    store = await openStore(dir);
    try {
      const reports = right(await store.verify());
      expect(reports.map((r) => [r.sessionId, r.ok, r.records])).toEqual([
        ['a', true, 7],
        ['b', true, 4],
      ]);
      expect(right(await store.load('a')).seq).toBe(7);
      expect(right(await store.verifyAnchors([anchor]))).toEqual([
        { sessionId: 'a', seq: 10, kind: 'missing_record', reason: expect.stringContaining('record 10 of a was anchored and is gone') },
      ]);
    } finally {
      right(await store.close());
    }
  });

  it('the CLI: anchor --out appends a line; verify passes, verify --anchors exits 1 naming session and seq', async () => {
    const { dir, headerAt7 } = await build();
    const cwd = nodePath.dirname(dir);
    const file = nodePath.join(tempDir('anchor-file'), 'heads.jsonl');
    const a1 = await cliJson(['--store', dir, 'anchor', '--out', file], cwd);
    expect(a1.code).toBe(0);
    expect(a1.json.sessions).toBe(2);
    const printed = await cliJson(['--store', dir, 'anchor'], cwd);
    expect(printed.json).toEqual(a1.json.anchor);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${anchorLine(a1.json.anchor)}\n`);
    const ok = await cliJson(['--store', dir, 'verify', '--anchors', file], cwd);
    expect(ok.code).toBe(0);
    expect(ok.json.anchors).toMatchObject({ lines: 1, problems: [] });

    await truncate(dir, headerAt7);
    const plain = await cliJson(['--store', dir, 'verify'], cwd);
    expect(plain.code).toBe(0);
    const anchored = await cliJson(['--store', dir, 'verify', '--anchors', file], cwd);
    expect(anchored.code).toBe(1);
    expect(anchored.json.ok).toBe(false);
    expect(anchored.json.anchors.problems).toEqual([expect.objectContaining({ sessionId: 'a', seq: 10, kind: 'missing_record' })]);
    fs.appendFileSync(file, 'not json\n');
    const bad = await cliJson(['--store', dir, 'verify', '--anchors', file], cwd);
    expect(bad.code).toBe(1);
    expect(bad.json.error).toMatchObject({ _tag: 'InvalidAnchor', line: 2 });
  });
});
