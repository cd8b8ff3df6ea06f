/** The session aggregate: commands, records, reducer, replay, the `Session` value. */
export * from './commands.ts';
export * from './results.ts';
/** Typed command builders, one per command type (`commands.messagesAppended([...])`). */
export * as commands from './builders.ts';
export type { CommandInputOf } from './builders.ts';
export { apply, applyDecoded, type ApplyContext, type CommandOutcome } from './apply.ts';
export * from './errors.ts';
export * from './metadata.ts';
export * from './record.ts';
export * from './state.ts';
export { step, applyAt, createdState, forkedState, type Step } from './reduce.ts';
export { reduce, replayRecords } from './replay.ts';
export * from './session.ts';
export * from './stateDigest.ts';
