/**
 * `palimpsest export`: streamed to stdout or to `--out FILE`, which is written
 * to a temporary file and given its name only once complete: a failing write
 * (a full filesystem) leaves no FILE, an existing FILE is left alone unless
 * `--force`, and no temporary file stays behind.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { writeFileAtomically } from '../../src/cli/atomicFile.ts';
import { writeGeneratedPiFile } from '../adapters/pi/generate.ts';
import { cleanup, cli, cliJson, MAIN, tempDir, TSX } from './helpers.ts';

afterAll(cleanup);

const ID = 'pi:gen-1';

/** A working directory whose default store holds a generated pi file of `messages` messages with 2 branches. */
const importedStore = async (label: string, messages: number): Promise<string> => {
  const cwd = tempDir(label);
  const file = nodePath.join(cwd, 'gen.jsonl');
  await writeGeneratedPiFile(file, { messages, branches: 2, textChars: 100 });
  expect((await cli(['import', file], cwd)).code).toBe(0);
  return cwd;
};

describe('palimpsest export --out', () => {
  it('writes the stdout bytes; refuses an existing file (unchanged) unless --force; leaves no temporary file', { timeout: 120_000 }, async () => {
    const cwd = await importedStore('export-out', 200);
    const stdout = await cli(['export', ID, '--tree'], cwd);
    expect(stdout.code).toBe(0);
    // The whole tree comes back as the file was written.
    expect(stdout.stdout).toBe(fs.readFileSync(nodePath.join(cwd, 'gen.jsonl'), 'utf8'));

    const out = await cliJson(['export', ID, '--tree', '--out', 'tree.jsonl'], cwd);
    expect(out.code).toBe(0);
    expect(out.json).toMatchObject({ sessionId: ID, tree: true, lines: stdout.stdout.split('\n').length - 1, bytes: Buffer.byteLength(stdout.stdout) });
    expect(fs.readFileSync(nodePath.join(cwd, 'tree.jsonl'), 'utf8')).toBe(stdout.stdout);

    fs.writeFileSync(nodePath.join(cwd, 'mine.jsonl'), 'not yours\n');
    const refused = await cliJson(['export', ID, '--out', 'mine.jsonl'], cwd);
    expect(refused.code).toBe(1);
    expect(refused.json.error).toMatchObject({ _tag: 'FileError', code: 'EEXIST' });
    expect(fs.readFileSync(nodePath.join(cwd, 'mine.jsonl'), 'utf8')).toBe('not yours\n');

    const forced = await cli(['export', ID, '--out', 'mine.jsonl', '--force'], cwd);
    expect(forced.code).toBe(0);
    expect(fs.readFileSync(nodePath.join(cwd, 'mine.jsonl'), 'utf8')).toBe((await cli(['export', ID], cwd)).stdout);

    const missingDir = await cliJson(['export', ID, '--out', 'no/such/dir.jsonl'], cwd);
    expect(missingDir.json.error).toMatchObject({ _tag: 'FileError', code: 'ENOENT' });
    expect(fs.readdirSync(cwd).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a full filesystem stops the write: exit 1, no FILE, no temporary file; with room the same command writes it', { timeout: 120_000 }, async () => {
    const cwd = await importedStore('export-full', 1_000);
    const expected = (await cli(['export', ID, '--tree'], cwd)).stdout;
    expect(Buffer.byteLength(expected)).toBeGreaterThan(256 * 1024);
    const mnt = tempDir('export-tmpfs');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
    try {
      const file = nodePath.join(mnt, 'tree.jsonl');
      const full = await cliJson(['export', ID, '--tree', '--out', file], cwd);
      expect(full.code).toBe(1);
      expect(full.json.error).toMatchObject({ _tag: 'FileError', code: 'ENOSPC' });
      expect(fs.readdirSync(mnt)).toEqual([]);
      execFileSync('mount', ['-o', 'remount,size=64m', mnt]);
      expect((await cli(['export', ID, '--tree', '--out', file], cwd)).code).toBe(0);
      expect(fs.readFileSync(file, 'utf8')).toBe(expected);
      expect(fs.readdirSync(mnt)).toEqual(['tree.jsonl']);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});

describe('palimpsest export --out killed part-way', () => {
  it('SIGKILL while the temporary file is being written leaves no FILE; the same command then writes it whole', { timeout: 180_000 }, async () => {
    const cwd = await importedStore('export-kill', 6_000);
    const expected = (await cli(['export', ID, '--tree'], cwd)).stdout;
    for (let run = 0; run < 3; run++) {
      const before = new Set(fs.readdirSync(cwd));
      const child = spawn(process.execPath, ['--import', TSX, MAIN, 'export', ID, '--tree', '--out', 'tree.jsonl'], { cwd, stdio: 'ignore' });
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      // Kill as soon as the temporary file holds some bytes (the export is then part-way).
      let killed = false;
      while (!killed && child.exitCode === null) {
        const tmp = fs.readdirSync(cwd).find((f) => !before.has(f) && f.startsWith('.tree.jsonl.') && f.endsWith('.tmp'));
        if (tmp !== undefined && fs.statSync(nodePath.join(cwd, tmp)).size > 0) {
          child.kill('SIGKILL');
          killed = true;
        } else await new Promise((r) => setTimeout(r, 5));
      }
      await exited;
      expect(killed).toBe(true);
      expect(fs.existsSync(nodePath.join(cwd, 'tree.jsonl'))).toBe(false);
    }
    // What the kills left is only the hidden temporary files, visibly incomplete.
    const left = fs.readdirSync(cwd).filter((f) => f.endsWith('.tmp'));
    expect(left.length).toBe(3);
    expect(left.every((f) => /^\.tree\.jsonl\.\d+-[0-9a-f]{12}\.tmp$/.test(f) && fs.readFileSync(nodePath.join(cwd, f), 'utf8').length < expected.length)).toBe(true);
    expect((await cli(['export', ID, '--tree', '--out', 'tree.jsonl'], cwd)).code).toBe(0);
    expect(fs.readFileSync(nodePath.join(cwd, 'tree.jsonl'), 'utf8')).toBe(expected);
  });
});

describe('writeFileAtomically', () => {
  it('a producer that gives up (Left) or throws part-way leaves no file and no temporary file', async () => {
    const dir = tempDir('atomic');
    const file = nodePath.join(dir, 'out.txt');
    const big = 'x'.repeat(100_000);
    const gaveUp = await writeFileAtomically(file, async (write) => {
      await write(big);
      await write(big);
      return E.left({ _tag: 'Stop' as const });
    });
    expect(gaveUp).toEqual(E.left({ _tag: 'Stop' }));
    const boom = new Error('boom');
    await expect(
      writeFileAtomically(file, async (write) => {
        await write(big);
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(fs.readdirSync(dir)).toEqual([]);
    const ok = await writeFileAtomically(file, async (write) => {
      await write('a\n');
      await write(big);
      return E.right(7);
    });
    expect(ok).toEqual(E.right({ value: 7, bytes: 2 + big.length }));
    expect(fs.readFileSync(file, 'utf8')).toBe(`a\n${big}`);
    expect(fs.readdirSync(dir)).toEqual(['out.txt']);
  });
});
