/**
 * The pi adapter (spec README §7, model.md §9): the pure half parses a pi session
 * file, plans its import as palimpsest sessions and commands and exports a transcript
 * as pi JSONL version 3; and the store-facing half built on it:
 * `importPiFile`/`exportPiSession` (`store.ts`; the import streams through
 * `scan.ts` and `spill.ts`), the stored source and lossless
 * export (`source.ts`, `sourceTree.ts`, `sourceExport.ts`) and the import marks
 * (`provenance.ts`). Published as `palimpsest/pi`.
 */
export * from './format.ts';
export * from './report.ts';
export * from './parse.ts';
export * from './map.ts';
export * from './plan.ts';
export * from './export.ts';
export * from './store.ts';
export * from './scan.ts';
export * from './source.ts';
export * from './sourceTree.ts';
export * from './sourceExport.ts';
export * from './provenance.ts';
