/**
 * The streamed export (`exportPiTo`) writes exactly what `exportPi` collects,
 * one line per sink call, waits for the sink, and stops at the sink's error
 * with its scratch files removed; the streamed source index gives the same
 * entries as the in-memory `sourceTree`.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { SessionStore } from '../../../src/store/index.ts';
import { importPiFile } from '../../../src/adapters/pi/store.ts';
import { exportPi, exportPiTo, type PiLineSink } from '../../../src/adapters/pi/sourceExport.ts';
import { exportPiJsonl } from '../../../src/adapters/pi/export.ts';
import { indexPiSource, piSourceLines, scannedPiSourceIndex, sourceEntryValue, sourceTree } from '../../../src/adapters/pi/sourceTree.ts';
import { piSourceDigest } from '../../../src/adapters/pi/source.ts';
import { scanPiFile } from '../../../src/adapters/pi/scan.ts';
import { memoryColumn } from '../../../src/adapters/pi/columns.ts';
import { setLabel } from '../../../src/store/labels.ts';
import { cleanupDirs, msg, openStore, right, tempDir } from '../../store/helpers.ts';
import { readEntries, writeRichPiSession } from './piOracle.ts';

const REAL = fileURLToPath(new URL('../../../data/pi-large-session.jsonl', import.meta.url));

afterAll(cleanupDirs);

const withStore = async <A>(f: (store: SessionStore) => Promise<A>): Promise<A> => {
  const store = await openStore(tempDir('pi-stream'));
  try {
    return await f(store);
  } finally {
    await store.close();
  }
};

/** Streams an export into a list of the sink's calls. */
const streamed = async (store: SessionStore, id: string, tree: boolean): Promise<{ calls: string[]; report: unknown }> => {
  const calls: string[] = [];
  const r = await exportPiTo(store, id, (line) => void calls.push(line), { tree });
  return { calls, report: right(r) };
};

const toolTurn = (i: number) => [
  { role: 'assistant', content: [{ type: 'tool_use', id: `call_s${i}`, name: 'read', args: { path: `f${i}` } }], stopReason: 'tool_use', createdAt: 9_000 + i },
  { role: 'tool_results', results: [{ toolUseId: `call_s${i}`, content: [{ type: 'text', text: `content ${i}` }], isError: false }], createdAt: 9_001 + i },
];

describe('exportPiTo', () => {
  it('writes the bytes exportPi collects, one line per call: tree and every branch, with appends, a fork and a label after the import', async () => {
    const original = writeRichPiSession(tempDir('pi-written'));
    await withStore(async (store) => {
      const imported = right(await importPiFile(store, original));
      const main = imported.sessions.find((s) => s.key === readEntries(original).header['id'])!.sessionId;
      const head = right(await store.load(main));
      right(await store.append(main, [{ type: 'messages_appended', messages: [msg(1, 'after the import'), ...toolTurn(1)] }], { expectedSeq: head.seq }));
      const child = right(await store.forkAt(main, head.messageCount - 1, { id: 'child' }));
      right(await store.append(child.id, [{ type: 'messages_appended', messages: [msg(2, 'in the fork'), ...toolTurn(2)] }], { expectedSeq: child.seq }));
      right(await setLabel(store, main, 'later'));

      const ids = [...imported.sessions.map((s) => s.sessionId), 'child'];
      for (const tree of [true, false]) {
        for (const id of tree ? [main] : ids) {
          const { calls, report } = await streamed(store, id, tree);
          const collected = right(await exportPi(store, id, { tree }));
          expect(calls.join('')).toBe(collected.jsonl);
          expect(calls.every((c) => c.endsWith('\n') && c.indexOf('\n') === c.length - 1)).toBe(true);
          const { jsonl: _, ...rest } = collected;
          expect(report).toEqual(rest);
          expect(calls.length).toBe(collected.entries + 1);
        }
      }
      // The fresh entries are there: the fork's tool result names its tool.
      const tree = right(await exportPi(store, main, { tree: true }));
      expect(tree.sessions.map((s) => [s.sessionId, s.origin, s.fresh > 0])).toContainEqual(['child', 'fork', true]);
      expect(tree.jsonl).toContain('"toolName":"read"');
    });
  });

  it('a session no import wrote streams what exportPiJsonl gives for its messages', async () => {
    await withStore(async (store) => {
      const messages = [msg(0), msg(1), ...toolTurn(3), msg(4)];
      right(await store.create({ id: 'native', metadata: { project: 'x' } }));
      const s0 = right(await store.load('native'));
      right(await store.append('native', [{ type: 'messages_appended', messages }], { expectedSeq: s0.seq }));
      const s = right(await store.load('native'));
      const { calls } = await streamed(store, 'native', false);
      expect(calls.join('')).toBe(exportPiJsonl({ sessionId: 'native', createdAt: s.createdAt, metadata: s.metadata, messages: s.messages }));
    });
  });

  it('waits for the sink (one line in flight) and stops at the error it throws, leaving no scratch file', async () => {
    const original = writeRichPiSession(tempDir('pi-written'));
    await withStore(async (store) => {
      const imported = right(await importPiFile(store, original));
      const id = imported.sessions[0]!.sessionId;
      const scratchDir = tempDir('pi-scratch');
      let inFlight = 0;
      let most = 0;
      const lines: string[] = [];
      const slow: PiLineSink = async (line) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setImmediate(r));
        lines.push(line);
        inFlight--;
      };
      right(await exportPiTo(store, id, slow, { tree: true, scratchDir }));
      expect(most).toBe(1);
      expect(lines.join('')).toBe(right(await exportPi(store, id, { tree: true })).jsonl);
      expect(fs.readdirSync(scratchDir)).toEqual([]);

      const boom = new Error('disk full');
      let calls = 0;
      const failing: PiLineSink = () => {
        if (++calls === 3) throw boom;
      };
      await expect(exportPiTo(store, id, failing, { tree: true, scratchDir })).rejects.toBe(boom);
      expect(calls).toBe(3);
      expect(fs.readdirSync(scratchDir)).toEqual([]);
    });
  });
});

describe('the streamed source index', () => {
  it.each([
    ['pi version 1 (the bundled real session)', () => REAL],
    ['pi version 3 (written by pi)', () => writeRichPiSession(tempDir('pi-written'))],
  ])('gives the entries sourceTree gives, from the entry lines a scan finds: %s', async (_name, fileOf) => {
    const file = fileOf();
    const bytes = fs.readFileSync(file);
    const digest = piSourceDigest(bytes);
    const tree = right(sourceTree(bytes.toString('utf8'), nodePath.basename(file), digest));
    const scan = right(await scanPiFile(file, nodePath.basename(file), tempDir('pi-scan'), memoryColumn));
    const entryLines = Array.from({ length: scan.count }, (_, i) => scan.lineOf(i));
    const shape = { file: nodePath.basename(file), digest, version: scan.version, headerId: scan.header.id, entryLines };
    const index = indexPiSource(piSourceLines(file), shape);
    expect(index.header).toEqual(tree.header);
    const all = Array.from({ length: index.count }, (_, i) => i);
    expect(all.map(index.lineOf)).toEqual(tree.entries.map((e) => e.line));
    expect(all.map(index.idOf)).toEqual(tree.entries.map((e) => e.id));
    expect(all.map((i) => index.parentOf(i)).map((p) => (p < 0 ? null : index.idOf(p)))).toEqual(tree.entries.map((e) => (e.parentId !== null && e.parentId !== e.id && tree.byId.has(e.parentId) ? e.parentId : null)));
    expect(tree.entries.map((e) => index.indexOfId(e.id))).toEqual(all);
    const texts = new Map([...piSourceLines(file)].map((l) => [l.line, l.text]));
    all.forEach((i) => expect(sourceEntryValue(index, i, texts.get(index.lineOf(i))!)).toEqual(tree.entries[i]!.value));
    // A v2/v3 file: the scan's own on-disk index gives the same.
    if (scan.version >= 2) {
      const scanned = scannedPiSourceIndex(scan, piSourceLines(file), shape.file, digest);
      expect(scanned.header).toEqual(tree.header);
      expect(all.map(scanned.lineOf)).toEqual(all.map(index.lineOf));
      expect(all.map(scanned.idOf)).toEqual(all.map(index.idOf));
      expect(all.map(scanned.parentOf)).toEqual(all.map(index.parentOf));
      expect(all.map((i) => scanned.indexOfId(index.idOf(i)))).toEqual(all);
    }
    scan.close();
  });

  it('reads lines across read blocks, a byte order mark and a last line without newline as text.split would', () => {
    const dir = tempDir('pi-lines');
    const file = nodePath.join(dir, 'x.jsonl');
    const long = 'é'.repeat(700_000); // 1.4 MB of UTF-8: longer than one read block
    const text = `\ufeffa\n${long}\n\nb ü\nlast`;
    fs.writeFileSync(file, text);
    expect([...piSourceLines(file)].map((l) => l.text)).toEqual(text.slice(1).split('\n'));
    expect([...piSourceLines(file)].map((l) => l.terminated)).toEqual([true, true, true, true, false]);
  });
});
