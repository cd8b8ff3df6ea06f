/**
 * E1: pi whole-tree export memory. Generated pi v3 files
 * (`test/adapters/pi/generate.ts`, 2 branches) of 50,000 and 200,000 message
 * entries (`PI_EXPORT_SIZES` to choose, e.g. `50000,100000`) are each imported
 * into a fresh store (a child process, `piImportChild.mjs`), then exported
 * with `--tree` to a file in another child process (`piExportChild.mjs`: what
 * `palimpsest export <id> --tree --out FILE` runs). The ratio is the largest
 * peak RSS over the sizes measured (as the OS reports it,
 * `resourceUsage().maxRSS`, in MiB) over the budget, 300 MB = 286.1 MiB (an
 * export's memory must not grow with the session: the largest file shows
 * it); the detail gives, per size,
 * the export time and rate (entries/s), its peak RSS and the live heap after
 * it, then how much the peak grew from the smallest to the largest file. Each
 * export is checked to give back the imported file byte for byte (a bench
 * that measured a wrong export would be no figure). Takes a few minutes (the
 * bench is not part of `.ci/run`).
 *
 * `npm run build && npx tsx bench/piExport.ts` runs it alone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeGeneratedPiFile } from '../test/adapters/pi/generate.ts';
import { runCompiledChild, tempDir, type BenchResult } from './lib.ts';

/** The memory budget: 300 MB (decimal megabytes), in MiB as the child reports RSS. */
const BUDGET_MIB = 300e6 / 2 ** 20;
/** The session a generated file imports as (its header id is `gen-1`). */
const GENERATED_ID = 'pi:gen-1';

interface ChildResult {
  readonly ms: number;
  readonly maxRssMb: number;
  readonly liveHeapMb: number;
  readonly entries: number;
  readonly bytes: number;
}

/** The file sizes measured (message entries): `PI_EXPORT_SIZES`, default 50,000 and 200,000. */
const sizes = (): number[] => {
  const env = process.env['PI_EXPORT_SIZES'];
  const list = env === undefined ? [50_000, 200_000] : env.split(',').map(Number);
  if (list.length === 0 || list.some((n) => !Number.isSafeInteger(n) || n < 4)) throw new Error(`PI_EXPORT_SIZES must list message counts >= 4, got ${env}`);
  return list;
};

/** Runs E1 and returns its result row. */
export async function benchPiExport(): Promise<BenchResult> {
  const tmp = tempDir('pi-export');
  try {
    const rows: Array<ChildResult & { readonly size: number }> = [];
    for (const size of sizes()) {
      const file = join(tmp.path, `${size}.jsonl`);
      await writeGeneratedPiFile(file, { messages: size, branches: 2 });
      const store = join(tmp.path, `store-${size}`);
      runCompiledChild('piImportChild.mjs', [store, file]);
      const out = join(tmp.path, `export-${size}.jsonl`);
      const r = JSON.parse(runCompiledChild('piExportChild.mjs', [store, GENERATED_ID, out]).trim().split('\n').pop()!) as ChildResult;
      if (!readFileSync(out).equals(readFileSync(file))) throw new Error(`E1: the tree export of the ${size}-message file differs from the file imported`);
      rows.push({ ...r, size });
    }
    const ratio = Math.max(...rows.map((r) => r.maxRssMb)) / BUDGET_MIB;
    const first = rows[0]!;
    const last = rows[rows.length - 1]!;
    return {
      id: 'E1',
      ratio,
      budget: `<= 1 (largest peak RSS of a tree export / 300 MB = ${BUDGET_MIB.toFixed(1)} MiB)`,
      pass: ratio <= 1,
      detail:
        rows
          .map(
            (r) =>
              `${r.size.toLocaleString('en-US')} messages (${r.entries.toLocaleString('en-US')} entries, ${(r.bytes / 1e6).toFixed(1)} MB): ${(r.ms / 1000).toFixed(1)} s, ` +
              `${Math.round(r.entries / (r.ms / 1000))} entries/s, peak RSS ${Math.round(r.maxRssMb)} MiB (live heap after ${Math.round(r.liveHeapMb)} MiB)`,
          )
          .join('; ') +
        (rows.length > 1
          ? `; peak RSS ${last.maxRssMb >= first.maxRssMb ? '+' : ''}${Math.round(last.maxRssMb - first.maxRssMb)} MiB from ${first.size.toLocaleString('en-US')} to ${last.size.toLocaleString('en-US')} messages`
          : ''),
    };
  } finally {
    tmp.cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchPiExport();
  console.log(`${r.id}: ratio ${r.ratio.toFixed(2)} (budget ${r.budget}) ${r.pass ? 'PASS' : 'FAIL'} - ${r.detail}`);
}
