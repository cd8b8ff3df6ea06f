/**
 * Errors of the OpenAI adapters (Chat Completions, Responses, Realtime).
 *
 * Every error is a plain object `{ _tag, ...fields, message }` returned as the
 * `Left` of an fp-ts `Either` (README §9); no adapter function throws on bad
 * input. `path` fields are `$`-rooted JSON paths into the value that was being
 * read (`$.choices[0].message.tool_calls[1].function.arguments`) or, for
 * conversions from palimpsest messages, into the message array
 * (`$[3].content[1].source`).
 *
 * A bad caller argument (e.g. a negative content index given to the realtime
 * mapper's `truncate`) is the project-wide `InvalidArgument { argument, reason }`
 * of `src/store/errors.ts`, not redefined here.
 */
import type { InvalidArgument } from '../../store/errors.ts';

/** A provider response (a `ChatCompletion` or a Responses `Response`) is not the documented wire shape. */
export interface MalformedResponse {
  readonly _tag: 'MalformedResponse';
  /** Where the response first departs from the wire shape, e.g. `$.choices[0].finish_reason`. */
  readonly path: string;
  readonly message: string;
}

/** One event or chunk of a stream is not the documented wire shape. */
export interface MalformedStreamEvent {
  readonly _tag: 'MalformedStreamEvent';
  /** Zero-based position of the offending chunk or event in the stream. */
  readonly index: number;
  /** Where the event first departs from the wire shape, rooted at the event (`$.choices[0].delta.content`). */
  readonly path: string;
  readonly message: string;
}

/** The stream ended (the iterable finished) before the provider said the response was complete. */
export interface IncompleteStream {
  readonly _tag: 'IncompleteStream';
  /** How many chunks or events were read. */
  readonly events: number;
  readonly message: string;
}

/**
 * The stream failed: the iterable threw (network error, abort), or the provider
 * sent an error event (`{ type: 'error' }` in the Responses stream).
 */
export interface StreamFailed {
  readonly _tag: 'StreamFailed';
  /** The provider's error code when it sent one. */
  readonly code?: string;
  readonly message: string;
}

/** An image stored as a blob cannot be sent: no `resolveBlob` option, or it returned `undefined`. */
export interface UnresolvedBlob {
  readonly _tag: 'UnresolvedBlob';
  /** The blob id (`sha256:…`) of the image. */
  readonly blobId: string;
  /** The image block, e.g. `$[2].content[0]` or `$[4].results[0].content[1]`. */
  readonly path: string;
  readonly message: string;
}

/** A Realtime server event lacks a field the mapping needs, or holds a value of the wrong type. */
export interface InvalidServerEvent {
  readonly _tag: 'InvalidServerEvent';
  /** Where the event first departs from the wire shape, e.g. `$.item.id`. */
  readonly path: string;
  /** The event's `type`, when it had a string one. */
  readonly eventType?: string;
  readonly message: string;
}

/** Every error of the OpenAI adapters. */
export type OpenAIAdapterError =
  | MalformedResponse
  | MalformedStreamEvent
  | IncompleteStream
  | StreamFailed
  | UnresolvedBlob
  | InvalidServerEvent
  | InvalidArgument;

/** Builds a `MalformedResponse`. */
export const malformedResponse = (path: string, message: string): MalformedResponse => ({ _tag: 'MalformedResponse', path, message });

/** Builds a `MalformedStreamEvent` for the event at `index`. */
export const malformedStreamEvent = (index: number, path: string, message: string): MalformedStreamEvent => ({
  _tag: 'MalformedStreamEvent',
  index,
  path,
  message: `stream event ${index}: ${message}`,
});

/** Builds an `IncompleteStream`. */
export const incompleteStream = (events: number, message: string): IncompleteStream => ({ _tag: 'IncompleteStream', events, message });

/** Builds a `StreamFailed` (with `code` only when given). */
export const streamFailed = (message: string, code?: string): StreamFailed =>
  code === undefined ? { _tag: 'StreamFailed', message } : { _tag: 'StreamFailed', code, message };

/** Builds an `UnresolvedBlob`. */
export const unresolvedBlob = (blobId: string, path: string): UnresolvedBlob => ({
  _tag: 'UnresolvedBlob',
  blobId,
  path,
  message: `image at ${path} is stored as blob ${blobId}; pass a resolveBlob option that returns a URL for it`,
});

/** Builds an `InvalidServerEvent`. */
export const invalidServerEvent = (path: string, message: string, eventType?: string): InvalidServerEvent =>
  eventType === undefined
    ? { _tag: 'InvalidServerEvent', path, message }
    : { _tag: 'InvalidServerEvent', path, eventType, message };

