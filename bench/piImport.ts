/**
 * I1 (issue 8's P7): pi import memory and rate. Generated pi v3 files
 * (`test/adapters/pi/generate.ts`: turns of user, tool call, tool result,
 * answer, with labels, model changes, compactions and 2 branches) of 50,000,
 * 200,000 and 500,000 message entries (26, 103 and 258 MB; `PI_IMPORT_SIZES`
 * to choose, e.g. `50000,100000`) are each imported into a fresh store in a
 * child process running the compiled package (`piImportChild.mjs` on
 * `dist/`, plain `node`: what `palimpsest import` runs); the ratio is the largest peak RSS (as the OS reports it,
 * `resourceUsage().maxRSS`, in MiB) over the budget, 300 MB = 286.1 MiB (issue 9: ≤ 300 MB for
 * any file size: the largest file shows it does not grow), and the detail
 * gives, per size, the rate (messages/s; budget ≥ 5,000 on the 50,000-message
 * file), the peak RSS and the live heap after the import, then how much the
 * peak grew from the smallest to the largest file. Takes several minutes (the
 * bench is not part of `.ci/run`).
 *
 * `npm run build && npx tsx bench/piImport.ts` runs it alone.
 */
import { join } from 'node:path';
import { writeGeneratedPiFile } from '../test/adapters/pi/generate.ts';
import { runCompiledChild, tempDir, type BenchResult } from './lib.ts';

/** Issue 9's memory budget: 300 MB (decimal megabytes, as the issue writes it), in MiB as the child reports RSS. */
const BUDGET_MIB = 300e6 / 2 ** 20;
/** P7's rate budget (messages/s) and the file size it is judged on (issue 8). */
const RATE_BUDGET = 5_000;
const RATE_SIZE = 50_000;


interface ChildResult {
  readonly ms: number;
  readonly maxRssMb: number;
  readonly liveHeapMb: number;
  readonly messages: number;
  readonly records: number;
}

const importInChild = (dir: string, file: string): ChildResult => {
  const out = runCompiledChild('piImportChild.mjs', [dir, file]);
  return JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
};

/** The file sizes measured (message entries): `PI_IMPORT_SIZES`, default 50,000, 200,000 and 500,000. */
const sizes = (): number[] => {
  const env = process.env['PI_IMPORT_SIZES'];
  const list = env === undefined ? [50_000, 200_000, 500_000] : env.split(',').map(Number);
  if (list.length === 0 || list.some((n) => !Number.isSafeInteger(n) || n < 4)) throw new Error(`PI_IMPORT_SIZES must list message counts >= 4, got ${env}`);
  return list;
};

/** Runs I1 and returns its result row. */
export async function benchPiImport(): Promise<BenchResult> {
  const tmp = tempDir('pi-import');
  try {
    const rows: Array<ChildResult & { readonly size: number; readonly bytes: number }> = [];
    for (const size of sizes()) {
      const file = join(tmp.path, `${size}.jsonl`);
      const bytes = await writeGeneratedPiFile(file, { messages: size, branches: 2 });
      rows.push({ ...importInChild(join(tmp.path, `store-${size}`), file), size, bytes });
    }
    const peak = Math.max(...rows.map((r) => r.maxRssMb));
    const ratio = peak / BUDGET_MIB;
    const rateOf = (r: ChildResult): number => r.messages / (r.ms / 1000);
    // The rate half of the budget is judged on the 50,000-message file when it was measured.
    const at50k = rows.find((r) => r.size === RATE_SIZE);
    return {
      id: 'I1',
      ratio,
      budget: `<= 1 (largest peak RSS / 300 MB = ${BUDGET_MIB.toFixed(1)} MiB); >= ${RATE_BUDGET.toLocaleString('en-US')} messages/s at ${RATE_SIZE.toLocaleString('en-US')}`,
      pass: ratio <= 1 && (at50k === undefined || rateOf(at50k) >= RATE_BUDGET),
      detail: rows
        .map(
          (r) =>
            `${r.size.toLocaleString('en-US')} messages (${(r.bytes / 1e6).toFixed(1)} MB, ${r.records} records): ${(r.ms / 1000).toFixed(1)} s, ` +
            `${Math.round(rateOf(r))} messages/s, peak RSS ${Math.round(r.maxRssMb)} MiB (live heap after ${Math.round(r.liveHeapMb)} MiB)`,
        )
        .join('; ') +
        (rows.length > 1
          ? `; peak RSS ${rows[rows.length - 1]!.maxRssMb >= rows[0]!.maxRssMb ? '+' : ''}${Math.round(rows[rows.length - 1]!.maxRssMb - rows[0]!.maxRssMb)} MiB from ${rows[0]!.size.toLocaleString('en-US')} to ${rows[rows.length - 1]!.size.toLocaleString('en-US')} messages`
          : ''),
    };
  } finally {
    tmp.cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchPiImport();
  console.log(`${r.id}: ratio ${r.ratio.toFixed(2)} (budget ${r.budget}) ${r.pass ? 'PASS' : 'FAIL'} - ${r.detail}`);
}
