/**
 * What every command gets (the global options and the output streams) and
 * what it returns, and the one place that prints results and errors and picks
 * the exit code.
 *
 * Output conventions (documented in `palimpsest --help`):
 * - human-readable text on stdout by default; errors on stderr as
 *   `palimpsest: <message> [<_tag>]`;
 * - with `--json`, exactly one JSON document on stdout, whatever happened: the
 *   command's result, or `{ "error": { "_tag", ...fields, "message" } }` when it
 *   failed (usage errors included). stderr then carries nothing (no progress
 *   bar either), so `palimpsest --json … | jq` always gets one document and the
 *   exit code says which kind it is;
 * - progress bars (import, verify, demo) are drawn on stderr, only when both
 *   stdout and stderr are terminals and `--json` is not given.
 */
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import cliProgress from 'cli-progress';
import type { SessionStore } from '../store/index.ts';
import { EXIT, type ExitCode } from './exit.ts';
import { exitCodeOf, internalError, isTaggedError, type TaggedError } from './errors.ts';
import { fillsScreen, pageText, type PagerEnv } from './pager.ts';
import { terminalSafe } from './format.ts';

/** A writable text stream (process.stdout/stderr or a test double). */
export interface Output {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  /** Terminal height in rows, when a terminal (used to decide on paging). */
  readonly rows?: number;
  /** A stream's `once('drain', …)`: when present and `write` returned `false`, streamed output (`export`) waits for it. */
  once?(event: 'drain', listener: () => void): unknown;
}

/** The streams a run writes to. */
export interface Io {
  readonly stdout: Output;
  readonly stderr: Output;
}

/** The global options, resolved. */
export interface Ctx {
  /** Where the store is, for messages: its directory (absolute), or the PostgreSQL URL without its password. */
  readonly storePath: string;
  /** What `SessionStore.open` gets when it is not `storePath`: the PostgreSQL URL as given (`--store postgres://…`). */
  readonly storeTarget?: string;
  /** The command's name (`sessions`, `import`, …): only `import` and `demo` may create a PostgreSQL store. */
  readonly command?: string;
  /** Working directory that relative paths (files, --out) resolve against. */
  readonly cwd: string;
  /** `--json`: one JSON document on stdout. */
  readonly json: boolean;
  /** Whether to draw progress bars (stderr, terminals only). */
  readonly progress: boolean;
  /** The pager command when long text output may be paged (`pager.ts`), else `undefined`. */
  readonly pager?: string;
  /** The environment handed to the pager. */
  readonly env?: PagerEnv;
  readonly io: Io;
}

/** A command's result: `json` is printed with `--json` (nothing when `undefined`: a command that already printed its one document, e.g. `inspect` when it starts serving), `text` otherwise; `exit` defaults to 0. */
export interface Result {
  readonly exit?: ExitCode;
  readonly json: unknown;
  readonly text: string;
}

/** The store type, as opened by `SessionStore.open`. */
export type Store = SessionStore;

/** Builds a successful `Right(Result)`. */
export const done = (json: unknown, text: string, exit: ExitCode = EXIT.ok): E.Either<TaggedError, Result> => E.right({ json, text, exit });

/** Serializes a value for `--json`, two-space indented. */
export const toJson = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;

/** Prints a result (stdout; text with its control characters escaped, `terminalSafe`) and returns its exit code. */
export const printResult = (ctx: Pick<Ctx, 'json' | 'io'>, r: Result): ExitCode => {
  if (ctx.json) {
    if (r.json !== undefined) ctx.io.stdout.write(toJson(r.json));
  }
  else if (r.text !== '') ctx.io.stdout.write(terminalSafe(r.text.endsWith('\n') ? r.text : `${r.text}\n`));
  return r.exit ?? EXIT.ok;
};

/** The error as printed with `--json`: `{ error: { _tag, ...fields, message } }` (an internal error's stack is left out). */
export const errorDocument = (e: TaggedError): { error: Record<string, unknown> } => {
  const { stack: _s, ...rest } = e as TaggedError & { stack?: unknown };
  return { error: rest };
};

/** Prints an error (stdout with `--json`, stderr otherwise, its control characters escaped: `terminalSafe`) and returns its exit code. */
export const printError = (ctx: Pick<Ctx, 'json' | 'io'>, e: TaggedError): ExitCode => {
  if (ctx.json) ctx.io.stdout.write(toJson(errorDocument(e)));
  else {
    ctx.io.stderr.write(`palimpsest: ${terminalSafe(e.message)} [${terminalSafe(e._tag)}]\n`);
    const stack = (e as { stack?: unknown }).stack;
    if (e._tag === 'InternalError' && typeof stack === 'string') ctx.io.stderr.write(`${stack}\n`);
  }
  return exitCodeOf(e);
};

/**
 * Runs a command body: catches exceptions (as `InternalError`), prints the
 * outcome (long text through the pager when `ctx.pager` is set and the text
 * fills the terminal; human text and errors with their control characters
 * escaped, `terminalSafe`), returns the exit code.
 */
export const execute = async (ctx: Ctx, body: () => Promise<E.Either<TaggedError, Result>>): Promise<ExitCode> => {
  let r: E.Either<TaggedError, Result>;
  try {
    r = await body();
  } catch (e) {
    r = E.left(isTaggedError(e) ? e : internalError(e));
  }
  if (E.isLeft(r)) return printError(ctx, r.left);
  const { text } = r.right;
  if (!ctx.json && ctx.pager !== undefined && fillsScreen(text, ctx.io.stdout.rows)) {
    await pageText(terminalSafe(text.endsWith('\n') ? text : `${text}\n`), ctx.pager, ctx.env ?? {}, ctx.io.stdout);
    return r.right.exit ?? EXIT.ok;
  }
  return printResult(ctx, r.right);
};

/**
 * Opens the store, runs `f` with it, closes it (also when `f` fails or throws).
 * An open failure (`StoreLocked`, `StoreIoError`, `UnsupportedVersion`) is returned as is.
 */
export const withStore = async <A>(ctx: Ctx, f: (store: Store) => Promise<E.Either<TaggedError, A>>): Promise<E.Either<TaggedError, A>> => {
  // Loaded on first use, so that --help and usage errors do not pay for the store's modules.
  const { SessionStore } = await import('../store/index.ts');
  const opened = await SessionStore.open(storeTargetOf(ctx), { create: createsStore(ctx) });
  if (E.isLeft(opened)) return opened as E.Either<TaggedError, A>;
  const store = opened.right;
  try {
    return await f(store);
  } finally {
    await store.close();
  }
};

/**
 * `storePath` and `storeTarget` of `--store <value>`: a `postgres://` or
 * `postgresql://` URL (optional `?schema=`) opens PostgreSQL and is shown
 * without its password; anything else is a directory resolved against `cwd`.
 */
export const resolveStoreOption = (cwd: string, value: string): Pick<Ctx, 'storePath' | 'storeTarget'> => {
  if (!/^postgres(ql)?:\/\//i.test(value)) return { storePath: nodePath.resolve(cwd, value) };
  let shown = value;
  try {
    const u = new URL(value);
    u.password = '';
    shown = u.toString();
  } catch {
    // an unparsable URL is shown as given; opening it reports the problem
  }
  return { storePath: shown, storeTarget: value };
};

/** What `SessionStore.open` gets for this run's store. */
export const storeTargetOf = (ctx: Pick<Ctx, 'storePath' | 'storeTarget'>): string => ctx.storeTarget ?? ctx.storePath;

/** The commands that may create a store; every other one reads or changes an existing store. */
const CREATING_COMMANDS: ReadonlySet<string> = new Set(['import', 'demo']);

/**
 * Whether this run may create its store: always for a directory (the commands
 * check it first, `requireStoreDir`), for PostgreSQL only `import` and `demo`
 * (read-only commands never create a store, and a schema has no directory to
 * check beforehand).
 */
export const createsStore = (ctx: Pick<Ctx, 'storeTarget' | 'command'>): boolean => ctx.storeTarget === undefined || (ctx.command !== undefined && CREATING_COMMANDS.has(ctx.command));

/** Whether this run's store is a PostgreSQL database (no directory to check). */
export const isPostgresStore = (ctx: Pick<Ctx, 'storeTarget'>): boolean => ctx.storeTarget !== undefined;

/** A progress reporter: `update(done, total)` and `stop()`; a no-op one when progress is off. */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

const noProgress: Progress = { update: () => undefined, stop: () => undefined };

/**
 * A progress bar on stderr labelled `label` (`unit` counts what is done, e.g.
 * `records`), or a no-op when `ctx.progress` is off. Started lazily on the
 * first update, so a fast operation that never reports draws nothing.
 */
export const progressBar = (ctx: Ctx, label: string, unit: string): Progress => {
  if (!ctx.progress) return noProgress;
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(done, total) {
      if (bar === undefined) {
        bar = new cliProgress.SingleBar(
          {
            format: `${label.padEnd(8)} [{bar}] {percentage}% | {value}/{total} ${unit} | {duration_formatted}`,
            stream: ctx.io.stderr as unknown as NodeJS.WritableStream,
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, done);
      } else {
        bar.setTotal(total);
        bar.update(done);
      }
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
};
