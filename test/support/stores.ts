/** Test helpers: real LevelDB stores in temp directories (removed after each test) and one-line views of log records. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { afterEach } from 'vitest';
import type { LogRecord } from '../../src/session/index.ts';
import { SessionStore } from '../../src/store/index.ts';
import type { SessionStore as Store } from '../../src/store/store.ts';
import { right, ticking } from './either.ts';

/** Registers cleanup and returns `openStore()`, which opens a store in a fresh temp directory. */
export const useStores = (): (() => Promise<Store>) => {
  const dirs: string[] = [];
  const stores: Store[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  return async () => {
    const d = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'palimpsest-agents-'));
    dirs.push(d);
    const s = right(await SessionStore.open(d, { clock: ticking(1_700_000_000_000) }));
    stores.push(s);
    return s;
  };
};

/** `user`, `assistant`, …; a notice as `notice:<kind>`, an `agents_item` notice as `notice:<item type>`. */
const roleOf = (m: { readonly role: string; readonly kind?: string; readonly data?: unknown }): string =>
  m.role !== 'system_notice' ? m.role : m.kind === 'agents_item' ? `notice:${String((m.data as { type?: unknown } | undefined)?.type)}` : `notice:${m.kind}`;

/** One line per record: `append user,assistant`, `rewrite [1,2) -> assistant,tool_results (agents_add_items)`, `metadata_set <key>`, or the command type. */
export const recordLine = (r: LogRecord): string => {
  const c = r.command;
  switch (c.type) {
    case 'messages_appended':
      return `append ${c.messages.map(roleOf).join(',')}`;
    case 'transcript_rewritten':
      return `rewrite [${c.selection.start},${c.selection.end}) -> ${c.replacement.map(roleOf).join(',')} (${c.reason.kind})`;
    case 'metadata_set':
    case 'metadata_removed':
      return `${c.type} ${c.key}`;
    default:
      return c.type;
  }
};

/** The log of `id` as `recordLine`s. */
export const logLines = async (store: Store, id: string): Promise<string[]> => right(await store.log(id)).map(recordLine);
