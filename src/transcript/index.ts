/** The revision graph (revisions.md): transcript structure, shape rules, rewrite commits, records, history, replacements. */
export * from './vector.ts';
export * from './transcript.ts';
export * from './shape.ts';
export * from './types.ts';
export * from './rewrite.ts';
export * from './record.ts';
export * from './history.ts';
export * from './replacement.ts';
export * from './lazy.ts';
