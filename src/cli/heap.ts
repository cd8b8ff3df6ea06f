/**
 * How fast the `palimpsest` process lets V8's heap grow.
 *
 * After each full GC, V8 (Node 20: V8 11.3) sets the next old-generation limit
 * at the live heap times a factor it picks from 1.1 to 4, the larger the
 * faster objects reach the old generation. A long import or export does just
 * that (each batch of records and LevelDB operations lives across its awaited
 * write), so with a live heap of 20–45 MB its heap grew to 120–220 MB between
 * full GCs, most of it garbage: that, not what is live, made its peak RSS
 * (bench/RESULTS.md, "I1" and "I2"). The CLI fixes the factor at 1.5 with
 * V8's `--heap-growing-percent=50`: a 25,000-label import's peak fell from
 * 330–350 to 236–272 MiB in paired runs, at a rate within the noise.
 *
 * Only the CLI sets it, at start (`main.ts`), and the import benchmark's child
 * does the same to measure what `palimpsest import` runs. The library sets no
 * V8 flag: they are process-wide, so an application embedding palimpsest
 * chooses its own (`node --heap-growing-percent=50 app.js`). A process started
 * with its own `--heap-growing-percent` (in its arguments or `NODE_OPTIONS`)
 * keeps it.
 */
import { setFlagsFromString } from 'node:v8';

/** The heap growing percent the CLI sets: the next old-generation limit is 1.5× the live heap. */
export const CLI_HEAP_GROWING_PERCENT = 50;

/**
 * The V8 flag the CLI sets at start (`--heap-growing-percent=50`), or
 * `undefined` when the process already has one: `execArgv` (node's own
 * arguments, `process.execArgv`) or `nodeOptions` (`NODE_OPTIONS`) names
 * `--heap-growing-percent` (or `--heap_growing_percent`, as V8 also reads it).
 */
export const heapGrowthFlag = (execArgv: readonly string[], nodeOptions: string | undefined): string | undefined => {
  const given = /--heap[-_]growing[-_]percent\b/;
  if (execArgv.some((a) => given.test(a)) || (nodeOptions !== undefined && given.test(nodeOptions))) return undefined;
  return `--heap-growing-percent=${CLI_HEAP_GROWING_PERCENT}`;
};

/** Sets `heapGrowthFlag` for this process (V8's `setFlagsFromString`), unless it was started with its own. Returns the flag set, if any. */
export const limitHeapGrowth = (): string | undefined => {
  const flag = heapGrowthFlag(process.execArgv, process.env['NODE_OPTIONS']);
  if (flag !== undefined) setFlagsFromString(flag);
  return flag;
};
