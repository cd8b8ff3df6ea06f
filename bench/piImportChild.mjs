/**
 * Child of the pi import benchmark (`piImport.ts`, and `piExport.ts` to fill
 * its stores): imports the pi file argv[3] into a fresh store at argv[2] with
 * the compiled package (`dist/`, what `palimpsest import` and a library user
 * run; plain `node`, no TypeScript loader in the process) and prints one JSON
 * line `{ ms, maxRssMb, liveHeapMb, messages, records }` (peak resident set
 * size from `process.resourceUsage().maxRSS`, and the V8 heap still in use
 * after a full GC once the import is done, both in MiB), so the parent
 * measures one import per process. Sets V8's heap growing percent as the
 * CLI does (`cli/heap.ts`), so it measures what `palimpsest import` runs.
 */
import { limitHeapGrowth } from '../dist/cli/heap.js';
import { SessionStore } from '../dist/store/index.js';
import { importPiFile } from '../dist/adapters/pi/store.js';
import { must } from './childLib.mjs';

limitHeapGrowth();

const [dir, file] = process.argv.slice(2);
const store = must(await SessionStore.open(dir));
const t0 = performance.now();
const r = must(await importPiFile(store, file));
const ms = performance.now() - t0;
must(await store.close());
const maxRssMb = process.resourceUsage().maxRSS / 1024;
// What is still reachable once the import is done (with --expose-gc): the peak RSS above it is heap the GC had not yet reclaimed.
globalThis.gc?.();
const liveHeapMb = process.memoryUsage().heapUsed / 1048576;
process.stdout.write(`${JSON.stringify({ ms, maxRssMb, liveHeapMb, messages: r.report.messages, records: r.sessions.reduce((n, s) => n + s.records, 0) })}\n`);
