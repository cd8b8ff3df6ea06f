/**
 * pi → palimpsest → pi is the identity on entries, checked with pi's own
 * SessionManager as the oracle: a v3 tree written by pi with every entry type
 * and message role, and the bundled real session (version 1, migrated the way
 * pi migrates it).
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { SessionStore } from '../../../src/store/index.ts';
import { importPiFile } from '../../../src/adapters/pi/store.ts';
import { exportPi } from '../../../src/adapters/pi/sourceExport.ts';
import { cleanupDirs, openStore, right, tempDir } from '../../store/helpers.ts';
import { deleteLabel, labelsOf, resolveLabel, setLabel } from '../../../src/store/labels.ts';
import { entryLines, leavesOf, piView, readEntries, renameIds, writeRichPiSession } from './piOracle.ts';

const REAL = fileURLToPath(new URL('../../../data/pi-large-session.jsonl', import.meta.url));

afterAll(cleanupDirs);

const withStore = async <A>(f: (store: SessionStore) => Promise<A>): Promise<A> => {
  const store = await openStore(tempDir('pi-rt'));
  try {
    return await f(store);
  } finally {
    await store.close();
  }
};

const save = (text: string, name = 'export.jsonl'): string => {
  const file = nodePath.join(tempDir('pi-rt-out'), name);
  fs.writeFileSync(file, text);
  return file;
};

describe('a v3 tree written by pi', () => {
  it('comes back entry for entry from a whole-tree export, and pi sees the same tree and contexts', async () => {
    const original = writeRichPiSession(tempDir('pi-written'));
    const types = new Set(readEntries(original).entries.map((e) => e['type']));
    expect([...types].sort()).toEqual(['branch_summary', 'compaction', 'custom', 'custom_message', 'label', 'message', 'model_change', 'session_info', 'thinking_level_change']);
    const roles = new Set(readEntries(original).entries.flatMap((e) => (e['type'] === 'message' ? [(e['message'] as { role: string }).role] : [])));
    expect([...roles].sort()).toEqual(['assistant', 'bashExecution', 'branchSummary', 'compactionSummary', 'custom', 'toolResult', 'user']);

    await withStore(async (store) => {
      const imported = right(await importPiFile(store, original));
      expect(imported.sessions.length).toBe(3);
      const main = imported.sessions.find((s) => s.key === readEntries(original).header['id'])!;
      const out = right(await exportPi(store, main.sessionId, { tree: true }));
      expect(out.fromSource).toBe(out.entries);
      const exported = save(out.jsonl);
      // (a) entry by entry, the same JSON text (ids, parents, timestamps, cost, key order).
      expect(entryLines(exported)).toEqual(entryLines(original));
      expect(readEntries(exported).header).toEqual(readEntries(original).header);
      // (b) pi sees the same tree and the same model context at every leaf.
      const a = piView(original);
      const b = piView(exported);
      expect(b.tree).toEqual(a.tree);
      expect(Object.keys(a.contexts).length).toBe(3);
      expect(b.contexts).toEqual(a.contexts);

      // Every branch alone: pi's context for its leaf is the original's.
      for (const s of imported.sessions) {
        const one = right(await exportPi(store, s.sessionId));
        const v = piView(save(one.jsonl, 'branch.jsonl'));
        const leaves = leavesOf(v.entries);
        expect(leaves).toHaveLength(1);
        expect(v.contexts[leaves[0]!]).toEqual(a.contexts[leaves[0]!]);
        // The branch's entries are the original entries on that path.
        const originalById = new Map(readEntries(original).entries.map((e) => [e['id'], e]));
        for (const e of v.entries) expect(e).toEqual(originalById.get(e.id));
      }
    });
  });

  it('keeps the header cwd and parentSession', async () => {
    const dir = tempDir('pi-written');
    const file = writeRichPiSession(dir, '/somewhere/else');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const header = { ...(JSON.parse(lines[0]!) as Record<string, unknown>), parentSession: '/sessions/parent.jsonl' };
    lines[0] = JSON.stringify(header);
    fs.writeFileSync(file, lines.join('\n'));
    await withStore(async (store) => {
      const imported = right(await importPiFile(store, file));
      const out = right(await exportPi(store, imported.sessions[0]!.sessionId, { tree: true }));
      expect(readEntries(save(out.jsonl)).header).toEqual(header);
    });
  });
});

describe('after the import', () => {
  it('pi labels become palimpsest labels; appends, new and deleted labels export as new pi entries after the leaf', async () => {
    const original = writeRichPiSession(tempDir('pi-written'));
    const { header, entries } = readEntries(original);
    await withStore(async (store) => {
      const imported = right(await importPiFile(store, original));
      const main = imported.sessions.find((s) => s.key === header['id'])!.sessionId;
      const labels = labelsOf(right(await store.load(main)).metadata);
      const a1 = entries.find((e) => e['type'] === 'label' && e['label'] === 'checkpoint-1')!['targetId'] as string;
      const u1 = entries.find((e) => e['type'] === 'label' && e['label'] === 'start')!['targetId'] as string;
      expect(labels.map((l) => [l.name, l.pi])).toEqual([
        ['checkpoint-1', a1],
        ['start', u1],
      ]);
      // The label names the record that appended the labelled entry's message.
      const target = right(await resolveLabel(store, main, 'checkpoint-1'));
      const at = right(await store.load(main, { atSeq: target.seq }));
      const last = at.messages[at.messages.length - 1]!;
      expect(last.role).toBe('assistant');
      expect(JSON.stringify(last)).toContain('call_1');

      // Work in palimpsest: a new message, a new label on it, the imported label "start" deleted.
      const head = right(await store.load(main));
      right(await store.append(main, [{ type: 'messages_appended', messages: [{ role: 'user', content: [{ type: 'text', text: 'one more' }], transcriptRole: 'conversational', createdAt: Date.now() }] }], { expectedSeq: head.seq }));
      right(await setLabel(store, main, 'later'));
      right(await deleteLabel(store, main, 'start'));

      const out = right(await exportPi(store, main, { tree: true }));
      expect(out.sessions.find((s) => s.sessionId === main)).toMatchObject({ origin: 'import', fresh: 3 });
      const exported = readEntries(save(out.jsonl));
      // Every original entry is still there unchanged, then the new ones.
      expect(exported.entries.slice(0, entries.length)).toEqual(entries);
      const added = exported.entries.slice(entries.length);
      expect(added.map((e) => e['type'])).toEqual(['message', 'label', 'label']);
      expect(added[0]!['parentId']).toBe(entries[entries.length - 1]!['id']); // the main branch's leaf
      // pi reads the labels back: the new one on the new message, "start" cleared.
      const v = piView(save(out.jsonl, 'labels.jsonl'));
      expect(v.sm.getLabel(added[0]!['id'] as string)).toBe('later');
      expect(v.sm.getLabel(u1)).toBeUndefined();
      expect(v.sm.getLabel(a1)).toBe('checkpoint-1');
    });
  });
});

describe('the bundled real session (pi version 1)', () => {
  it('exports as v3 exactly as pi migrates it, and pi sees the same context', async () => {
    // pi's own migration of the file (SessionManager.open rewrites a copy as v3 with fresh random ids).
    const pi = piView(REAL);
    await withStore(async (store) => {
      const imported = right(await importPiFile(store, REAL));
      expect(imported.report.repairs.some((r) => r.kind === 'aborted_tool_call')).toBe(true);
      const out = right(await exportPi(store, imported.sessions[0]!.sessionId));
      const exported = save(out.jsonl);
      const ours = readEntries(exported);
      expect(ours.header).toMatchObject({ version: 3, id: pi.header!.id, cwd: pi.header!.cwd, timestamp: pi.header!.timestamp });
      expect(ours.entries).toHaveLength(pi.entries.length);
      // Same entries once pi's random ids are renamed to ours (position by position).
      const ids = new Map(pi.entries.map((e, i) => [e.id, ours.entries[i]!['id'] as string]));
      expect(ours.entries).toEqual(renameIds(pi.entries, ids));
      expect(new Set(ours.entries.map((e) => e['id'])).size).toBe(ours.entries.length);
      // The model context pi builds is the original's (no inserted "aborted" results).
      const v = piView(exported);
      const [leaf] = leavesOf(v.entries);
      const [piLeaf] = leavesOf(pi.entries);
      expect(v.contexts[leaf!]).toEqual(renameIds(pi.contexts[piLeaf!], ids));
      expect(v.contexts[leaf!]!.messages.length).toBe(pi.contexts[piLeaf!]!.messages.length);
      // Exporting twice gives the same bytes (the migration ids are deterministic).
      expect(right(await exportPi(store, imported.sessions[0]!.sessionId)).jsonl).toBe(out.jsonl);
    });
  });
});
