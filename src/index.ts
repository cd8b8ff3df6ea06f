/**
 * palimpsest: the public API.
 *
 * - model: messages and content as io-ts codecs, canonical JSON, digests
 * - transcript: the revision graph (shape rules, rewrite commits, record validation)
 * - machines: the pure control reducers
 * - session: the command union, log records, the reducer and the immutable `Session`
 * - store: `SessionStore` on LevelDB
 * - engine: `SessionEngine` (one writer per session, turn slot, subscriptions)
 *
 * Adapters are subpath exports, so this entry never loads their dependencies:
 * `palimpsest/pi` (pi JSONL import/export) and `palimpsest/openai` (Chat
 * Completions, Responses, Realtime, the Agents SDK session, the turn runner;
 * needs the optional peers `openai` / `@openai/agents-core`).
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
/** The session-level edit error (the transcript's, widened with SessionArchived and InvalidCommand). */
export type { TranscriptEditError } from './session/errors.ts';
