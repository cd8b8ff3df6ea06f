/**
 * The `palimpsest` command: global options, the subcommands (one module each
 * under `commands/`), and `runCli(argv)`, which parses, runs and returns the
 * exit code (see `exit.ts`) without calling `process.exit`.
 */
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { Command, CommanderError } from 'commander';
import { EXIT, EXIT_HELP, type ExitCode } from './exit.ts';
import { execute, printError, resolveStoreOption, type Ctx, type Io, type Result } from './context.ts';
import { pagerCommand, type PagerEnv } from './pager.ts';
import { usageError, type TaggedError } from './errors.ts';
import { registerDemo } from './commands/demo.ts';
import { registerImport } from './commands/import.ts';
import { registerSessions } from './commands/sessions.ts';
import { registerLog } from './commands/log.ts';
import { registerShow } from './commands/show.ts';
import { registerRevisions } from './commands/revisions.ts';
import { registerFork } from './commands/fork.ts';
import { registerRewrite } from './commands/rewrite.ts';
import { registerCompact } from './commands/compact.ts';
import { registerVerify } from './commands/verify.ts';
import { registerAnchor } from './commands/anchor.ts';
import { registerExport } from './commands/export.ts';
import { registerLineage } from './commands/lineage.ts';
import { registerLabel } from './commands/label.ts';
import { registerDiff } from './commands/diff.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerCopy } from './commands/copy.ts';

/** The default store directory (relative to the working directory). */
export const DEFAULT_STORE = './.palimpsest';

/** The package version (from package.json, two levels above both `src/cli/` and `dist/cli/`). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** A command body: gets the resolved global options, returns a result or an error. */
export type Body = (ctx: Ctx) => Promise<E.Either<TaggedError, Result>>;

/** Runs a body for the subcommand `cmd` (called from each command's action). */
export type Run = (cmd: Command, body: Body) => Promise<void>;

const PROGRAM_HELP = `
Store: a LevelDB directory (default ${DEFAULT_STORE}, or --store DIR). Read-only
commands refuse a directory that does not exist; import and demo create it.

Output: human-readable text on stdout. With --json every command prints exactly
one JSON document on stdout: its result, or {"error": {"_tag", ..., "message"}}
when it fails (usage errors included); nothing else is written. Without --json
errors go to stderr as "palimpsest: <message> [<_tag>]". Times are ISO 8601 UTC
(JSON: ms since the epoch), durations in ms, sizes in bytes, digests
sha256:<hex> (human output shows the first 12 hex digits).

Progress bars (import, verify, demo) are drawn on stderr only when stdout and
stderr are terminals and --json is not given.

Paging (as git does): text output that fills the terminal goes through $PAGER
(default less, with LESS=FRX unless LESS is set) when stdout is a terminal.
Never when piped, with --json or --no-pager, or when PAGER is empty or "cat".

Session ids: any command taking <id> accepts a unique prefix of one; the "pi:"
of an imported session's id may be left out.

${EXIT_HELP}`;

/** Builds the program; `run` executes a subcommand's body. */
export const buildProgram = (run: Run, io: Io): Command => {
  const program = new Command('palimpsest');
  program
    .description('Durable, auditable LLM agent sessions: an append-only, hash-chained command log in LevelDB with a SHA-256 revision graph and copy-on-write forks.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--store <dir|url>', 'store directory, or a PostgreSQL database as postgres://user@host/db[?schema=name]', DEFAULT_STORE)
    .option('--json', 'print one JSON document on stdout (results and errors)', false)
    .option('--no-progress', 'never draw progress bars')
    .option('--no-pager', 'never pipe long output through $PAGER')
    .addHelpText('after', PROGRAM_HELP)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Usage errors are printed by runCli in the CLI's own form (`palimpsest: … [UsageError]`).
      outputError: () => undefined,
    })
    .allowExcessArguments(false);

  registerDemo(program, run);
  registerImport(program, run);
  registerSessions(program, run);
  registerLog(program, run);
  registerShow(program, run);
  registerRevisions(program, run);
  registerFork(program, run);
  registerLabel(program, run);
  registerRewrite(program, run);
  registerCompact(program, run);
  registerVerify(program, run);
  registerAnchor(program, run);
  registerExport(program, run);
  registerLineage(program, run);
  registerDiff(program, run);
  registerInspect(program, run);
  registerCopy(program, run);
  program.addHelpCommand('help [command]', 'show help for a command');
  return program;
};

const processIo: Io = { stdout: process.stdout, stderr: process.stderr };

/**
 * Parses `argv` (without node and the script), runs the command and returns
 * its exit code: 0 success, 1 a reported failure, 2 bad usage.
 */
export const runCli = async (argv: readonly string[], io: Io = processIo, cwd: string = process.cwd(), env: PagerEnv = process.env): Promise<ExitCode> => {
  // Whether --json was asked for, known before parsing so that usage errors are JSON too.
  const jsonAsked = argv.includes('--json');
  let exit: ExitCode = EXIT.ok;
  const run: Run = async (cmd, body) => {
    const o = cmd.optsWithGlobals() as { store: string; json: boolean; progress: boolean; pager: boolean };
    const ctx: Ctx = {
      ...resolveStoreOption(cwd, o.store),
      command: cmd.name(),
      cwd,
      json: o.json === true,
      progress: o.progress !== false && o.json !== true && io.stdout.isTTY === true && io.stderr.isTTY === true,
      pager: pagerCommand({ isTTY: io.stdout.isTTY === true, json: o.json === true, noPager: o.pager === false, env }),
      env,
      io,
    };
    exit = await execute(ctx, () => body(ctx));
  };
  // In --json mode commander's own error text is replaced by the JSON error document.
  const quietIo: Io = jsonAsked ? { stdout: io.stdout, stderr: { write: () => true } } : io;
  const program = buildProgram(run, quietIo);
  if (jsonAsked) program.configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: () => undefined, outputError: () => undefined });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT.ok;
      if (e.code === 'commander.help') {
        // `palimpsest` without a command: commander printed the help (on stderr); that is bad usage.
        if (e.exitCode === 0) return EXIT.ok;
        return jsonAsked ? printError({ json: true, io }, usageError('no command given (see palimpsest --help)', 'commander.help')) : EXIT.usage;
      }
      if (e.code === 'commander.executeSubCommandAsync') throw e;
      const message = e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim();
      return printError({ json: jsonAsked, io }, usageError(jsonAsked ? message : `${message} (see palimpsest --help)`, e.code));
    }
    throw e;
  }
  return exit;
};
