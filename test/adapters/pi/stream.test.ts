/**
 * The streamed import path (`scan.ts`, `spill.ts`, `readPiPlan`) gives exactly
 * what the in-memory one (`parsePiJsonl` → `planPiImport`, `piSourceBlobs`)
 * gives: the same sessions, fork points, labels and ops, the same parse errors
 * (file, line, reason) and warnings, the same digest and source chunks; a file
 * rewritten between the scan and the write is `PiFileChanged`, with nothing
 * written.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, describe, expect, it } from 'vitest';
import { readPiPlan, writePiPlan, type PiFilePlan } from '../../../src/adapters/pi/store.ts';
import { parsePiJsonl } from '../../../src/adapters/pi/parse.ts';
import { PI_SOURCE_CHUNK_BYTES, PI_SOURCE_CHUNK_TYPE, piSourceBlobs, sourceChunkRanges } from '../../../src/adapters/pi/source.ts';
import { blobValueHead } from '../../../src/store/blobs.ts';
import { openOpSpill, removeStaleSpills } from '../../../src/adapters/pi/spill.ts';
import { spawnSync } from 'node:child_process';
import type { PiPlanOp } from '../../../src/adapters/pi/plan.ts';
import { cleanupDirs, openStore, right, tempDir } from '../../store/helpers.ts';
import { at, importEither, importText, jsonl, piAssistant, piCall, piResult, piUser } from './helpers.ts';
import { generatePiText } from './generate.ts';

afterAll(cleanupDirs);

const REAL = fileURLToPath(new URL('../../../data/pi-large-session.jsonl', import.meta.url));

const writeFile = (name: string, text: string | Uint8Array): string => {
  const file = nodePath.join(tempDir('pi-stream'), name);
  fs.writeFileSync(file, text);
  return file;
};

const collect = async (ops: AsyncIterable<PiPlanOp>): Promise<PiPlanOp[]> => {
  const out: PiPlanOp[] = [];
  for await (const op of ops) out.push(op);
  return out;
};

/** Reads and plans `file` streamed, returns the plan with every session's ops read back, and closes it. */
const streamed = async (file: string) => {
  const r = await readPiPlan(file);
  if (E.isLeft(r)) return r;
  const p = r.right;
  try {
    const sessions = [];
    for (const [i, s] of p.plan.sessions.entries()) sessions.push({ ...s, ops: await collect(p.ops(i)) });
    return E.right({ plan: { sessions, report: p.plan.report }, digest: p.digest, bytes: p.bytes, chunks: p.source.scan.chunks.map((c) => c.id), manifest: p.source.manifest.id });
  } finally {
    p.close();
  }
};

const msg = (id: string, parentId: string | null, n: number, message: unknown) => ({ type: 'message', id, parentId, timestamp: at(n), message });
const header = (version: number) => ({ type: 'session', version, id: 'stream-1', timestamp: at(0), cwd: '/w' });

const tree = jsonl(
  header(3),
  msg('a1', null, 1, piUser('hello', 1)),
  msg('a2', 'a1', 2, piAssistant([piCall('c1', 'bash', { command: 'ls' })], 2, 'toolUse')),
  msg('a3', 'a2', 3, piResult('c1', 'x', 3)),
  msg('a4', 'a3', 4, piAssistant([{ type: 'text', text: 'done' }], 4)),
  { type: 'label', id: 'l1', parentId: 'a4', timestamp: at(5), targetId: 'a1', label: 'start' },
  msg('b1', 'a2', 6, piResult('c1', 'y', 6)),
  msg('b2', 'b1', 7, piAssistant([{ type: 'text', text: 'other' }], 7)),
  { type: 'compaction', id: 'k1', parentId: 'b2', timestamp: at(8), summary: 'sum', firstKeptEntryId: 'b1', tokensBefore: 10 },
  msg('b3', 'k1', 9, piUser('more', 9)),
  msg('c1x', 'a4', 10, piUser('third', 10)),
);

describe('the streamed plan', () => {
  const cases: Array<[string, () => string]> = [
    ['a tree with a label, a compaction and a branch inside a tool call', () => tree],
    ['a generated file with branches (chunks of 1 MiB)', () => generatePiText({ messages: 4_000, branches: 3, textChars: 600 })],
    ['the bundled real session (v1)', () => fs.readFileSync(REAL, 'utf8')],
    ['a half-written last line and a byte order mark', () => `\ufeff${tree}{"type":"mess`],
  ];
  for (const [name, text] of cases) {
    it(`equals the in-memory plan, digest and source chunks: ${name}`, async () => {
      const t = text();
      const file = writeFile('f.jsonl', t);
      const s = right(await streamed(file));
      const inMemory = importText(t, file);
      expect(s.plan).toEqual(inMemory);
      const bytes = fs.readFileSync(file);
      const blobs = piSourceBlobs(file, bytes);
      expect(s.digest).toBe(blobs.manifest.digest);
      expect(s.bytes).toBe(bytes.length);
      expect(s.chunks).toEqual(blobs.manifest.chunks);
      expect(s.manifest).toBe(blobs.id);
    });
  }

  it('cuts chunks where sourceChunkRanges does, long lines and a last line without newline included', async () => {
    const long = 'x'.repeat((1 << 20) + 10);
    const lines = [JSON.stringify(header(3)), ...Array.from({ length: 40 }, (_, i) => JSON.stringify(msg(`e${i}`, i === 0 ? null : `e${i - 1}`, i + 1, piUser(i % 13 === 5 ? long : 'y'.repeat(i * 9000), i + 1))))];
    for (const tail of ['\n', '']) {
      const t = lines.join('\n') + tail;
      const file = writeFile('chunks.jsonl', t);
      const s = right(await streamed(file));
      const bytes = fs.readFileSync(file);
      expect(s.chunks.length).toBe(sourceChunkRanges(bytes).length);
      expect(s.chunks).toEqual(piSourceBlobs(file, bytes).manifest.chunks);
    }
  });

  it('reads each chunk back as the bytes of the file, right after the stored head of a chunk blob, and the store names it by its id', async () => {
    const t = generatePiText({ messages: 6_000, branches: 1 });
    const file = writeFile('heads.jsonl', t);
    const bytes = fs.readFileSync(file);
    const plan = right(await readPiPlan(file));
    const store = await openStore(tempDir('pi-heads'));
    try {
      const { scan } = plan.source;
      const head = blobValueHead(PI_SOURCE_CHUNK_TYPE);
      expect(scan.chunks.length).toBeGreaterThan(1);
      for (const [i, c] of scan.chunks.entries()) {
        const view = scan.chunkBytes(i);
        expect(Buffer.from(view).equals(bytes.subarray(c.start, c.end))).toBe(true);
        // What lets putBlob store it without a copy (blobs.ts).
        expect(Buffer.from(view.buffer, view.byteOffset - head.length, head.length).equals(Buffer.from(head))).toBe(true);
        expect(right(await store.putBlob(PI_SOURCE_CHUNK_TYPE, view))).toBe(c.id);
        expect(Buffer.from(right(await store.getBlob(c.id)).bytes).equals(bytes.subarray(c.start, c.end))).toBe(true);
      }
    } finally {
      plan.close();
      right(await store.close());
    }
  });

  it("holds a buffer larger than PI_SOURCE_CHUNK_BYTES only while a long line's chunk is one of the last two read", async () => {
    const long = 'x'.repeat(3 << 20);
    const lines = [JSON.stringify(header(3))];
    for (let i = 0; i < 12; i++) lines.push(JSON.stringify(msg(`e${i}`, i === 0 ? null : `e${i - 1}`, i + 1, piUser(i === 5 ? long : 'y'.repeat(400_000), i + 1))));
    const file = writeFile('slots.jsonl', `${lines.join('\n')}\n`);
    const plan = right(await readPiPlan(file));
    try {
      const { scan } = plan.source;
      const head = blobValueHead(PI_SOURCE_CHUNK_TYPE).length;
      const sizes = scan.chunks.map((c) => c.end - c.start);
      expect(Math.max(...sizes)).toBeGreaterThan(3 << 20);
      expect(sizes.filter((n) => n > PI_SOURCE_CHUNK_BYTES)).toHaveLength(1);
      // In file order, then back again: each chunk in a buffer of its own size when longer than a normal chunk, else of a normal chunk's.
      const order = [...sizes.keys(), ...[...sizes.keys()].reverse()];
      for (const i of order) expect(scan.chunkBytes(i).buffer.byteLength, `chunk ${i}`).toBe(head + Math.max(sizes[i]!, PI_SOURCE_CHUNK_BYTES));
    } finally {
      plan.close();
    }
  });

  it('leaves every imported session with a snapshot at its last op or label, so loading it replays only the completion record', async () => {
    const file = writeFile('snapshots.jsonl', generatePiText({ messages: 300, branches: 3, labelEvery: 7 }));
    const store = await openStore(tempDir('pi-snapshots'));
    try {
      const imported = right(await writePiPlan(store, right(await readPiPlan(file))));
      expect(imported.sessions.length).toBeGreaterThan(1);
      for (const s of imported.sessions) {
        store.evict(s.sessionId);
        const loaded = right(await store.load(s.sessionId));
        expect(loaded.seq).toBe(s.records);
        expect(loaded.log.map((r) => r.command.type)).toEqual(['metadata_set']);
      }
    } finally {
      right(await store.close());
    }
  });

  it('fails with the error parsePiJsonl gives, at the same line', async () => {
    const good = jsonl(header(3), msg('a1', null, 1, piUser('x', 1)));
    const bad = [
      `${good}{"type": nope}\n${jsonl(msg('a2', 'a1', 2, piUser('y', 2)))}`,
      `${good}[1]\n`,
      jsonl(header(3), msg('a1', null, 1, piUser('x', 1)), msg('a1', 'a1', 2, piUser('y', 2))),
      jsonl(header(3), msg('a', 'b', 1, piUser('x', 1)), msg('b', 'a', 2, piUser('y', 2))),
      jsonl(msg('a1', null, 1, piUser('x', 1))),
      '',
      `${good}${JSON.stringify(header(3))}\n`,
    ];
    for (const t of bad) {
      const expected = parsePiJsonl(t, 'f.jsonl');
      expect(E.isLeft(expected)).toBe(true);
      const r = await readPiPlan(writeFile('bad.jsonl', t), { displayName: 'f.jsonl' });
      expect(r).toEqual(expected);
      expect(importEither(t, 'f.jsonl')).toEqual(expected);
    }
  });

  it('refuses a file rewritten before the write (PiFileChanged, nothing written), and removes its spilled ops once closed', async () => {
    // Several chunks, so the first is read again when stored (planning keeps the last two).
    const text = generatePiText({ messages: 4_000, textChars: 600 });
    const file = writeFile('changed.jsonl', text);
    const planned: PiFilePlan = right(await readPiPlan(file));
    expect(planned.source.scan.chunks.length).toBeGreaterThan(2);
    expect((await collect(planned.ops(0))).length).toBeGreaterThan(0);
    fs.writeFileSync(file, text.replace('question 0', 'QUESTION 0'));
    const store = await openStore(tempDir('pi-stream-store'));
    try {
      const r = await writePiPlan(store, planned);
      expect(r).toEqual(E.left(expect.objectContaining({ _tag: 'PiFileChanged', file, chunk: 0 })));
      expect(right(await store.list())).toEqual([]);
    } finally {
      planned.close();
      await store.close();
    }
    await expect(collect(planned.ops(0))).rejects.toThrow(/ENOENT/);
  });

  it("a spill is named after the import and the process; opening one removes only that import's spills whose process is gone", () => {
    const tmp = tempDir('pi-spill');
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const live = process.ppid;
    const mk = (name: string) => fs.mkdirSync(nodePath.join(tmp, name));
    mk(`palimpsest-pi-abc123-${dead}-x1AAAA`);
    mk(`palimpsest-pi-abc123-${live}-x2AAAA`);
    mk(`palimpsest-pi-other-${dead}-x3AAAA`);
    mk('unrelated');
    const spill = openOpSpill('abc123', tmp);
    const names = fs.readdirSync(tmp).sort();
    expect(names).not.toContain(`palimpsest-pi-abc123-${dead}-x1AAAA`);
    expect(names).toEqual(expect.arrayContaining([`palimpsest-pi-abc123-${live}-x2AAAA`, `palimpsest-pi-other-${dead}-x3AAAA`, 'unrelated']));
    expect(names.filter((n) => n.startsWith(`palimpsest-pi-abc123-${process.pid}-`))).toHaveLength(1);
    // This process is running: its own spill is never stale.
    expect(removeStaleSpills(tmp, 'abc123')).toBe(0);
    spill.dispose();
    expect(fs.readdirSync(tmp).filter((n) => n.startsWith(`palimpsest-pi-abc123-${process.pid}-`))).toEqual([]);
    expect(() => openOpSpill('../x', tmp)).toThrow(RangeError);
  });
});
