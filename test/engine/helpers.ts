/**
 * Helpers for the engine's integration tests: temp directories on the real file
 * system (removed afterwards), `Either` unwrapping, engines with a ticking clock,
 * message commands, and draining subscriptions.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { assistantText, userText, type Message } from '../../src/model/index.ts';
import { SessionEngine, type SessionEngineOptions, type Subscription } from '../../src/engine/index.ts';
import type { LogRecord } from '../../src/session/record.ts';
import { right, ticking } from '../support/either.ts';
export { right, left, ticking } from '../support/either.ts';

const made: string[] = [];

/** A fresh temp directory; `cleanupDirs()` removes every one made so far. */
export const tempDir = (label = 'engine'): string => {
  const d = fs.mkdtempSync(nodePath.join(os.tmpdir(), `palimpsest-${label}-`));
  made.push(d);
  return d;
};

/** Removes the temp directories. */
export const cleanupDirs = (): void => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
};

/** Opens an engine in `dir` with a ticking clock (throws on failure). */
export const openEngine = async (dir: string, opts: SessionEngineOptions = {}): Promise<SessionEngine> =>
  right(await SessionEngine.open(dir, { clock: ticking(), ...opts }));

/** A stamped user (even i) or assistant (odd i) text message. */
export const msg = (i: number, text = `message ${i}`): Message => ({ ...(i % 2 === 0 ? userText(text) : assistantText(text)), createdAt: 500 + i }) as Message;

/** `messages_appended` with one message. */
export const appendCmd = (i: number, text?: string): unknown => ({ type: 'messages_appended', messages: [msg(i, text)] });

/** Takes `n` records from a subscription (fails the test if it ends first). */
export const take = async (sub: Subscription, n: number): Promise<LogRecord[]> => {
  const out: LogRecord[] = [];
  while (out.length < n) {
    const r = await sub.next();
    if (r.done === true) throw new Error(`subscription ended after ${out.length} of ${n} records${sub.error !== undefined ? `: ${sub.error.message}` : ''}`);
    out.push(r.value);
  }
  return out;
};

/** `[from, from + 1, …, to]`. */
export const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
