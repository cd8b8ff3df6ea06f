/**
 * Ctrl-C (SIGINT) in the middle of `import`, `export --tree --out` and
 * `export --tree` to stdout, on the real CLI in a child process whose OS temp
 * directory (TMPDIR) is one this test owns: the command removes its scratch
 * files (its spill directory there, the export's hidden `.tmp` file), prints
 * an `Interrupted` error saying what was left, and dies of the signal (exit
 * status 130 in a shell); an export leaves the store as it was; the same
 * command run again then finishes.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeGeneratedPiFile } from '../adapters/pi/generate.ts';
import { cleanup, cli, cliJson, MAIN, tempDir, TSX } from './helpers.ts';

afterAll(cleanup);

/**
 * A running `palimpsest <args>` with `TMPDIR=tmp`: its pid, the bytes it has
 * printed on stdout so far, and how it ended (exit code or signal) with its
 * stderr.
 */
const start = (args: readonly string[], cwd: string, tmp: string) => {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, '--no-pager', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp } });
  let stderr = '';
  let stdoutBytes = 0;
  child.stdout.on('data', (d: Buffer) => (stdoutBytes += d.length));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { pid: child.pid!, kill: (s: NodeJS.Signals) => child.kill(s), ended, stdoutBytes: () => stdoutBytes };
};

/** The exit status a shell reports for a process that ended so: its code, or 128 + the number of the signal it died of. */
const exitStatus = (e: { code: number | null; signal: NodeJS.Signals | null }): number | undefined =>
  e.code ?? (e.signal === null ? undefined : 128 + os.constants.signals[e.signal]);

/** Polls (every 10 ms) until `cond()` holds; fails after `limitMs` (a hang, not a timing assertion). */
const until = async (cond: () => boolean, what: string, limitMs = 120_000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > limitMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/**
 * The spill directories of process `pid` in `tmp` (`palimpsest-pi-<key>-<pid>-…`,
 * any key: an import's hex, an export's `x` and hex); read here, not with
 * `spill.ts`'s own parse, so a wrong parse there cannot hide one.
 */
const spillsOf = (tmp: string, pid: number): string[] => fs.readdirSync(tmp).filter((n) => n.startsWith('palimpsest-pi-') && n.includes(`-${pid}-`));

/** Everything `tmp` holds that palimpsest named (tsx keeps its own cache there too). */
const ours = (tmp: string): string[] => fs.readdirSync(tmp).filter((n) => n.startsWith('palimpsest'));

/** What `verify --json` says of every session (the head of each hash chain: seq, revision, records, bytes). */
const storeState = async (store: string, cwd: string): Promise<unknown> => {
  const v = await cliJson(['--store', store, 'verify'], cwd);
  expect(v.code).toBe(0);
  return { sessions: v.json.sessions, records: v.json.records, bytes: v.json.bytes, incompleteImports: v.json.incompleteImports };
};

/** Bytes of LevelDB's write-ahead logs in `store` (grows as records are written). */
const logBytes = (store: string): number => {
  try {
    return fs
      .readdirSync(store)
      .filter((n) => n.endsWith('.log'))
      .reduce((sum, n) => sum + fs.statSync(nodePath.join(store, n)).size, 0);
  } catch {
    return 0;
  }
};

describe('Ctrl-C', () => {
  it('while an import plans or writes: its spill is removed, Interrupted says what was left, the process dies of SIGINT; the same import then finishes', { timeout: 240_000 }, async () => {
    const dir = tempDir('interrupt-import');
    const tmp = tempDir('interrupt-import-tmp');
    const file = nodePath.join(dir, 'long.jsonl');
    await writeGeneratedPiFile(file, { messages: 12_000, branches: 1 });
    const store = nodePath.join(dir, 'store');

    // Planning: nothing written yet.
    const planning = start(['--store', store, 'import', file], dir, tmp);
    await until(() => spillsOf(tmp, planning.pid).length > 0, 'the spill of the planning import');
    planning.kill('SIGINT');
    const p = await planning.ended;
    expect([p.code, p.signal, exitStatus(p)]).toEqual([null, 'SIGINT', 130]);
    expect(p.stderr).toContain('palimpsest: import interrupted by SIGINT: nothing of');
    expect(p.stderr).toContain('[Interrupted]');
    expect(ours(tmp)).toEqual([]);

    // Writing: records are in the store's log.
    const writing = start(['--store', store, 'import', file], dir, tmp);
    await until(() => logBytes(store) > 256 * 1024, 'records written by the import');
    writing.kill('SIGINT');
    const w = await writing.ended;
    expect([w.code, w.signal, exitStatus(w)]).toEqual([null, 'SIGINT', 130]);
    expect(w.stderr).toContain('palimpsest: import interrupted by SIGINT: the import of');
    expect(w.stderr).toContain('stopped part-way; run the same import again to finish it');
    expect(ours(tmp)).toEqual([]);
    // Whatever it wrote is marked: no session of the stopped import passes for a complete one.
    const left = await cliJson(['--store', store, 'sessions'], dir);
    expect(left.json.sessions.filter((s: { incompleteImport?: unknown }) => s.incompleteImport !== true)).toEqual([]);

    const again = await start(['--store', store, 'import', file], dir, tmp).ended;
    expect(again.code).toBe(0);
    expect(ours(tmp)).toEqual([]);
    expect((await cli(['--store', store, 'verify'], dir)).code).toBe(0);
    const after = await cliJson(['--store', store, 'sessions'], dir);
    expect(after.json.sessions.every((s: { incompleteImport?: unknown }) => s.incompleteImport === undefined)).toBe(true);
  });

  it('while export --tree writes (--out, stdout): no file, no temporary file, no scratch directory, the store unchanged, Interrupted; the same export then writes it', { timeout: 240_000 }, async () => {
    const dir = tempDir('interrupt-export');
    const tmp = tempDir('interrupt-export-tmp');
    const file = nodePath.join(dir, 'long.jsonl');
    await writeGeneratedPiFile(file, { messages: 12_000, textChars: 2_000 });
    const store = nodePath.join(dir, 'store');
    const imported = await cliJson(['--store', store, 'import', file], dir);
    expect(imported.code).toBe(0);
    const id: string = imported.json.sessions[0].sessionId;
    const before = await storeState(store, dir);
    const outDir = tempDir('interrupt-export-out');
    const out = nodePath.join(outDir, 'x.jsonl');
    const tmpFileWritten = (): boolean => fs.readdirSync(outDir).some((n) => n.endsWith('.tmp') && fs.statSync(nodePath.join(outDir, n)).size > 0);

    // --out: the stored source is copied to the spill, then lines go to the temporary file.
    const exporting = start(['--store', store, 'export', id, '--tree', '--out', out], dir, tmp);
    await until(() => spillsOf(tmp, exporting.pid).length > 0 && tmpFileWritten(), 'the spill and the temporary file of the export');
    exporting.kill('SIGINT');
    const e = await exporting.ended;
    expect([e.code, e.signal, exitStatus(e)]).toEqual([null, 'SIGINT', 130]);
    expect(e.stderr).toContain(`palimpsest: export interrupted by SIGINT: ${out} was not written [Interrupted]`);
    expect(fs.readdirSync(outDir)).toEqual([]);
    expect(spillsOf(tmp, exporting.pid)).toEqual([]);
    expect(ours(tmp)).toEqual([]);
    expect(await storeState(store, dir)).toEqual(before);

    // Stdout: the same spill, removed the same way.
    const streaming = start(['--store', store, 'export', id, '--tree'], dir, tmp);
    await until(() => spillsOf(tmp, streaming.pid).length > 0 && streaming.stdoutBytes() > 0, 'the spill and the first lines of the export');
    streaming.kill('SIGINT');
    const s = await streaming.ended;
    expect([s.code, s.signal, exitStatus(s)]).toEqual([null, 'SIGINT', 130]);
    expect(s.stderr).toContain('palimpsest: export interrupted by SIGINT: the JSONL on stdout stops part-way (incomplete) [Interrupted]');
    expect(ours(tmp)).toEqual([]);
    expect(await storeState(store, dir)).toEqual(before);

    const again = await start(['--store', store, 'export', id, '--tree', '--out', out], dir, tmp).ended;
    expect(again.code).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe(fs.readFileSync(file, 'utf8'));
    expect(ours(tmp)).toEqual([]);
    expect(await storeState(store, dir)).toEqual(before);
  });
});
