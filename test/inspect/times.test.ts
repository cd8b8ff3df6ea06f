/**
 * Original times of pi imports (`src/inspect/times.ts`, the blobs of
 * `adapters/pi/provenance.ts`) on a real LevelDB store: both layouts (the
 * single v1 blob, a v2 manifest of parts) read back exactly what was written,
 * parts that do not belong to the session, start elsewhere, are missing or do
 * not add up fail closed, and a real import longer than one part is stored as
 * parts whose times are pi's.
 */
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Json } from '../../src/model/json.ts';
import type { BlobId } from '../../src/model/scalars.ts';
import { importPiFile } from '../../src/adapters/pi/index.ts';
import { PI_IMPORTED_KEY, PI_IMPORT_KEY, PI_TIMES_PART, parseTimesIndex, piTimesBlobOf, piTimesBlobs, type PiTimesBlob } from '../../src/adapters/pi/provenance.ts';
import { originalTimes } from '../../src/inspect/times.ts';
import type { SessionStore } from '../../src/store/index.ts';
import { writeGeneratedPiFile } from '../adapters/pi/generate.ts';
import { cleanupDirs, openStore, right, tempDir } from '../store/helpers.ts';

let store: SessionStore;
let dir = '';

beforeAll(async () => {
  dir = tempDir('inspect-times');
  store = await openStore(dir);
});

afterAll(async () => {
  await store.close();
  cleanupDirs();
});

/** Metadata of a complete import of session `sid` whose `pi.imported` names the times blob `times`. */
const completed = (sid: string, times: BlobId): Record<string, Json> => ({
  [PI_IMPORT_KEY]: { source: `sha256:${'1'.repeat(64)}`, digest: `sha256:${'2'.repeat(64)}`, file: 'f.jsonl', sessions: [sid] },
  [PI_IMPORTED_KEY]: { sessionId: sid, leafLine: 3, messages: 2, revision: `sha256:${'3'.repeat(64)}`, times },
});

const put = async (blobs: Iterable<PiTimesBlob>): Promise<BlobId[]> => {
  const ids: BlobId[] = [];
  for (const b of blobs) {
    expect(right(await store.putBlob(b.mediaType, b.bytes))).toBe(b.id);
    ids.push(b.id);
  }
  return ids;
};

const putJson = async (v: Json): Promise<BlobId> => right(await store.putBlob('application/json', new TextEncoder().encode(JSON.stringify(v))));

const timesOf = (n: number, seed = 0): number[] => Array.from({ length: n }, (_, i) => 1_735_689_600_000 + seed + i * 1_000 + (i % 3 === 0 ? 0.5 : 0));

describe('the original-times blobs', () => {
  it('are the single v1 blob up to one part, else parts of at most `part` times then their manifest', () => {
    const t = timesOf(7);
    const single = [...piTimesBlobs('pi:a', 3, (i) => t[i]!, 3)];
    expect(single.map((b) => b.id)).toEqual([piTimesBlobOf('pi:a', 3, (i) => t[i]!).id]);
    const blobs = [...piTimesBlobs('pi:a', 7, (i) => t[i]!, 3)];
    expect(blobs).toHaveLength(4);
    const decode = (b: PiTimesBlob): unknown => JSON.parse(new TextDecoder().decode(b.bytes));
    expect(blobs.slice(0, 3).map(decode)).toEqual([
      { v: 2, sessionId: 'pi:a', from: 0, times: t.slice(0, 3) },
      { v: 2, sessionId: 'pi:a', from: 3, times: t.slice(3, 6) },
      { v: 2, sessionId: 'pi:a', from: 6, times: t.slice(6) },
    ]);
    expect(decode(blobs[3]!)).toEqual({ v: 2, sessionId: 'pi:a', count: 7, parts: blobs.slice(0, 3).map((b) => b.id) });
    expect(parseTimesIndex('pi:a', blobs[3]!.bytes)).toEqual({ kind: 'parts', count: 7, parts: blobs.slice(0, 3).map((b) => b.id) });
    expect(parseTimesIndex('pi:b', blobs[3]!.bytes)).toBeUndefined();
    expect(() => [...piTimesBlobs('pi:a', 7, (i) => t[i]!, 0)]).toThrow(RangeError);
    // The default part keeps a part under 256 KiB even for the longest JSON numbers.
    expect(PI_TIMES_PART * 25).toBeLessThan(256 * 1024);
  });

  it('read back as written in both layouts', async () => {
    for (const [sid, n, part] of [['pi:v1', 5, 8], ['pi:v2', 20, 6], ['pi:exact', 12, 4]] as const) {
      const t = timesOf(n, n);
      const ids = await put(piTimesBlobs(sid, n, (i) => t[i]!, part));
      expect(right(await originalTimes(store, sid, completed(sid, ids[ids.length - 1]!)))).toEqual(t);
    }
  });

  it('fail closed on parts of another session, out of place, missing, or not adding up to the count', async () => {
    const sid = 'pi:tamper';
    const t = timesOf(10);
    const ids = await put(piTimesBlobs(sid, 10, (i) => t[i]!, 4));
    const parts = ids.slice(0, 3);
    const other = await put(piTimesBlobs('pi:other', 10, (i) => t[i]!, 4));
    const cases: Array<[string, Json, string]> = [
      ['a part of another session', { v: 2, sessionId: sid, count: 10, parts: [parts[0]!, other[1]!, parts[2]!] }, 'CorruptBlob'],
      ['parts out of order', { v: 2, sessionId: sid, count: 10, parts: [parts[1]!, parts[0]!, parts[2]!] }, 'CorruptBlob'],
      ['a part missing from the list', { v: 2, sessionId: sid, count: 10, parts: [parts[0]!, parts[1]!] }, 'CorruptBlob'],
      ['a count above the parts', { v: 2, sessionId: sid, count: 11, parts }, 'CorruptBlob'],
      ['a count below the parts', { v: 2, sessionId: sid, count: 9, parts }, 'CorruptBlob'],
      ['a part not stored', { v: 2, sessionId: sid, count: 10, parts: [parts[0]!, `sha256:${'9'.repeat(64)}`, parts[2]!] }, 'BlobNotFound'],
      ['a manifest of another session', { v: 2, sessionId: 'pi:other', count: 10, parts }, 'CorruptBlob'],
      ['an unknown version', { v: 3, sessionId: sid, count: 10, parts }, 'CorruptBlob'],
    ];
    for (const [what, manifest, tag] of cases) {
      const r = await originalTimes(store, sid, completed(sid, await putJson(manifest)));
      expect(E.isLeft(r) ? r.left._tag : `read ${JSON.stringify(r.right)}`, what).toBe(tag);
    }
    expect(right(await originalTimes(store, sid, completed(sid, ids[3]!)))).toEqual(t);
  });

  it('of an import longer than one part are parts holding pi\'s times, one per record', async () => {
    const file = nodePath.join(dir, '..', `times-${process.pid}.jsonl`);
    // ~1.5 records a message: more records than one part holds.
    await writeGeneratedPiFile(file, { messages: Math.ceil(PI_TIMES_PART / 1.4), textChars: 10 });
    const imported = right(await importPiFile(store, file));
    const s = imported.sessions[0]!;
    expect(s.records).toBeGreaterThan(PI_TIMES_PART);
    const head = right(await store.load(s.sessionId));
    const named = (head.metadata[PI_IMPORTED_KEY] as { times: BlobId }).times;
    const index = parseTimesIndex(s.sessionId, right(await store.getBlob(named)).bytes);
    expect(index).toMatchObject({ kind: 'parts', count: s.records });
    const times = right(await originalTimes(store, s.sessionId, head.metadata));
    expect(times).toHaveLength(s.records);
    // The genesis carries the header's time (the generator's t0, seed 1); the generator's entries are 1 s apart, so each
    // record's time follows the previous one's by a few seconds at most, across the parts' boundaries too.
    expect(times![0]).toBe(Date.UTC(2025, 0, 1) + 1_000);
    const steps = times!.slice(1).map((t, i) => t - times![i]!);
    expect(Math.min(...steps)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...steps)).toBeLessThanOrEqual(10_000);
    expect(new Set(times).size).toBeGreaterThan(PI_TIMES_PART / 2);
  }, 300_000);
});
