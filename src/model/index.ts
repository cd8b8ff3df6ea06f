/** The transcript data model: codecs, canonical JSON, digests (model.md). */
export * from './decode.ts';
export * from './json.ts';
export * from './scalars.ts';
export * from './usage.ts';
export * from './content.ts';
export * from './message.ts';
export * from './digest.ts';
export * from './accumulator.ts';
export * from './constructors.ts';
export * from './projections.ts';
