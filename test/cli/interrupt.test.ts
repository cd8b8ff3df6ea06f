/**
 * Ctrl-C (SIGINT) in the middle of `import` and `export --out`, on the real
 * CLI in a child process: the command removes its scratch files (the import's
 * spill directory under the OS temp directory, the export's hidden `.tmp`
 * file), prints an `Interrupted` error saying what was left, and dies of the
 * signal; the same command run again then finishes.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeGeneratedPiFile } from '../adapters/pi/generate.ts';
import { cleanup, cli, cliJson, MAIN, tempDir, TSX } from './helpers.ts';

afterAll(cleanup);

/** A running `palimpsest <args>`: its pid, and how it ended (exit code or signal) with its stderr. */
const start = (args: readonly string[], cwd: string) => {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, '--no-pager', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { pid: child.pid!, kill: (s: NodeJS.Signals) => child.kill(s), ended };
};

/** Polls (every 10 ms) until `cond()` holds; fails after `limitMs` (a hang, not a timing assertion). */
const until = async (cond: () => boolean, what: string, limitMs = 120_000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > limitMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** The spill directories of process `pid` under the OS temp directory. */
const spillsOf = (pid: number): string[] => fs.readdirSync(os.tmpdir()).filter((n) => new RegExp(`^palimpsest-pi-[0-9a-f]+-${pid}-`).test(n));

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
    const file = nodePath.join(dir, 'long.jsonl');
    await writeGeneratedPiFile(file, { messages: 12_000, branches: 1 });
    const store = nodePath.join(dir, 'store');

    // Planning: nothing written yet.
    const planning = start(['--store', store, 'import', file], dir);
    await until(() => spillsOf(planning.pid).length > 0, 'the spill of the planning import');
    planning.kill('SIGINT');
    const p = await planning.ended;
    expect([p.code, p.signal]).toEqual([null, 'SIGINT']);
    expect(p.stderr).toContain('palimpsest: import interrupted by SIGINT: nothing of');
    expect(p.stderr).toContain('[Interrupted]');
    expect(spillsOf(planning.pid)).toEqual([]);

    // Writing: records are in the store's log.
    const writing = start(['--store', store, 'import', file], dir);
    await until(() => logBytes(store) > 256 * 1024, 'records written by the import');
    writing.kill('SIGINT');
    const w = await writing.ended;
    expect([w.code, w.signal]).toEqual([null, 'SIGINT']);
    expect(w.stderr).toContain('palimpsest: import interrupted by SIGINT: the import of');
    expect(w.stderr).toContain('stopped part-way; run the same import again to finish it');
    expect(spillsOf(writing.pid)).toEqual([]);
    // Whatever it wrote is marked: no session of the stopped import passes for a complete one.
    const left = await cliJson(['--store', store, 'sessions'], dir);
    expect(left.json.sessions.filter((s: { incompleteImport?: unknown }) => s.incompleteImport !== true)).toEqual([]);

    const again = await cli(['--store', store, 'import', file], dir);
    expect(again.code).toBe(0);
    expect((await cli(['--store', store, 'verify'], dir)).code).toBe(0);
    const after = await cliJson(['--store', store, 'sessions'], dir);
    expect(after.json.sessions.every((s: { incompleteImport?: unknown }) => s.incompleteImport === undefined)).toBe(true);
  });

  it('while export --out writes: no file, no temporary file, Interrupted; the same export then writes it', { timeout: 240_000 }, async () => {
    const dir = tempDir('interrupt-export');
    const file = nodePath.join(dir, 'long.jsonl');
    await writeGeneratedPiFile(file, { messages: 12_000, textChars: 2_000 });
    const store = nodePath.join(dir, 'store');
    const imported = await cliJson(['--store', store, 'import', file], dir);
    expect(imported.code).toBe(0);
    const id: string = imported.json.sessions[0].sessionId;
    const outDir = tempDir('interrupt-export-out');

    const exporting = start(['--store', store, 'export', id, '--tree', '--out', nodePath.join(outDir, 'x.jsonl')], dir);
    await until(() => fs.readdirSync(outDir).some((n) => n.endsWith('.tmp') && fs.statSync(nodePath.join(outDir, n)).size > 0), 'the temporary file of the export');
    exporting.kill('SIGINT');
    const e = await exporting.ended;
    expect([e.code, e.signal]).toEqual([null, 'SIGINT']);
    expect(e.stderr).toContain(`palimpsest: export interrupted by SIGINT: ${nodePath.join(outDir, 'x.jsonl')} was not written [Interrupted]`);
    expect(fs.readdirSync(outDir)).toEqual([]);

    const again = await cli(['--store', store, 'export', id, '--tree', '--out', nodePath.join(outDir, 'x.jsonl')], dir);
    expect(again.code).toBe(0);
    expect(fs.readFileSync(nodePath.join(outDir, 'x.jsonl'), 'utf8')).toBe(fs.readFileSync(file, 'utf8'));
  });
});
