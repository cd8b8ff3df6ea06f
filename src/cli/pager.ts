/**
 * Paging long output the way git does: when stdout is a terminal and the text
 * has at least as many lines as the terminal has rows, it is piped through
 * `$PAGER` (default `less`, run with `LESS=FRX` unless `LESS` is set, so short
 * output and colours pass through and the screen is not cleared). Never when
 * stdout is piped, with `--json`, with `--no-pager`, or when `PAGER` is empty
 * or `cat`. Rule source: git's pager setup (`git help config`, core.pager).
 */
import { spawn } from 'node:child_process';
import type { Output } from './context.ts';

/** The environment variables the pager reads (`PAGER`, `LESS`), and any others passed on to it. */
export type PagerEnv = Readonly<Record<string, string | undefined>>;

/** Whether paging is possible at all for this run. */
export interface PagerChoice {
  /** Is stdout a terminal? */
  readonly isTTY: boolean;
  /** `--json` given. */
  readonly json: boolean;
  /** `--no-pager` given (commander's `pager: false`). */
  readonly noPager: boolean;
  readonly env: PagerEnv;
}

/** The pager's shell command for this run, or `undefined` when output is never paged. */
export const pagerCommand = (c: PagerChoice): string | undefined => {
  if (!c.isTTY || c.json || c.noPager) return undefined;
  const p = (c.env.PAGER ?? 'less').trim();
  return p === '' || p === 'cat' ? undefined : p;
};

/** Whether `text` fills a terminal of `rows` rows (`undefined` or 0 rows: unknown, never page). */
export const fillsScreen = (text: string, rows: number | undefined): boolean => {
  if (rows === undefined || rows <= 0) return false;
  let lines = 0;
  for (let i = text.indexOf('\n'); i !== -1 && lines < rows; i = text.indexOf('\n', i + 1)) lines++;
  return lines >= rows;
};

/**
 * Writes `text` to the stdin of `command` (run by `/bin/sh`, stdout and stderr
 * inherited) and resolves when the pager exits. The user quitting early
 * (EPIPE) is not an error. When the pager cannot be started (spawn error, or
 * the shell's 127 "command not found"), the text goes to `fallback` instead,
 * so nothing is lost.
 */
export const pageText = (text: string, command: string, env: PagerEnv, fallback: Output): Promise<void> =>
  new Promise((resolve) => {
    let settled = false;
    const finish = (showFallback: boolean): void => {
      if (settled) return;
      settled = true;
      if (showFallback) fallback.write(text);
      resolve();
    };
    const child = spawn(command, { shell: true, stdio: ['pipe', 'inherit', 'inherit'], env: { ...env, LESS: env.LESS ?? 'FRX' } });
    child.on('error', () => finish(true));
    child.on('close', (code) => finish(code === 127));
    child.stdin.on('error', () => undefined);
    child.stdin.end(text);
  });
