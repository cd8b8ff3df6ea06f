/**
 * Every read path fails closed on data that disagrees with the hash-chained log
 * (record format v2): for each kind of on-disk edit — a snapshot field, the
 * header's seq or hash, the revision index, a fork link, a chunk, a record —
 * `load` (and reading what it shows), `log`, `logStream`, pi export and the
 * lineage queries return `CorruptRecord` naming the session, the seq and what
 * disagreed; nothing is served. The CLI's `show`, `export` and `log` exit 1.
 */
import * as nodePath from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { Level } from 'level';
import type { SessionStore } from '../../src/store/index.ts';
import type { StoreError } from '../../src/store/errors.ts';
import { exportPiSession } from '../../src/adapters/pi/store.ts';
import { cliJson } from '../cli/helpers.ts';
import { appendCmd, cleanupDirs, copyToTempDir, msg, openStore, recordKey, right, snapshotKey, tempDir, withRawDb } from './helpers.ts';

type Db = Level<string, string>;

/** The store every case starts from, built once: `s` (302 messages, snapshots at 4 and 8, last seq 11) and its fork `c`. */
let pristine: string;
let sHash11: string;
/** The revision of `s` after record 3. */
let rev3: string;

beforeAll(async () => {
  pristine = tempDir('pristine');
  const store = await openStore(pristine, { snapshotEvery: 4 });
  let s = right(await store.create({ id: 's', metadata: { 'pi.cwd': '/home/user' } }));
  const step = async (cmds: unknown[]): Promise<void> => {
    s = right(await store.append('s', cmds, { expectedSeq: s.seq })).session;
  };
  for (let k = 0; k < 6; k++) await step([{ type: 'messages_appended', messages: Array.from({ length: 50 }, (_, j) => msg(k * 50 + j)) }]);
  await step([{ type: 'usage_recorded', usage: { inputTokens: 100, outputTokens: 20 } }]);
  await step([{ type: 'metadata_set', key: 'title', value: 'fail closed' }]);
  await step([appendCmd(300)]);
  await step([appendCmd(301)]);
  expect(s.seq).toBe(11);
  sHash11 = s.head;
  rev3 = right(await store.log('s'))[2]!.revision;
  right(await store.fork('s', { id: 'c', atSeq: 5 }));
  right(await store.close());
});
afterAll(cleanupDirs);

/** A copy of the pristine store. */
const copy = (): string => copyToTempDir(pristine, 'edit');

const getJson = async (db: Db, key: string): Promise<any> => JSON.parse((await db.get(key))!);
const putJson = (db: Db, key: string, v: unknown): Promise<void> => db.put(key, JSON.stringify(v));

/** The message chunk the snapshot at 8 references (the first 256 messages). */
const messageChunkKey = async (db: Db): Promise<string> => `C/${(await getJson(db, snapshotKey('s', 8))).transcript.messages.last}`;

interface Edit {
  readonly name: string;
  readonly apply: (db: Db) => Promise<void>;
  /** The session and seq the error must name, and a phrase of its reason. */
  readonly expect: { readonly sessionId: string; readonly seq: number; readonly reason: RegExp };
  /** Which read paths see the edited data. */
  readonly paths: readonly PathName[];
}

type PathName = 'load' | 'show' | 'export' | 'log' | 'logStream' | 'loadAtRevision' | 'children' | 'lineage';

const readAll = async (store: SessionStore, sid: string): Promise<E.Either<StoreError, unknown>> => {
  const l = await store.load(sid);
  if (E.isLeft(l)) return l;
  // A lazily read chunk that fails comes back as Left from the Session reader, never thrown.
  return E.map((messages: readonly unknown[]) => [messages.length, l.right.metadata, l.right.usage])(l.right.readMessages());
};

/** Every read path; the pi export can also fail with its own (non-store) errors, so the Left is any tagged error. */
const paths: Record<PathName, (store: SessionStore, sid: string) => Promise<E.Either<{ readonly _tag: string; readonly message: string }, unknown>>> = {
  load: (store, sid) => store.load(sid),
  show: readAll,
  export: (store, sid) => exportPiSession(store, sid),
  log: (store, sid) => store.log(sid),
  logStream: async (store, sid) => {
    for await (const r of store.logStream(sid)) if (E.isLeft(r)) return r;
    return E.right(undefined);
  },
  loadAtRevision: (store, sid) => store.load(sid, { atRevision: rev3 as `sha256:${string}` }),
  children: (store, sid) => store.children(sid),
  lineage: (store, sid) => store.lineage(sid),
};

const edits: readonly Edit[] = [
  {
    name: 'snapshot user metadata pi.cwd set to /evil',
    apply: async (db) => {
      const snap = await getJson(db, snapshotKey('s', 8));
      const member = (snap.user.tail as [string, unknown][]).find(([k]) => k === 'pi.cwd')!;
      member[1] = '/evil';
      await putJson(db, snapshotKey('s', 8), snap);
    },
    expect: { sessionId: 's', seq: 8, reason: /state digest/ },
    paths: ['load', 'show', 'export'],
  },
  {
    name: 'snapshot usage +1',
    apply: async (db) => {
      const snap = await getJson(db, snapshotKey('s', 8));
      snap.usage.inputTokens += 1;
      await putJson(db, snapshotKey('s', 8), snap);
    },
    expect: { sessionId: 's', seq: 8, reason: /state digest/ },
    paths: ['load', 'show', 'export'],
  },
  {
    name: 'snapshot machine state (lifecycle archived)',
    apply: async (db) => {
      const snap = await getJson(db, snapshotKey('s', 8));
      snap.metadata['palimpsest.lifecycle'] = { ...snap.metadata['palimpsest.lifecycle'], status: 'archived', archivedAt: 1, reason: 'x' };
      await putJson(db, snapshotKey('s', 8), snap);
    },
    expect: { sessionId: 's', seq: 8, reason: /snapshot/ },
    paths: ['load', 'show', 'export'],
  },
  {
    name: "snapshot: a tail message's text",
    apply: async (db) => {
      const snap = await getJson(db, snapshotKey('s', 8));
      const tail = snap.transcript.messages.tail;
      tail[tail.length - 1].content[0].text = 'forged';
      await putJson(db, snapshotKey('s', 8), snap);
    },
    expect: { sessionId: 's', seq: 8, reason: /do not hash to the head/ },
    paths: ['load', 'show', 'export'],
  },
  {
    name: 'header lastSeq moved back (hash and revision of that record, so the header is self-consistent)',
    apply: async (db) => {
      const h = await getJson(db, 'S/s');
      const r10 = await getJson(db, recordKey('s', 10));
      await putJson(db, 'S/s', { ...h, lastSeq: 10, lastHash: r10.hash, revision: r10.revision });
    },
    expect: { sessionId: 's', seq: 10, reason: /the log holds/ },
    paths: ['load', 'show', 'export', 'log', 'logStream', 'loadAtRevision'],
  },
  {
    name: 'header lastHash',
    apply: async (db) => {
      const h = await getJson(db, 'S/s');
      await putJson(db, 'S/s', { ...h, lastHash: `sha256:${'ab'.repeat(32)}` });
    },
    expect: { sessionId: 's', seq: 11, reason: /lastHash/ },
    paths: ['load', 'show', 'export', 'log', 'logStream', 'loadAtRevision'],
  },
  {
    name: 'header message count',
    apply: async (db) => {
      const h = await getJson(db, 'S/s');
      await putJson(db, 'S/s', { ...h, messages: h.messages - 1 });
    },
    expect: { sessionId: 's', seq: 11, reason: /header .* disagrees/ },
    paths: ['load', 'show', 'export'],
  },
  {
    name: 'revision index: a revision moved to another seq',
    apply: async (db) => {
      const r3 = await getJson(db, recordKey('s', 3));
      const r4 = await getJson(db, recordKey('s', 4));
      await db.del(`V/s/${r3.revision}/${String(3).padStart(12, '0')}`);
      await db.put(`V/s/${r3.revision}/${String(4).padStart(12, '0')}`, 'messages_appended');
      void r4;
    },
    expect: { sessionId: 's', seq: 4, reason: /revision index/ },
    paths: ['loadAtRevision'],
  },
  {
    name: 'fork link seq',
    apply: async (db) => {
      const link = await getJson(db, 'K/s/c');
      await putJson(db, 'K/s/c', { ...link, seq: 4 });
    },
    expect: { sessionId: 'c', seq: 1, reason: /fork link/ },
    paths: ['children'],
  },
  {
    name: "the fork's header lineage",
    apply: async (db) => {
      const h = await getJson(db, 'S/c');
      await putJson(db, 'S/c', { ...h, forkedFrom: { ...h.forkedFrom, seq: 4 } });
    },
    expect: { sessionId: 'c', seq: 1, reason: /genesis record says|header/ },
    paths: ['lineage'],
  },
  {
    name: 'a message chunk',
    apply: async (db) => {
      const key = await messageChunkKey(db);
      const v = (await db.get(key))!;
      await db.put(key, v.replace('message 7"', 'message X"'));
    },
    expect: { sessionId: 's', seq: 8, reason: /does not hash to its id/ },
    paths: ['show', 'export'],
  },
  {
    name: 'a tail record (content changed, hash kept)',
    apply: async (db) => {
      const r = await getJson(db, recordKey('s', 10));
      r.command.messages[0].content[0].text = 'forged';
      await putJson(db, recordKey('s', 10), r);
    },
    expect: { sessionId: 's', seq: 10, reason: /hash/ },
    paths: ['load', 'show', 'export', 'log', 'logStream'],
  },
];

describe('reads fail closed on every kind of on-disk edit', () => {
  it('the pristine store reads on every path', async () => {
    const store = await openStore(copy());
    try {
      for (const [name, f] of Object.entries(paths)) {
        for (const sid of name === 'children' ? ['s'] : name === 'lineage' ? ['c'] : ['s']) expect(E.isRight(await f(store, sid)), `${name} ${sid}`).toBe(true);
      }
      expect(right(await store.load('s')).head).toBe(sHash11);
    } finally {
      right(await store.close());
    }
  });

  it.each(edits)('$name', async (edit) => {
    expect(edit.paths.length).toBeGreaterThan(0);
    const dir = copy();
    await withRawDb(dir, edit.apply);
    for (const name of edit.paths) {
      // A fresh store per path: nothing cached from an earlier read.
      const store = await openStore(dir);
      try {
        const sid = name === 'children' ? 's' : name === 'lineage' ? 'c' : 's';
        const r = await paths[name](store, sid);
        expect(r, `${name}`).toMatchObject({ _tag: 'Left', left: { _tag: 'CorruptRecord', sessionId: edit.expect.sessionId, seq: edit.expect.seq } });
        expect((r as E.Left<{ readonly message: string }>).left.message, name).toMatch(edit.expect.reason);
      } finally {
        right(await store.close());
      }
    }
  });
});

describe('the CLI fails closed on an edited store', () => {
  it.each([edits[0]!, edits[3]!, edits[4]!])('show, export and log exit 1 with CorruptRecord: $name', async (edit) => {
    const dir = copy();
    await withRawDb(dir, edit.apply);
    const cwd = nodePath.dirname(dir);
    for (const args of [['show', 's'], ['export', 's'], ['log', 's']]) {
      if (args[0] === 'log' && !edit.paths.includes('log')) continue;
      const r = await cliJson(['--store', dir, ...args], cwd);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.json.error._tag).toBe('CorruptRecord');
      expect(r.json.error.message).toMatch(edit.expect.reason);
    }
  });
});
