/**
 * palimpsest: the public API.
 *
 * - model: messages and content as io-ts codecs, canonical JSON, digests
 * - transcript: the revision graph (shape rules, rewrite commits, record validation)
 * - machines: the pure control reducers
 * - session: the command union, log records, the reducer and the immutable `Session`
 * - store: `SessionStore` on LevelDB
 * - engine: `SessionEngine` (one writer per session, turn slot, subscriptions)
 * - adapters: pi JSONL import/export; OpenAI (Chat Completions, Responses, Realtime, Agents SDK session, turn runner)
 */
export * from './model/index.ts';
export * from './transcript/index.ts';
export * as deferredTurn from './machines/deferredTurn.ts';
export * as systemContext from './machines/systemContext.ts';
export * as toolVisibility from './machines/toolVisibility.ts';
export * as realtime from './machines/realtime.ts';
export * as lifecycle from './machines/lifecycle.ts';
export type { StepContext, StepResult, MachineStateInvalid } from './machines/common.ts';
export * from './session/index.ts';
export * from './store/index.ts';
export * from './engine/index.ts';
export * as pi from './adapters/pi/index.ts';
export { importPiFile, exportPiSession } from './adapters/pi/store.ts';
export * as openai from './adapters/openai/index.ts';
export { runAgentTurn } from './adapters/openai/turnRunner.ts';
export { createPalimpsestAgentsSession } from './adapters/openai/agentsSession.ts';
/** The session-level edit error (the transcript's, widened with SessionArchived and InvalidCommand). */
export type { TranscriptEditError } from './session/errors.ts';
