/**
 * Errors of the command line itself, and the exit code of every error.
 *
 * Errors from the store, the session layer and the pi adapter are printed as
 * they are (`{ _tag, ...fields, message }`); the CLI adds `UsageError` (bad
 * usage, exit 2), `FileError` (a file it could not read or write, exit 1) and
 * `InternalError` (an exception that escaped: a bug, exit 1).
 */
import { EXIT, type ExitCode } from './exit.ts';

/** Bad usage: an unknown command or option, a missing argument, an invalid number. `code` is commander's error code when it came from commander. */
export interface UsageError {
  readonly _tag: 'UsageError';
  readonly code?: string;
  readonly message: string;
}

/** A file the CLI itself reads or writes (`export --out`, `rewrite --message-json @file`) failed. */
export interface FileError {
  readonly _tag: 'FileError';
  readonly file: string;
  readonly code?: string;
  readonly message: string;
}

/** The demo refuses to reset a directory it does not own. */
export interface DemoStoreRefused {
  readonly _tag: 'DemoStoreRefused';
  readonly path: string;
  readonly reason: string;
  readonly message: string;
}

/** An exception escaped a command (a bug); `message` is the exception's message. */
export interface InternalError {
  readonly _tag: 'InternalError';
  readonly message: string;
  readonly stack?: string;
}

/** Any error the CLI prints. */
export interface TaggedError {
  readonly _tag: string;
  readonly message: string;
}

/** Builds a `UsageError`. */
export const usageError = (message: string, code?: string): UsageError => ({ _tag: 'UsageError', ...(code !== undefined ? { code } : {}), message });

/** Builds a `FileError` from a Node.js fs exception. */
export const fileError = (file: string, e: unknown, verb = 'read'): FileError => {
  const code = typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : undefined;
  const reason = code === 'ENOENT' ? 'no such file or directory' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : e instanceof Error ? e.message : String(e);
  return { _tag: 'FileError', file, ...(code !== undefined ? { code } : {}), message: `cannot ${verb} ${file}: ${reason}` };
};

/**
 * The `FileError` of a file a command creates (`export --out`, `inspect
 * --html`) that could not be written: `EEXIST` (the file exists and was left
 * alone) says that `--force` replaces it.
 */
export const createdFileError = (file: string, cause: unknown): FileError => {
  const e = fileError(file, cause, 'write');
  return e.code === 'EEXIST' ? { ...e, message: `cannot write ${file}: the file exists (--force replaces it)` } : e;
};

/** Builds an `InternalError` from an exception. */
export const internalError = (e: unknown): InternalError =>
  e instanceof Error ? { _tag: 'InternalError', message: e.message, ...(e.stack !== undefined ? { stack: e.stack } : {}) } : { _tag: 'InternalError', message: String(e) };

/** Whether `u` is a `{ _tag, message }` error object. */
export const isTaggedError = (u: unknown): u is TaggedError =>
  typeof u === 'object' && u !== null && typeof (u as { _tag?: unknown })._tag === 'string' && typeof (u as { message?: unknown }).message === 'string';

/** The exit code of an error: 2 for `UsageError`, 1 for everything else (a reported failure). */
export const exitCodeOf = (e: TaggedError): ExitCode => (e._tag === 'UsageError' ? EXIT.usage : EXIT.failure);
