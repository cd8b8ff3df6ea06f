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
import { SessionManager, buildSessionContext } from '@mariozechner/pi-coding-agent';
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

/** `value` without any `timestamp` field (entries written at different times). */
const untimed = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(untimed);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (k === 'timestamp' ? [] : [[k, untimed(v)]])));
  return value;
};

describe('a rewrite after the import', () => {
  const summaryText = 'Summary: the user asked twice; the files were listed.';
  const userAfter = (text: string) => ({ role: 'user', content: [{ type: 'text', text }], transcriptRole: 'conversational', createdAt: Date.now() });
  /** Imports a rich pi session into `store`: the file, its entries, the main session and its index of the last user message. */
  const importRich = async (store: SessionStore) => {
    const original = writeRichPiSession(tempDir('pi-written'));
    const { header, entries } = readEntries(original);
    const imported = right(await importPiFile(store, original));
    const main = imported.sessions.find((s) => s.key === header['id'])!.sessionId;
    const before = right(await store.load(main));
    const lastUser = before.messages.findLastIndex((m) => m.role === 'user' && m.transcriptRole === 'conversational');
    return { original, header, entries, main, before, lastUser };
  };

  it('a compaction pi can express exports as a pi compaction entry: pi (its own appendCompaction as the oracle) builds the same context, and re-importing gives our transcript', async () => {
    await withStore(async (store) => {
      const { original, header, entries, main, before, lastUser: k } = await importRich(store);
      // Keep from the last user message on: summarize everything before it.
      expect(k).toBeGreaterThan(0);
      const summary = { role: 'user', content: [{ type: 'text', text: summaryText }], transcriptRole: 'compaction_summary', createdAt: Date.now() };
      const rw = right(
        await store.append(main, [{ type: 'transcript_rewritten', selection: { type: 'message_range', start: 0, end: k }, replacement: [summary], reason: { kind: 'compaction', note: 'tokensBefore=4321' } }], { expectedSeq: before.seq }),
      );
      right(await store.append(main, [{ type: 'messages_appended', messages: [userAfter('after the compaction')] }], { expectedSeq: rw.session.seq }));
      const after = right(await store.load(main));

      const out = right(await exportPi(store, main, { tree: true }));
      expect(out.sessions.find((s) => s.sessionId === main)).toMatchObject({ origin: 'import', rewritten: 'compaction', fresh: 2 });
      const exported = save(out.jsonl, 'compacted.jsonl');
      const got = readEntries(exported).entries;
      // Every original entry unchanged, then the compaction after the main leaf and the new message after it.
      expect(got.slice(0, entries.length)).toEqual(entries);
      const [compaction, message] = got.slice(entries.length);
      const leaf = entries[entries.length - 1]!['id'];
      const firstKept = entries.find((e) => e['type'] === 'message' && JSON.stringify(e['message']).includes('Stop. Something else.'))!['id'] as string;
      expect(compaction).toMatchObject({ type: 'compaction', parentId: leaf, summary: summaryText, firstKeptEntryId: firstKept, tokensBefore: 4321 });
      expect(message).toMatchObject({ type: 'message', parentId: compaction!['id'], message: { role: 'user' } });

      // The oracle: pi compacts the original file the same way itself.
      const copy = nodePath.join(tempDir('pi-oracle'), 'copy.jsonl');
      fs.copyFileSync(original, copy);
      const sm = SessionManager.open(copy);
      sm.appendCompaction(summaryText, firstKept, 4321);
      const newLeaf = sm.appendMessage({ role: 'user', content: [{ type: 'text', text: 'after the compaction' }], timestamp: Date.now() } as Parameters<typeof sm.appendMessage>[0]);
      const expected = buildSessionContext(sm.getEntries(), newLeaf);
      const v = piView(exported);
      expect(untimed(v.contexts[message!['id'] as string])).toEqual(untimed(expected));
      expect(v.contexts[message!['id'] as string]!.messages[0]).toMatchObject({ role: 'compactionSummary', summary: summaryText });
      // Every other leaf sees what it saw before.
      const a = piView(original);
      for (const [l, c] of Object.entries(a.contexts)) if (l !== leaf) expect(v.contexts[l]).toEqual(c);

      // Our transcript after the compaction is what importing the export gives.
      await withStore(async (again) => {
        const re = right(await importPiFile(again, exported));
        const s = re.sessions.find((x) => x.key === header['id'])!;
        expect(s.revision).toBe(after.transcriptRevision());
      });

      // Forks of the compacted session: inside the kept messages (pi has no entry for that state:
      // a root of fresh entries) and right after them (hangs off the compaction entry).
      const kept = after.messages.length - 2;
      for (const [name, index] of [
        ['inside', 2],
        ['after', 1 + kept],
      ] as const) {
        const child = right(await store.forkAt(main, index, { id: `child-${name}` }));
        right(await store.append(child.id, [{ type: 'messages_appended', messages: [userAfter(`in the ${name} fork`)] }], { expectedSeq: child.seq }));
        const expected = right(await store.load(child.id));
        const one = right(await exportPi(store, child.id));
        const file = save(one.jsonl, `${name}.jsonl`);
        const lines = readEntries(file).entries;
        if (name === 'after') expect(lines.map((e) => e['id'])).toContain(compaction!['id']);
        else expect(lines.some((e) => e['type'] === 'compaction' && e['id'] === compaction!['id'])).toBe(false);
        await withStore(async (again) => {
          const re = right(await importPiFile(again, file));
          expect(re.sessions.map((x) => x.revision)).toContain(expected.transcriptRevision());
        });
      }
    });
  });

  it('any other rewrite exports as a branch of fresh entries, and the report says so', async () => {
    await withStore(async (store) => {
      const { header, entries, main, before, lastUser: k } = await importRich(store);
      // Replace the last user message in place: not a prefix summary.
      right(
        await store.append(main, [{ type: 'transcript_rewritten', selection: { type: 'message_range', start: k, end: k + 1 }, replacement: [userAfter('Stop. Something different.')], reason: { kind: 'edit' } }], {
          expectedSeq: before.seq,
        }),
      );
      const after = right(await store.load(main));
      const out = right(await exportPi(store, main, { tree: true }));
      expect(out.sessions.find((s) => s.sessionId === main)).toMatchObject({ origin: 'import', rewritten: 'branch' });
      const exported = save(out.jsonl, 'branched.jsonl');
      const got = readEntries(exported).entries;
      expect(got.slice(0, entries.length)).toEqual(entries);
      const added = got.slice(entries.length);
      expect(added.some((e) => e['type'] === 'compaction')).toBe(false);
      expect(JSON.stringify(added)).toContain('Stop. Something different.');
      // pi reads it, and the new leaf's context ends with what palimpsest holds.
      const v = piView(exported);
      const newLeaf = added[added.length - 1]!['id'] as string;
      const ctx = v.contexts[newLeaf]!.messages;
      expect(JSON.stringify(ctx)).toContain('Stop. Something different.');
      await withStore(async (again) => {
        const re = right(await importPiFile(again, exported));
        const s = re.sessions.find((x) => x.key === header['id'])!;
        expect(s.revision).toBe(after.transcriptRevision());
      });
    });
  });
});
