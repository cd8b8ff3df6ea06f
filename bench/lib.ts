/**
 * Benchmark helpers: timing, temp directories, child processes, the result row and the table.
 * Every benchmark reports a ratio of two measurements taken in the same run
 * (ours against raw LevelDB, long against short), never a bare time.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One benchmark's outcome: `ratio` compared with `budget` gives `pass`. */
export interface BenchResult {
  readonly id: string;
  readonly ratio: number;
  readonly budget: string;
  readonly pass: boolean;
  /** The two measurements behind the ratio, in words. */
  readonly detail: string;
}

/** Milliseconds taken by `f` (high-resolution). */
export const timeMs = async (f: () => Promise<unknown> | unknown): Promise<number> => {
  const t0 = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

/** The median of `runs` timings of `f` (ms). */
export const medianMs = async (runs: number, f: () => Promise<unknown> | unknown): Promise<number> => {
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) ts.push(await timeMs(f));
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)]!;
};

/** A fresh temporary directory; `cleanup()` removes it. */
export const tempDir = (label: string): { path: string; cleanup: () => void } => {
  const path = mkdtempSync(join(tmpdir(), `palimpsest-bench-${label}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
};

/** Unwraps an fp-ts Either or throws its Left (benchmarks abort on an unexpected error). */
export const must = <A>(e: { _tag: 'Left'; left: unknown } | { _tag: 'Right'; right: A }): A => {
  if (e._tag === 'Left') throw new Error(`benchmark step failed: ${JSON.stringify(e.left)}`);
  return e.right;
};

/**
 * Runs `bench/<script>` (a plain-JavaScript child, `*.mjs`) with `args` in
 * `node --expose-gc` and returns its stdout (UTF-8). The child imports the
 * compiled package (`dist/`, what users run): no TypeScript loader (tsx's
 * loader thread and transpiled sources added ~30 MiB to a 500k pi import's
 * peak RSS) is in the process it measures. Throws, saying so, when the
 * package has not been built (`npm run bench` builds first).
 */
export const runCompiledChild = (script: string, args: readonly string[]): string => {
  const root = join(import.meta.dirname, '..');
  if (!existsSync(join(root, 'dist', 'store', 'index.js'))) throw new Error('the benchmark children run the compiled package: run `npm run build` first (`npm run bench` does)');
  return execFileSync(process.execPath, ['--expose-gc', join(import.meta.dirname, script), ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
};

/** Formats results as an aligned text table. */
export const table = (results: readonly BenchResult[]): string => {
  const rows = [['id', 'ratio', 'budget', 'pass', 'measured'], ...results.map((r) => [r.id, r.ratio.toFixed(3), r.budget, r.pass ? 'yes' : 'NO', r.detail])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
};
