/**
 * What the benchmarks' child processes (`piImportChild.mjs`,
 * `piExportChild.mjs`) share. They are plain JavaScript, run by `node`
 * without a TypeScript loader, so a child's memory is the compiled package's
 * alone; `lib.ts`'s `runCompiledChild` starts one.
 */

/** The value of a `Right`; throws naming the `Left` otherwise (as `lib.ts`'s `must`). */
export const must = (e) => {
  if (e._tag === 'Left') throw new Error(`benchmark step failed: ${JSON.stringify(e.left)}`);
  return e.right;
};
