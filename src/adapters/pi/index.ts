/**
 * The pi adapter, pure half (spec README §7, model.md §9): parse a pi session
 * file, plan its import as palimpsest sessions and commands, export a transcript
 * as pi JSONL version 3. The store-facing `importPiFile`/`exportPiSession` build
 * on these.
 */
export * from './format.ts';
export * from './report.ts';
export * from './parse.ts';
export * from './map.ts';
export * from './plan.ts';
export * from './export.ts';
