/**
 * `palimpsest/testing`: a property-testing kit on fast-check (a peer
 * dependency). Arbitraries for valid values (messages, shape-valid transcripts
 * with tool calls and results, thinking and images, rewrite requests, command
 * sequences, pi session trees) and checkers that return typed reports:
 * `checkCompactor`, `checkReplay`, `checkSessionInvariants`.
 */
export * from './arbitraries/model.ts';
export * from './arbitraries/transcript.ts';
export * from './arbitraries/rewrite.ts';
export * from './arbitraries/commands.ts';
export * from './arbitraries/piTree.ts';
export * from './pairing.ts';
export * from './checkCompactor.ts';
export * from './checkSession.ts';
