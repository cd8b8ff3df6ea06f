/**
 * `npm run bench [-- --json] [-- --only B1,B4]`: runs every benchmark and prints a
 * table of ratios; with `--json` the last line is one JSON array
 * `[{ "id", "ratio", "budget", "pass", "detail" }, …]`. Exit code 0 whether or
 * not budgets are met (the figures are the report); 1 if a benchmark crashed.
 */
import { benchB1, benchB5, benchLong } from './store.ts';
import { benchRealtimeRestore } from './realtimeRestore.ts';
import { benchPeers } from './peer.ts';
import { benchPiImport } from './piImport.ts';
import { benchPiExport } from './piExport.ts';
import { benchPiLong, benchPiTurns } from './piPeer.ts';
import { benchPostgres } from './postgres.ts';
import { table, type BenchResult } from './lib.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const onlyArg = args[args.indexOf('--only') + 1];
const only = args.includes('--only') && onlyArg !== undefined ? new Set(onlyArg.split(',')) : undefined;

const suites: Array<{ ids: string[]; run: () => Promise<BenchResult | BenchResult[]> }> = [
  { ids: ['B1'], run: benchB1 },
  { ids: ['B2', 'B3', 'B4'], run: benchLong },
  { ids: ['B5'], run: benchB5 },
  { ids: ['P1', 'P2', 'P3'], run: benchPeers },
  { ids: ['R1'], run: async () => ({ ...(await benchRealtimeRestore()), id: 'R1' }) },
  { ids: ['I1'], run: benchPiImport },
  { ids: ['E1'], run: benchPiExport },
  { ids: ['P4', 'P4-turn'], run: benchPiTurns },
  { ids: ['P5', 'P6'], run: benchPiLong },
  { ids: ['B1-pg', 'B4-pg', 'B4-pg-level', 'P4-pg', 'C1', 'C2'], run: benchPostgres },
];

const results: BenchResult[] = [];
for (const s of suites) {
  if (only !== undefined && !s.ids.some((id) => only.has(id))) continue;
  const t0 = Date.now();
  const r = await s.run();
  for (const x of Array.isArray(r) ? r : [r]) results.push(x);
  if (!json) process.stderr.write(`${s.ids.join(', ')} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}
console.log(table(results));
if (json) console.log(JSON.stringify(results.map((r) => ({ id: r.id, ratio: Number(r.ratio.toFixed(4)), budget: r.budget, pass: r.pass, detail: r.detail }))));
