/**
 * What the CLI does when it is stopped by a signal (Ctrl-C is SIGINT; `kill`
 * sends SIGTERM; closing the terminal SIGHUP) while a command that leaves
 * scratch files is running: the command's handler removes what it made (the
 * temporary file of `export --out`; the spill directories of `import` and of
 * `export`, this process's only: `removeOwnSpills`) and prints an
 * `Interrupted` error saying what was and was not done, then the process dies
 * of the same signal (its default action: exit status 128 + the signal's
 * number, 130 for Ctrl-C), as it would have without a handler. SIGKILL cannot
 * be caught: what it leaves is removed by the next run of the same import or
 * export (a spill) or stays visibly temporary (`export --out`'s `.tmp` file).
 */

/** The signals that stop a command. */
export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

const STOP_SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** A command stopped by `signal`; `message` says what it left. */
export interface Interrupted {
  readonly _tag: 'Interrupted';
  readonly signal: StopSignal;
  readonly message: string;
}

/** Builds an `Interrupted` error: `palimpsest <command> interrupted by <signal>: <what>`. */
export const interrupted = (signal: StopSignal, command: string, what: string): Interrupted => ({
  _tag: 'Interrupted',
  signal,
  message: `${command} interrupted by ${signal}: ${what}`,
});

/**
 * Until the returned release function is called, a stop signal runs
 * `handler(signal)` (synchronously: remove files, print) and then re-raises
 * the signal with the handlers removed, so the process dies of it. Several
 * handlers may be armed at once (a command's and its temporary file's): each
 * runs once, in the order armed. Exceptions of `handler` are swallowed (the
 * process is going down either way).
 */
export const armStopHandler = (handler: (signal: StopSignal) => void): (() => void) => {
  const listener = (signal: NodeJS.Signals): void => {
    release();
    try {
      handler(signal as StopSignal);
    } catch {
      // dying anyway: the signal below must still be raised
    }
    process.kill(process.pid, signal);
  };
  const release = (): void => {
    for (const s of STOP_SIGNALS) process.off(s, listener);
  };
  for (const s of STOP_SIGNALS) process.on(s, listener);
  return release;
};

/** Runs `f` with `handler` armed (`armStopHandler`), released when `f` settles. */
export const withStopHandler = async <A>(handler: (signal: StopSignal) => void, f: () => Promise<A>): Promise<A> => {
  const release = armStopHandler(handler);
  try {
    return await f();
  } finally {
    release();
  }
};
