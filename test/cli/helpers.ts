/**
 * Runs the real `palimpsest` command as a child process from its TypeScript
 * sources (`node --import tsx src/cli/main.ts`, so no build is needed) in a temp
 * working directory. The compiled bin is tested by `test/package/`.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The package root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** tsx's loader as a file URL (the child runs in a temp directory, where a bare `tsx` would not resolve). */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** The CLI entry point (TypeScript, run through tsx). */
export const MAIN = nodePath.join(ROOT, 'src', 'cli', 'main.ts');
/** The bundled real pi session. */
export const REAL = nodePath.join(ROOT, 'data', 'pi-large-session.jsonl');
/** Its imported session id. */
export const REAL_ID = 'pi:d703a1a9-1b7b-4fb1-b512-c9738b1fe617';

/** What a run printed and how it exited. */
export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `palimpsest <args>` in `cwd` (stdout/stderr are pipes, so no progress bars). */
export const cli = (args: readonly string[], cwd: string): Promise<Ran> =>
  new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', TSX, MAIN, ...args], { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') {
        reject(err);
        return;
      }
      resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr });
    });
  });

/** Runs with `--json` and parses stdout (which must be exactly one JSON document). */
export const cliJson = async (args: readonly string[], cwd: string): Promise<Ran & { readonly json: any }> => {
  const r = await cli(['--json', ...args], cwd);
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch (e) {
    throw new Error(`stdout of palimpsest --json ${args.join(' ')} is not one JSON document (exit ${r.code}): ${r.stdout.slice(0, 500)}\nstderr: ${r.stderr.slice(0, 500)}`);
  }
  return { ...r, json };
};

const made: string[] = [];
/** A fresh temp directory (removed by `cleanup`). */
export const tempDir = (label: string): string => {
  const d = fs.mkdtempSync(nodePath.join(os.tmpdir(), `palimpsest-cli-${label}-`));
  made.push(d);
  return d;
};
/** Removes every temp directory made so far. */
export const cleanup = (): void => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
};
