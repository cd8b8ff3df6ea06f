#!/usr/bin/env node
/**
 * Entry point of the `palimpsest` command (`npm run palimpsest -- …`,
 * `npm start` = `palimpsest demo`; the installed bin is the compiled `dist/cli/main.js`). Runs the CLI on
 * `process.argv` and sets the exit code (see `exit.ts`); never calls
 * `process.exit`, so piped output is flushed before the process ends. Sets
 * V8's heap growing percent first (`heap.ts`).
 */
import { limitHeapGrowth } from './heap.ts';
import { runCli } from './program.ts';

// Bounds how far V8's heap grows over what is live (see `heap.ts`).
limitHeapGrowth();

// `palimpsest log … | head` closes the pipe early: stop quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await runCli(process.argv.slice(2));
