/**
 * pi imports are all-or-nothing or resumable: a SIGKILL at random points (a
 * child process, 20 runs), injected write failures at every write, and a full
 * filesystem (a small tmpfs) leave no session or visibly incomplete ones, and
 * running the import again ends with exactly the records of an uninterrupted
 * import. `SessionExists` only for a complete import of the same bytes;
 * another file claiming the pi id is `PiImportConflict`; ids are injective.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalJsonUnsafe } from '../../../src/model/json.ts';
import { SessionStore, type StoreError, type UpdatePlan } from '../../../src/store/index.ts';
import { importPiFile, piSessionId } from '../../../src/adapters/pi/store.ts';
import { piImportStatus } from '../../../src/adapters/pi/provenance.ts';
import { cleanupDirs, left, openStore, right, tempDir } from '../../store/helpers.ts';
import { cli, cliJson } from '../../cli/helpers.ts';
import { runChildLines } from '../../support/childLines.ts';
import { jsonl } from './helpers.ts';
import { writeGeneratedPiFile } from './generate.ts';

afterAll(cleanupDirs);

const repo = nodePath.resolve(import.meta.dirname, '../../..');

/**
 * Every session: id, import status, the canonical JSON of every command in its
 * log, and its revision. A fork's genesis names its parent record's hash, which
 * covers that record's time (when it was written), so it is left out here; the
 * stores' own `verify` checks those links.
 */
const stateOf = async (store: SessionStore) => {
  const out: Array<{ id: string; status: string; commands: string[]; revision: string }> = [];
  for (const s of right(await store.list())) {
    const log = right(await store.log(s.sessionId));
    const loaded = right(await store.load(s.sessionId));
    out.push({ id: s.sessionId, status: piImportStatus(s.sessionId, loaded.metadata).kind, commands: log.map((r) => canonicalJsonUnsafe(r.command.type === 'session_forked' ? { ...r.command, from: { ...r.command.from, hash: '' } } : r.command)), revision: s.revision });
  }
  return out;
};

/** After a stop: nothing, or import sessions only, each complete or incomplete, at least one incomplete unless all are complete; the log verifies. */
const expectNothingOrVisiblyIncomplete = async (store: SessionStore, planned: readonly string[]) => {
  const st = await stateOf(store);
  for (const s of st) {
    expect(planned).toContain(s.id);
    expect(['complete', 'incomplete']).toContain(s.status);
  }
  if (st.length < planned.length && st.length > 0) expect(st.some((s) => s.status === 'incomplete')).toBe(true);
  expect(right(await store.verify()).every((r) => r.ok)).toBe(true);
  return st;
};

const withStoreAt = async <A>(dir: string, f: (store: SessionStore) => Promise<A>): Promise<A> => {
  const store = await openStore(dir);
  try {
    return await f(store);
  } finally {
    await store.close();
  }
};

/** A tiny deterministic PRNG (mulberry32), so a failing run can be repeated. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const genFile = async (messages: number, branches: number): Promise<string> => {
  const file = nodePath.join(tempDir('pi-gen'), 'gen.jsonl');
  await writeGeneratedPiFile(file, { messages, branches, textChars: 100 });
  return file;
};

describe('interrupted imports', () => {
  it('SIGKILL at 20 random points, then the same import again: one complete, verifying family equal to an uninterrupted import', { timeout: 180_000 }, async () => {
    const file = await genFile(240, 2);
    const reference = await withStoreAt(tempDir('pi-ref'), async (store) => {
      right(await importPiFile(store, file, { batchSize: 2 }));
      return stateOf(store);
    });
    expect(reference.map((s) => s.status)).toEqual(['complete', 'complete', 'complete']);
    const planned = reference.map((s) => s.id);
    const rand = prng(20261203);
    const outcomes: string[] = [];
    const spills = (tmp: string) => fs.readdirSync(tmp).filter((n) => n.startsWith('palimpsest-pi-'));
    let leftBehind = 0;
    for (let run = 0; run < 20; run++) {
      const dir = tempDir('pi-kill');
      const tmp = tempDir('pi-kill-tmp');
      // Kill after a random fraction of the commands is written, before the first (< 0) or never (> 1).
      const fraction = rand() * 1.1 - 0.05;
      let last = 'start';
      let total = Infinity;
      let error: string | undefined;
      const exit = await runChildLines(nodePath.join(import.meta.dirname, 'fixtures', 'import-child.ts'), [dir, file, '2'], {
        cwd: repo,
        // The child spills its planned ops into the run's own temp directory.
        env: { ...process.env, TMPDIR: tmp },
        onLine: (line, child) => {
          if (line.startsWith('error')) error ??= line;
          if (line.startsWith('total ')) total = Number(line.slice(6));
          if (line.startsWith('w ')) {
            last = line;
            if (Number(line.slice(2)) >= fraction * total) child.kill('SIGKILL');
          }
          if (line === 'done') last = 'done';
        },
      });
      if (error !== undefined) throw new Error(error);
      if (exit.signal !== 'SIGKILL' && exit.code !== 0) throw new Error(`child failed: ${exit.stderr}`);
      const killedAt = `${exit.signal ?? 'exit'} after ${last}`;
      outcomes.push(killedAt);
      // A killed child leaves its spill behind; the retry (spilling in the same directory) removes it.
      if (exit.signal === 'SIGKILL' && spills(tmp).length > 0) leftBehind++;
      await withStoreAt(dir, async (store) => {
        const before = await expectNothingOrVisiblyIncomplete(store, planned);
        const again = await importPiFile(store, file, { batchSize: 2, spillDir: tmp });
        if (before.length === planned.length && before.every((s) => s.status === 'complete')) {
          expect(left(again)._tag).toBe('SessionExists');
        } else {
          expect(right(again).resumed).toBe(before.filter((s) => s.status === 'incomplete').length);
        }
        expect(await stateOf(store)).toEqual(reference);
        expect(right(await store.verify()).every((r) => r.ok)).toBe(true);
      });
      expect(spills(tmp)).toEqual([]);
    }
    // The kills landed at many different points, and most left a spill for the retry to remove.
    expect(new Set(outcomes).size).toBeGreaterThanOrEqual(10);
    expect(leftBehind).toBeGreaterThanOrEqual(10);
  });

  it('a write failure at every point of the import, then the same import: the same records as an uninterrupted import', { timeout: 120_000 }, async () => {
    const file = await genFile(60, 1);
    const reference = await withStoreAt(tempDir('pi-ref'), async (store) => {
      right(await importPiFile(store, file, { batchSize: 3 }));
      return stateOf(store);
    });
    const planned = reference.map((s) => s.id);
    let writes = 0;
    for (let failAt = 0; ; failAt++) {
      const dir = tempDir('pi-fail');
      const completed = await withStoreAt(dir, async (real) => {
        let n = 0;
        const fail = (): E.Either<StoreError, never> => E.left({ _tag: 'StoreIoError', path: dir, message: `injected write failure ${n}` });
        const guard = <F extends (...a: never[]) => Promise<unknown>>(f: F): F => ((...a: never[]) => (n++ === failAt ? Promise.resolve(fail()) : f(...a))) as F;
        const faulty: SessionStore = { ...real, append: guard(real.append), update: guard(real.update), create: guard(real.create), fork: guard(real.fork), putBlob: guard(real.putBlob) };
        const r = await importPiFile(faulty, file, { batchSize: 3 });
        writes = n;
        if (E.isRight(r)) return true;
        expect(r.left).toMatchObject({ _tag: 'StoreIoError', message: expect.stringContaining('injected') });
        await expectNothingOrVisiblyIncomplete(real, planned);
        right(await importPiFile(real, file, { batchSize: 3 }));
        expect(await stateOf(real)).toEqual(reference);
        return false;
      });
      if (completed) break;
    }
    // Every write of the import was a failure point once (blobs, genesis, appends, completions).
    expect(writes).toBeGreaterThan(20);
  });

  it('a full filesystem (a 1 MiB tmpfs) stops the import; with room again, the same import finishes it', { timeout: 120_000 }, async () => {
    const file = await genFile(2000, 1);
    const reference = await withStoreAt(tempDir('pi-ref'), async (store) => {
      right(await importPiFile(store, file));
      return stateOf(store);
    });
    const mnt = tempDir('pi-tmpfs');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
    try {
      const dir = nodePath.join(mnt, 'store');
      const first = await (async () => {
        const opened = await SessionStore.open(dir);
        if (E.isLeft(opened)) return opened;
        try {
          return await importPiFile(opened.right, file);
        } finally {
          await opened.right.close();
        }
      })();
      expect(E.isLeft(first)).toBe(true);
      expect(['StoreIoError']).toContain(E.isLeft(first) ? first.left._tag : '');
      execFileSync('mount', ['-o', 'remount,size=64m', mnt]);
      await withStoreAt(dir, async (store) => {
        await expectNothingOrVisiblyIncomplete(store, reference.map((s) => s.id));
        right(await importPiFile(store, file));
        expect(await stateOf(store)).toEqual(reference);
      });
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});

describe('what a re-import is told', () => {
  const header = (id: string) => ({ type: 'session', version: 3, id, timestamp: '2025-01-01T00:00:00.000Z', cwd: '/w' });
  const user = (id: string, text: string) => ({ type: 'message', id, parentId: null, timestamp: '2025-01-01T00:00:01.000Z', message: { role: 'user', content: text, timestamp: 1 } });
  const write = (name: string, text: string): string => {
    const f = nodePath.join(tempDir('pi-files'), name);
    fs.writeFileSync(f, text);
    return f;
  };

  it('SessionExists for a complete import of the same bytes; PiImportConflict naming both files for another file with the same pi id', async () => {
    const a = write('a.jsonl', jsonl(header('same'), user('e1', 'one')));
    const b = write('b.jsonl', jsonl(header('same'), user('e1', 'two')));
    await withStoreAt(tempDir('pi-exists'), async (store) => {
      right(await importPiFile(store, a));
      const again = left(await importPiFile(store, a));
      expect(again).toMatchObject({ _tag: 'SessionExists', sessionId: 'pi:same' });
      expect(again.message).toContain('imported completely before');
      const other = left(await importPiFile(store, b));
      expect(other).toMatchObject({ _tag: 'PiImportConflict', sessionId: 'pi:same', file: b, existingFile: a });
      expect(other.message).toContain(a);
      expect(other.message).toContain(b);
      expect(other.message).toContain('--id-prefix');
      // The hint holds: under another prefix the same file imports beside the first.
      expect(right(await importPiFile(store, b, { idPrefix: 'pi2:' })).sessions.map((s) => s.sessionId)).toEqual(['pi2:same']);
      // A session no import wrote, under the planned id.
      right(await store.create({ id: 'pi:native' }));
      expect(left(await importPiFile(store, write('n.jsonl', jsonl(header('native'), user('e1', 'x')))))).toMatchObject({ _tag: 'PiImportConflict', sessionId: 'pi:native' });
    });
  });

  it('maps pi ids injectively: a/b, a\\nb, a_b and a%2Fb are four sessions', async () => {
    expect(new Set(['a/b', 'a\nb', 'a_b', 'a%2Fb', 'a\u2028b'].map((k) => piSessionId(k))).size).toBe(5);
    await withStoreAt(tempDir('pi-ids'), async (store) => {
      for (const id of ['a/b', 'a\nb', 'a_b', 'a%2Fb']) right(await importPiFile(store, write('f.jsonl', jsonl(header(id), user('e1', id)))));
      expect(right(await store.list()).map((s) => s.sessionId).sort()).toEqual(['pi:a%0Ab', 'pi:a%252Fb', 'pi:a%2Fb', 'pi:a_b']);
    });
  });

  it('sessions, show, log and verify say when an import is incomplete', { timeout: 60_000 }, async () => {
    const file = await genFile(40, 0);
    const dir = tempDir('pi-cli');
    await withStoreAt(dir, async (real) => {
      let n = 0;
      const faulty: SessionStore = {
        ...real,
        // The fourth write of records fails (the import writes with `update`).
        update: <A, Err>(id: string, plan: UpdatePlan<A, Err>, o?: { readonly expectedSeq?: number }) =>
          ++n === 4 ? Promise.resolve(E.left({ _tag: 'StoreIoError' as const, path: dir, message: 'injected' })) : real.update(id, plan, o),
      };
      expect(E.isLeft(await importPiFile(faulty, file, { batchSize: 2 }))).toBe(true);
    });
    const cwd = nodePath.dirname(dir);
    const sessions = await cli(['--store', dir, 'sessions'], cwd);
    expect(sessions.stdout).toContain('INCOMPLETE import');
    const show = await cli(['--store', dir, 'show', 'pi:gen-1'], cwd);
    expect(show.stderr).toContain('INCOMPLETE import');
    expect((await cliJson(['--store', dir, 'log', 'pi:gen-1'], cwd)).json.warning).toContain(file);
    expect((await cliJson(['--store', dir, 'export', 'pi:gen-1'], cwd)).json.error._tag).toBe('PiImportIncomplete');
    // What it holds verifies, and verify says it is not the whole file.
    const verify = await cli(['--store', dir, 'verify'], cwd);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/pi:gen-1 .* ok, INCOMPLETE import/);
    expect(verify.stdout).toContain('stopped before finishing (pi:gen-1)');
    expect((await cliJson(['--store', dir, 'verify'], cwd)).json.incompleteImports).toEqual(['pi:gen-1']);
    // Finishing it clears the warning.
    expect((await cli(['--store', dir, 'import', file], cwd)).code).toBe(0);
    expect((await cli(['--store', dir, 'sessions'], cwd)).stdout).not.toContain('INCOMPLETE');
    expect((await cliJson(['--store', dir, 'verify'], cwd)).json.incompleteImports).toEqual([]);
  });
});
