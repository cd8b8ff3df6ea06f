/**
 * I1: pi import memory and rate. A generated pi v3 file of 50,000 message
 * entries (`test/adapters/pi/generate.ts`: turns of user, tool call, tool
 * result, answer, with labels, model changes, compactions and 2 branches) is
 * imported into a fresh store in a child process; the ratio is its peak RSS
 * over the 300 MiB budget (issue 9: ≤ 300 MB for any file size), and the
 * detail gives the rate (messages/s, MB/s) and the peak RSS of a 5,000-message
 * file from the same run (how memory grows with the file).
 *
 * `npx tsx bench/piImport.ts` runs it alone.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { writeGeneratedPiFile } from '../test/adapters/pi/generate.ts';
import { tempDir, type BenchResult } from './lib.ts';

const BUDGET_MB = 300;

interface ChildResult {
  readonly ms: number;
  readonly maxRssMb: number;
  readonly liveHeapMb: number;
  readonly messages: number;
  readonly records: number;
}

const importInChild = (dir: string, file: string): ChildResult => {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'piImportChild.ts'), dir, file], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
};

/** Runs I1 and returns its result row. */
export async function benchPiImport(): Promise<BenchResult> {
  const tmp = tempDir('pi-import');
  try {
    const small = join(tmp.path, 'small.jsonl');
    const large = join(tmp.path, 'large.jsonl');
    const smallBytes = await writeGeneratedPiFile(small, { messages: 5_000, branches: 2 });
    const largeBytes = await writeGeneratedPiFile(large, { messages: 50_000, branches: 2 });
    const s = importInChild(join(tmp.path, 'store-small'), small);
    const l = importInChild(join(tmp.path, 'store-large'), large);
    const ratio = l.maxRssMb / BUDGET_MB;
    const rate = l.messages / (l.ms / 1000);
    return {
      id: 'I1',
      ratio,
      budget: `<= 1 (peak RSS / ${BUDGET_MB} MiB)`,
      pass: ratio <= 1,
      detail:
        `50,000-message pi file (${(largeBytes / 1e6).toFixed(1)} MB, ${l.messages} message entries, ${l.records} records): ` +
        `${(l.ms / 1000).toFixed(1)} s, ${Math.round(rate)} messages/s, ${(largeBytes / 1e6 / (l.ms / 1000)).toFixed(2)} MB/s, peak RSS ${Math.round(l.maxRssMb)} MiB (live heap after the import ${Math.round(l.liveHeapMb)} MiB); ` +
        `5,000 messages (${(smallBytes / 1e6).toFixed(1)} MB): ${(s.ms / 1000).toFixed(1)} s, peak RSS ${Math.round(s.maxRssMb)} MiB`,
    };
  } finally {
    tmp.cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchPiImport();
  console.log(`${r.id}: ratio ${r.ratio.toFixed(2)} (budget ${r.budget}) ${r.pass ? 'PASS' : 'FAIL'} - ${r.detail}`);
}
