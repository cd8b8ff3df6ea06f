/**
 * Child of the pi export benchmark (`piExport.ts`): exports session argv[3] of
 * the store at argv[2] with `--tree` semantics to the new file argv[4], the
 * way `palimpsest export <id> --tree --out FILE` does (`exportPiTo` into
 * `writeFileAtomically`), with the compiled package (`dist/`, plain `node`),
 * and prints one JSON line `{ ms, maxRssMb, liveHeapMb, entries, bytes }`
 * (peak resident set size from `process.resourceUsage().maxRSS` and the V8
 * heap still in use after a full GC, both in MiB; bytes written), so the
 * parent measures one export per process. Sets V8's heap growing percent as
 * the CLI does (`cli/heap.ts`).
 */
import { resolve } from 'node:path';
import { limitHeapGrowth } from '../dist/cli/heap.js';
import { SessionStore } from '../dist/store/index.js';
import { exportPiTo } from '../dist/adapters/pi/sourceExport.js';
import { writeFileAtomically } from '../dist/cli/atomicFile.js';
import { must } from './childLib.mjs';

limitHeapGrowth();

const [dir, id, out] = process.argv.slice(2);
const store = must(await SessionStore.open(dir));
const t0 = performance.now();
const w = must(await writeFileAtomically(resolve(out), (write) => exportPiTo(store, id, write, { tree: true })));
const ms = performance.now() - t0;
must(await store.close());
const maxRssMb = process.resourceUsage().maxRSS / 1024;
globalThis.gc?.();
const liveHeapMb = process.memoryUsage().heapUsed / 1048576;
process.stdout.write(`${JSON.stringify({ ms, maxRssMb, liveHeapMb, entries: w.value.entries, bytes: w.bytes })}\n`);
