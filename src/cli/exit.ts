/**
 * Exit codes of the `palimpsest` command, in one place (spec README §6).
 *
 * - `0` (`ok`): the command did what was asked.
 * - `1` (`failure`): a reported failure: `verify` found a problem, or the
 *   store or session refused the command (`SessionNotFound`, `SeqConflict`,
 *   `NoOpRewrite`, `StoreLocked`, a pi file that does not parse, ...).
 * - `2` (`usage`): bad usage: an unknown command or option, a missing
 *   argument, a value that is not a number, contradictory options.
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
} as const;

/** One of the exit codes above. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The text every command appends to its `--help`. */
export const EXIT_HELP = 'Exit codes: 0 success; 1 a reported failure (refused by the store or session, verify found a problem); 2 bad usage; stopped by a signal: as the signal gives (130 for Ctrl-C).';
