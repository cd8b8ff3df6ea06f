/**
 * Helpers for the store's integration tests: temp directories on the real file
 * system (removed afterwards), `Either` unwrapping, raw LevelDB access to read or
 * tamper with what the store wrote, and message commands.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { Level } from 'level';
import { assistantText, userText, type Message } from '../../src/model/index.ts';
import { SessionStore, type SessionStoreOptions } from '../../src/store/index.ts';
import { right, ticking } from '../support/either.ts';
export { right, left, ticking } from '../support/either.ts';

/** A fresh temp directory; `cleanupDirs()` removes every one made so far. */
const made: string[] = [];
export const tempDir = (label = 'store'): string => {
  const d = fs.mkdtempSync(nodePath.join(os.tmpdir(), `palimpsest-${label}-`));
  made.push(d);
  return d;
};
/** A fresh temp directory (as `tempDir(label)`) holding a copy of directory `src` (a store to edit or open, leaving `src` as it was). */
export const copyToTempDir = (src: string, label: string): string => {
  const d = tempDir(label);
  fs.cpSync(src, d, { recursive: true });
  return d;
};
export const cleanupDirs = (): void => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
};

/** Opens a store in `dir` with a ticking clock (throws on failure). */
export const openStore = async (dir: string, opts: SessionStoreOptions = {}): Promise<SessionStore> => right(await SessionStore.open(dir, { clock: ticking(), ...opts }));

/** A stamped user (even i) or assistant (odd i) text message. */
export const msg = (i: number, text = `message ${i}`): Message => ({ ...(i % 2 === 0 ? userText(text) : assistantText(text)), createdAt: 500 + i }) as Message;

/** `messages_appended` with one message. */
export const appendCmd = (i: number, text?: string): unknown => ({ type: 'messages_appended', messages: [msg(i, text)] });

/** Appends `n` one-message records starting at message index `from`; returns the new last seq. */
export const appendMessages = async (store: SessionStore, sid: string, from: number, n: number, perCall = 1): Promise<number> => {
  let seq = right(await store.load(sid)).seq;
  for (let i = from; i < from + n; i += perCall) {
    const cmds = [];
    for (let j = i; j < Math.min(from + n, i + perCall); j++) cmds.push(appendCmd(j));
    seq = right(await store.append(sid, cmds, { expectedSeq: seq })).session.seq;
  }
  return seq;
};

/** Every key/value of the database in `dir` (the store must be closed). Values as UTF-8, or hex for binary blob values. */
export const dumpDb = async (dir: string): Promise<Map<string, string>> => {
  const db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  try {
    const out = new Map<string, string>();
    for await (const [k, v] of db.iterator()) out.set(k, v);
    return out;
  } finally {
    await db.close();
  }
};

/** Runs `f` on the raw database in `dir` (the store must be closed). */
export const withRawDb = async <A>(dir: string, f: (db: Level<string, string>) => Promise<A>): Promise<A> => {
  const db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  try {
    return await f(db);
  } finally {
    await db.close();
  }
};

/** Replaces the value of `key` by `f(old)` in the closed store at `dir`. */
export const tamper = (dir: string, key: string, f: (old: string) => string): Promise<void> =>
  withRawDb(dir, async (db) => {
    const old = await db.get(key);
    if (old === undefined) throw new Error(`no key ${key}`);
    await db.put(key, f(old));
  });

/** The record key of `sid` at `seq` (12-digit seq). */
export const recordKey = (sid: string, seq: number): string => `R/${sid}/${String(seq).padStart(12, '0')}`;
/** The snapshot key of `sid` at `seq`. */
export const snapshotKey = (sid: string, seq: number): string => `N/${sid}/${String(seq).padStart(12, '0')}`;
