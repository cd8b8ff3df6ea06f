/**
 * Errors of the session engine (README §1 `engine/`). Plain objects
 * `{ _tag, ...fields, message }`. Every async engine function returns
 * `Promise<Either<EngineError, A>>`; besides its own errors the engine passes
 * through every `StoreError` (which includes every `SessionError`) unchanged.
 */
import type { StoreError } from '../store/errors.ts';

/** `startTurn` / `runTurn` while another turn holds the session's turn slot (`turnId` names it). */
export interface TurnInProgress {
  readonly _tag: 'TurnInProgress';
  readonly sessionId: string;
  readonly turnId: string;
  readonly message: string;
}

/** A write through a turn handle after that turn was released (completed, failed, cancelled, or the engine closed). */
export interface TurnNotActive {
  readonly _tag: 'TurnNotActive';
  readonly sessionId: string;
  readonly turnId: string;
  readonly message: string;
}

/** The engine was closed before the operation was accepted. */
export interface EngineClosed {
  readonly _tag: 'EngineClosed';
  readonly path: string;
  readonly message: string;
}

/** The runtime could not list its tools for a tool boundary (tool-visibility.md §6, §8 step 1). */
export interface CatalogUnavailable {
  readonly _tag: 'CatalogUnavailable';
  readonly message: string;
}

/** Everything an engine function can return as `Left`. */
export type EngineError = TurnInProgress | TurnNotActive | EngineClosed | CatalogUnavailable | StoreError;

/** Builds a `TurnInProgress`. */
export const turnInProgress = (sessionId: string, turnId: string): TurnInProgress => ({
  _tag: 'TurnInProgress',
  sessionId,
  turnId,
  message: `session ${sessionId} already runs turn ${turnId}`,
});

/** Builds a `TurnNotActive`. */
export const turnNotActive = (sessionId: string, turnId: string): TurnNotActive => ({
  _tag: 'TurnNotActive',
  sessionId,
  turnId,
  message: `turn ${turnId} of session ${sessionId} has ended; its handle no longer writes`,
});

/** Builds an `EngineClosed`. */
export const engineClosed = (path: string): EngineClosed => ({ _tag: 'EngineClosed', path, message: `the session engine on ${path} is closed` });

/** Builds a `CatalogUnavailable`; `cause` (a thrown value or a reason) is folded into the message. */
export const catalogUnavailable = (cause: unknown): CatalogUnavailable => {
  const text = cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : (() => {
    try {
      return JSON.stringify(cause) ?? String(cause);
    } catch {
      return String(cause);
    }
  })();
  return { _tag: 'CatalogUnavailable', message: `the tool catalog could not be obtained: ${text}` };
};
