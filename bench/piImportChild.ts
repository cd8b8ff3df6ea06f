/**
 * Child of the pi import benchmark (`piImport.ts`): imports the pi file argv[3]
 * into a fresh store at argv[2] and prints one JSON line
 * `{ ms, maxRssMb, messages, records }` (peak resident set size from
 * `process.resourceUsage().maxRSS`, in MiB), so the parent measures one import
 * per process.
 */
import { SessionStore } from '../src/store/index.ts';
import { importPiFile } from '../src/adapters/pi/store.ts';
import { must } from './lib.ts';

const [dir, file] = process.argv.slice(2);
const store = must(await SessionStore.open(dir!));
const t0 = performance.now();
const r = must(await importPiFile(store, file!));
const ms = performance.now() - t0;
must(await store.close());
const maxRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ ms, maxRssMb, messages: r.report.messages, records: r.sessions.reduce((n, s) => n + s.records, 0) })}\n`);
