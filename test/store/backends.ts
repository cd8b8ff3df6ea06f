/**
 * The two storage backends as the store conformance suite sees them: a fresh
 * empty store location, opening it, and raw access (read, overwrite, delete a
 * key of `layout.ts`) to tamper with what the store wrote while it is closed.
 * LevelDB: a temp directory. PostgreSQL: a fresh schema on the test server.
 */
import { SessionStore, type SessionStoreOptions, type StoreTarget } from '../../src/store/index.ts';
import { dropSchemas, freshSchema, pgDelete, pgDump, pgGet, pgInsertChunk, pgPut, pgTarget } from '../support/postgres.ts';
import { cleanupDirs, dumpDb, right, tempDir, ticking, withRawDb } from './helpers.ts';

/** One backend under test. */
export interface Backend {
  readonly name: 'leveldb' | 'postgres';
  /** A new, empty store location. */
  fresh(): StoreTarget;
  /** Opens the store at `target` with a ticking clock (throws on failure). */
  open(target: StoreTarget, opts?: SessionStoreOptions): Promise<SessionStore>;
  /** The raw text value of `key`, `undefined` when absent. */
  get(target: StoreTarget, key: string): Promise<string | undefined>;
  /** Replaces the value of the existing `key` by `f(old)`. */
  tamper(target: StoreTarget, key: string, f: (old: string) => string): Promise<void>;
  /** Writes the new `key` with the text `value` (PostgreSQL: chunk keys only). */
  put(target: StoreTarget, key: string, value: string): Promise<void>;
  /** Deletes the existing `key`. */
  remove(target: StoreTarget, key: string): Promise<void>;
  /** Every key and value (binary values as hex), in key order; the store must be closed (LevelDB). */
  dump(target: StoreTarget): Promise<Map<string, string>>;
  /** Replaces the bytes of blob `id` by `f(old)`. */
  tamperBlob(target: StoreTarget, id: string, f: (old: Uint8Array) => Uint8Array): Promise<void>;
  /** Removes every location `fresh` made. */
  cleanup(): Promise<void>;
}

const schemaOf = (t: StoreTarget): string => {
  if (typeof t === 'string' || t.postgres.schema === undefined) throw new Error('expected a postgres target with a schema');
  return t.postgres.schema;
};
const dirOf = (t: StoreTarget): string => {
  if (typeof t !== 'string') throw new Error('expected a directory');
  return t;
};

export const leveldb: Backend = {
  name: 'leveldb',
  fresh: () => tempDir('conf'),
  open: async (t, opts = {}) => right(await SessionStore.open(t, { clock: ticking(), ...opts })),
  get: (t, key) => withRawDb(dirOf(t), async (db) => db.get(key)),
  tamper: (t, key, f) =>
    withRawDb(dirOf(t), async (db) => {
      const old = await db.get(key);
      if (old === undefined) throw new Error(`no key ${key}`);
      await db.put(key, f(old));
    }),
  put: (t, key, value) => withRawDb(dirOf(t), (db) => db.put(key, value)),
  remove: (t, key) =>
    withRawDb(dirOf(t), async (db) => {
      if ((await db.get(key)) === undefined) throw new Error(`no key ${key}`);
      await db.del(key);
    }),
  dump: (t) => dumpDb(dirOf(t)),
  tamperBlob: (t, id, f) =>
    withRawDb(dirOf(t), async (db) => {
      const v = await db.get<string, Uint8Array>(`B/${id}`, { valueEncoding: 'view' });
      if (v === undefined) throw new Error(`no blob ${id}`);
      await db.put<string, Uint8Array>(`B/${id}`, f(Uint8Array.from(v)), { valueEncoding: 'view' });
    }),
  cleanup: async () => cleanupDirs(),
};

export const postgres: Backend = {
  name: 'postgres',
  fresh: () => pgTarget(freshSchema('conf')),
  open: async (t, opts = {}) => right(await SessionStore.open(t, { clock: ticking(), ...opts })),
  get: async (t, key) => {
    const v = await pgGet(schemaOf(t), key);
    return v === undefined ? undefined : String(v);
  },
  tamper: async (t, key, f) => {
    const old = await pgGet(schemaOf(t), key);
    if (old === undefined) throw new Error(`no key ${key}`);
    await pgPut(schemaOf(t), key, f(String(old)));
  },
  put: async (t, key, value) => {
    if (!key.startsWith('C/')) throw new Error(`put supports chunk keys only on postgres, not ${key}`);
    await pgInsertChunk(schemaOf(t), key.slice(2), value);
  },
  remove: (t, key) => pgDelete(schemaOf(t), key),
  dump: (t) => pgDump(schemaOf(t)),
  tamperBlob: async (t, id, f) => {
    const old = await pgGet(schemaOf(t), `B/${id}`);
    if (!(old instanceof Buffer)) throw new Error(`no blob ${id}`);
    await pgPut(schemaOf(t), `B/${id}`, Buffer.from(f(Uint8Array.from(old))));
  },
  cleanup: dropSchemas,
};

/** Both backends, for `describe.each`. */
export const backends: readonly Backend[] = [leveldb, postgres];
