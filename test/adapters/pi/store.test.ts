/**
 * pi import into and export from a real LevelDB store (src/adapters/pi/store.ts):
 * the bundled real session, a v2 tree (forks at the branch point), batching,
 * deterministic ids (re-import refused, store unchanged), typed errors.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, describe, expect, it } from 'vitest';
import { transcriptDigest } from '../../../src/model/digest.ts';
import type { SessionStore } from '../../../src/store/index.ts';
import { labelsOf, resolveLabel } from '../../../src/store/labels.ts';
import { exportPiSession, importPiFile, piSessionId } from '../../../src/adapters/pi/store.ts';
import { plannedMessages } from '../../../src/adapters/pi/plan.ts';
import { PI_LABEL_BATCH } from '../../../src/adapters/pi/sessionWrite.ts';
import { cleanupDirs, left, openStore, right, tempDir } from '../../store/helpers.ts';
import { at, importText, jsonl, piAssistant, piCall, piResult, piUser } from './helpers.ts';
import { writeGeneratedPiFile } from './generate.ts';

const REAL = fileURLToPath(new URL('../../../data/pi-large-session.jsonl', import.meta.url));
const REAL_ID = 'pi:d703a1a9-1b7b-4fb1-b512-c9738b1fe617';

afterAll(cleanupDirs);

const withStore = async <A>(f: (store: SessionStore, dir: string) => Promise<A>): Promise<A> => {
  const dir = tempDir('pi-store');
  const store = await openStore(dir);
  try {
    return await f(store, dir);
  } finally {
    await store.close();
  }
};

const writeFile = (name: string, text: string): string => {
  const file = nodePath.join(tempDir('pi-file'), name);
  fs.writeFileSync(file, text);
  return file;
};

/** Every session's id, last seq and revision. */
const snapshot = async (store: SessionStore) => right(await store.list()).map((s) => [s.sessionId, s.lastSeq, s.revision]);

describe('the bundled real session', () => {
  it('imports, verifies clean, exports, and re-imports into a fresh store with the same final revision', async () => {
    await withStore(async (store) => {
      const imported = right(await importPiFile(store, REAL, { displayName: 'pi-large-session.jsonl' }));
      expect(imported.file).toBe('pi-large-session.jsonl');
      expect(imported.bytes).toBe(fs.statSync(REAL).size);
      expect(imported.report).toMatchObject({ version: 1, messages: 914, toolCalls: 391, toolResults: 373, sessions: 1 });
      expect(imported.report.repairs.filter((r) => r.kind === 'aborted_tool_call')).toHaveLength(391 - 373);
      expect(imported.sessions).toHaveLength(1);
      const main = imported.sessions[0]!;
      expect(main.sessionId).toBe(REAL_ID);
      expect(main.forkOf).toBeUndefined();

      // The stored session is what the plan says, and its header agrees.
      const plan = importText(fs.readFileSync(REAL, 'utf8'), REAL);
      const planned = plannedMessages(plan.sessions, plan.sessions[0]!.key);
      const loaded = right(await store.load(REAL_ID));
      expect(loaded.messageCount).toBe(planned.length);
      expect(main.messages).toBe(planned.length);
      expect(loaded.transcriptRevision()).toBe(transcriptDigest(planned));
      expect(main.revision).toBe(loaded.transcriptRevision());
      expect(main.records).toBe(loaded.seq);
      expect(loaded.metadata).toMatchObject({ 'pi.sessionId': 'd703a1a9-1b7b-4fb1-b512-c9738b1fe617', 'pi.version': 1, 'pi.cwd': '/Users/badlogic/workspaces/pi-mono' });
      // Batched: far fewer appends than commands, and the log holds one record per accepted command.
      const log = right(await store.log(REAL_ID));
      expect(log).toHaveLength(main.records);
      expect(log[0]!.command.type).toBe('session_created');

      const reports = right(await store.verify());
      expect(reports.map((r) => [r.sessionId, r.ok, r.problems])).toEqual([[REAL_ID, true, []]]);

      const jsonlText = right(await exportPiSession(store, REAL_ID));
      const header = JSON.parse(jsonlText.split('\n', 1)[0]!) as Record<string, unknown>;
      expect(header).toMatchObject({ type: 'session', version: 3, id: 'd703a1a9-1b7b-4fb1-b512-c9738b1fe617', timestamp: '2025-11-20T23:33:50.805Z' });
      const exported = writeFile('exported.jsonl', jsonlText);
      await withStore(async (fresh) => {
        const again = right(await importPiFile(fresh, exported));
        expect(again.sessions.map((s) => s.sessionId)).toEqual([REAL_ID]);
        expect(again.sessions[0]!.revision).toBe(loaded.transcriptRevision());
        expect(right(await fresh.load(REAL_ID)).messageCount).toBe(loaded.messageCount);
        expect(right(await fresh.verify()).every((r) => r.ok)).toBe(true);
      });
    });
  });

  it('refuses a re-import (SessionExists) before writing anything', async () => {
    await withStore(async (store) => {
      right(await importPiFile(store, REAL));
      const before = await snapshot(store);
      const e = left(await importPiFile(store, REAL));
      expect(e).toMatchObject({ _tag: 'SessionExists', sessionId: REAL_ID });
      expect(await snapshot(store)).toEqual(before);
      // Another prefix is another set of sessions.
      const other = right(await importPiFile(store, REAL, { idPrefix: 'copy:' }));
      expect(other.sessions[0]!.sessionId).toBe('copy:d703a1a9-1b7b-4fb1-b512-c9738b1fe617');
      expect(other.sessions[0]!.revision).toBe(before[0]![2]);
    });
  });
});

describe('a version 2 tree', () => {
  const ID = 'tree-0001';
  const ent = (id: string, parentId: string | null, n: number, body: Record<string, unknown>) => ({ ...body, id, parentId, timestamp: at(n) });
  const msg = (id: string, parentId: string | null, n: number, message: unknown) => ent(id, parentId, n, { type: 'message', message });
  // a1 ─ a2 ─ a3 ─ a4(call t1) ─ a5(result) ─ a6          branch 1 (leaf a6)
  //       └ b1 user ─ b2 assistant                         branch 2 (leaf b2)
  //                    └ c1 user ─ c2 assistant            branch 3 (leaf c2, the file's last line)
  const text = jsonl(
    { type: 'session', version: 2, id: ID, timestamp: at(0), cwd: '/w' },
    msg('a1', null, 1, piUser('hi', 1)),
    msg('a2', 'a1', 2, piAssistant([{ type: 'text', text: 'hello' }], 2)),
    msg('a3', 'a2', 3, piUser('do X', 3)),
    msg('a4', 'a3', 4, piAssistant([piCall('t1')], 4, 'toolUse')),
    msg('a5', 'a4', 5, piResult('t1', 'x done', 5)),
    msg('a6', 'a5', 6, piAssistant([{ type: 'text', text: 'did X' }], 6)),
    msg('b1', 'a2', 7, piUser('do Y instead', 7)),
    msg('b2', 'b1', 8, piAssistant([{ type: 'text', text: 'did Y' }], 8)),
    ent('m1', 'b2', 9, { type: 'model_change', provider: 'openai', modelId: 'gpt-5' }),
    msg('c1', 'm1', 10, piUser('and Z', 10)),
    msg('c2', 'c1', 11, piAssistant([{ type: 'text', text: 'did Z' }], 11)),
  );

  it('creates one session per branch, forked at the branch point, each with the planned transcript', async () => {
    const file = writeFile('tree.jsonl', text);
    const plan = importText(text, file);
    for (const batchSize of [1, 2, 64]) {
      await withStore(async (store) => {
        const r = right(await importPiFile(store, file, { batchSize }));
        expect(r.sessions.map((s) => s.sessionId)).toEqual(plan.sessions.map((s) => piSessionId(s.key)));
        expect(r.sessions.length).toBeGreaterThanOrEqual(2);
        for (const [i, s] of r.sessions.entries()) {
          const p = plan.sessions[i]!;
          const loaded = right(await store.load(s.sessionId));
          expect(loaded.transcriptRevision()).toBe(transcriptDigest(plannedMessages(plan.sessions, p.key)));
          if (p.forkOf === undefined) {
            expect(s.forkOf).toBeUndefined();
            continue;
          }
          // The child's genesis links to the parent's record after `afterOp` ops.
          const parentId = piSessionId(p.forkOf.sessionKey);
          expect(s.forkOf?.sessionId).toBe(parentId);
          const genesis = right(await store.log(s.sessionId, { toSeq: 1 }))[0]!;
          expect(genesis.command).toMatchObject({ type: 'session_forked', mode: 'full', from: { sessionId: parentId, seq: s.forkOf!.seq } });
          const parentAt = right(await store.load(parentId, { atSeq: s.forkOf!.seq }));
          // The child starts with the parent's transcript at that record (copy-on-write, full fork).
          expect(right(await store.load(s.sessionId, { atSeq: 1 })).transcriptRevision()).toBe(parentAt.transcriptRevision());
          expect(genesis.prev).toBe(parentAt.head);
          const lineage = right(await store.lineage(s.sessionId));
          expect(lineage[lineage.length - 1]!.mode).toBe('root');
        }
        // The branch pi would reopen (the file's last entry) carries the bare pi id.
        expect(r.sessions.some((s) => s.sessionId === `pi:${ID}`)).toBe(true);
        expect(right(await store.verify()).every((x) => x.ok)).toBe(true);
      });
    }
  });
});

describe('typed errors, store unchanged', () => {
  it('a missing file is PiFileError naming it', async () => {
    await withStore(async (store) => {
      const e = left(await importPiFile(store, '/nonexistent/dir/missing.jsonl'));
      expect(e).toMatchObject({ _tag: 'PiFileError', file: '/nonexistent/dir/missing.jsonl', code: 'ENOENT' });
      expect(e.message).toContain('/nonexistent/dir/missing.jsonl');
      expect(await snapshot(store)).toEqual([]);
    });
  });

  it('a malformed line is PiParseError with file and line; nothing is written', async () => {
    const good = fs.readFileSync(REAL, 'utf8').split('\n');
    const broken = [...good.slice(0, 5), '{"type":"message",', ...good.slice(5, 20)].join('\n');
    const file = writeFile('broken.jsonl', broken);
    await withStore(async (store) => {
      const e = left(await importPiFile(store, file, { displayName: 'broken.jsonl' }));
      expect(e).toMatchObject({ _tag: 'PiParseError', file: 'broken.jsonl', line: 6, reason: 'malformed_json' });
      expect(e.message).toMatch(/^broken\.jsonl:6: /);
      expect(await snapshot(store)).toEqual([]);
    });
  });

  it('a half-written last line is a warning, and the rest imports', async () => {
    const good = fs.readFileSync(REAL, 'utf8').split('\n').slice(0, 12).join('\n');
    const file = writeFile('crashed.jsonl', `${good}\n{"type":"message","timestamp":"2025-11-2`);
    await withStore(async (store) => {
      const r = right(await importPiFile(store, file));
      expect(r.report.warnings).toEqual([expect.objectContaining({ kind: 'truncated_last_line', line: 13 })]);
      expect(r.sessions).toHaveLength(1);
    });
  });
});

describe('labels', () => {
  it('are written PI_LABEL_BATCH to a batch (batchSize if larger), after the ops in batches of batchSize', async () => {
    // 1,100 labels (one every turn of 4 messages) on the main line: more than one label batch.
    const file = nodePath.join(tempDir('pi-labels'), 'labels.jsonl');
    await writeGeneratedPiFile(file, { messages: 4_400, labelEvery: 1 });
    const labels = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"type":"label"')).length;
    expect(labels).toBe(1_100);
    expect(labels).toBeGreaterThan(PI_LABEL_BATCH);
    for (const batchSize of [64, 2_000]) {
      const dir = tempDir('pi-labels-store');
      const heads: { readonly sessionId: string; readonly seq: number }[] = [];
      const store = await openStore(dir, { onCommit: (h) => heads.push(h) });
      try {
        const r = right(await importPiFile(store, file, { batchSize }));
        expect(r.sessions).toHaveLength(1);
        const id = r.sessions[0]!.sessionId;
        const log = right(await store.log(id));
        const isLabel = (seq: number): boolean => {
          const c = log[seq - 1]!.command;
          return c.type === 'metadata_set' && c.key.startsWith('label:');
        };
        expect(log.filter((rec) => isLabel(rec.seq))).toHaveLength(labels);
        // Records per committed batch, and whether they are labels.
        const seqs = heads.filter((h) => h.sessionId === id).map((h) => h.seq);
        const batches = seqs.slice(1).map((seq, i) => ({ size: seq - seqs[i]!, labels: isLabel(seq) }));
        const labelBatches = batches.filter((b) => b.labels).map((b) => b.size);
        expect(labelBatches).toEqual(batchSize < PI_LABEL_BATCH ? [PI_LABEL_BATCH, labels - PI_LABEL_BATCH] : [labels]);
        // The ops before them: batches of at most batchSize commands (an inert command makes no record).
        expect(batches.filter((b) => !b.labels).every((b) => b.size <= batchSize)).toBe(true);
        // Each label names the first record holding its target, with that record's revision (resolveLabel checks it against the log).
        const loaded = right(await store.load(id));
        const names = labelsOf(loaded.metadata);
        expect(names).toHaveLength(labels);
        for (const [k, l] of names.entries()) {
          expect({ sessionId: l.sessionId, revision: l.revision, type: log[l.seq - 1]!.command.type }).toEqual({ sessionId: id, revision: log[l.seq - 1]!.revision, type: 'messages_appended' });
          if (k % 100 === 0) expect(right(await resolveLabel(store, id, l.name))).toEqual({ sessionId: id, seq: l.seq, revision: l.revision });
        }
        // The session verifies, labels included.
        expect(right(await store.verify(id)).map((v) => v.ok)).toEqual([true]);
      } finally {
        await store.close();
      }
    }
  });
});
