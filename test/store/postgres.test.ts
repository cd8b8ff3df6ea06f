/**
 * What only the PostgreSQL backend has to show, on a real server: many
 * processes writing one session (the database serializes them, the loser gets
 * `SeqConflict`, nothing is lost), a writer killed with SIGKILL mid-transaction
 * (nothing half-written), a connection terminated mid-append
 * (`pg_terminate_backend`: a typed error, the retry succeeds, no duplicate), a
 * cache that never serves a stale head, and schema versioning on open.
 */
import { spawn } from 'node:child_process';
import * as nodePath from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import type pg from 'pg';
import { SessionStore } from '../../src/store/index.ts';
import { dropSchemas, freshSchema, pgTarget, withPg } from '../support/postgres.ts';
import { appendCmd, left, right, ticking } from './helpers.ts';

afterAll(dropSchemas);

const repo = nodePath.resolve(import.meta.dirname, '../..');
const child = (args: readonly string[]) =>
  spawn(process.execPath, ['--import', 'tsx', nodePath.join(import.meta.dirname, 'fixtures', 'pg-append-child.ts'), ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });

/** Runs a child to completion; resolves with its stdout. */
const runChild = (args: readonly string[]): Promise<string> =>
  new Promise((resolve, reject) => {
    const c = child(args);
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${out.slice(-500)} ${err.slice(-2000)}`))));
  });

const open = async (schema: string) => right(await SessionStore.open(pgTarget(schema), { clock: ticking(1_700_000_000_000) }));

/** Holds a row lock on the header of `sid` (a transaction on its own connection) until `release()`. */
const lockHeader = async (schema: string, sid: string): Promise<{ release: () => Promise<void> }> => {
  const { default: pgm } = await import('pg');
  const c: pg.Client = new pgm.Client({ connectionString: pgTarget(schema).postgres.connectionString });
  await c.connect();
  await c.query('BEGIN');
  const r = await c.query(`SELECT session_id FROM "${schema}".headers WHERE session_id = $1 FOR UPDATE`, [sid]);
  expect(r.rowCount).toBe(1);
  return {
    release: async () => {
      await c.query('ROLLBACK');
      await c.end();
    },
  };
};

/** The pid of the palimpsest backend waiting on a lock (polls until there is one). */
const blockedBackend = async (): Promise<number> => {
  for (let i = 0; i < 600; i++) {
    const pid = await withPg(async (c) => {
      const r = await c.query(`SELECT pid FROM pg_stat_activity WHERE application_name = 'palimpsest' AND wait_event_type = 'Lock'`);
      return r.rows[0]?.pid as number | undefined;
    });
    if (pid !== undefined) return pid;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no palimpsest backend ever waited on the lock');
};

/** Waits until backend `pid` is gone. */
const backendGone = async (pid: number): Promise<void> => {
  for (let i = 0; i < 600; i++) {
    const alive = await withPg(async (c) => (await c.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount);
    if (alive === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`backend ${pid} never went away`);
};

describe('PostgreSQL backend', () => {
  it('4 processes × 1,000 appends to one session with retry on SeqConflict: none lost, none duplicated, chain intact', async () => {
    const schema = freshSchema('contend');
    const store = await open(schema);
    right(await store.create({ id: 'shared' }));
    right(await store.close());
    const WRITERS = 4;
    const EACH = 1_000;
    const outs = await Promise.all(Array.from({ length: WRITERS }, (_, w) => runChild([pgTarget(schema).postgres.connectionString, schema, 'shared', String(EACH), String(w)])));
    const conflicts = outs.map((o) => Number(/done (\d+)/.exec(o)?.[1]));
    expect(conflicts.every((n) => Number.isInteger(n))).toBe(true);
    // Four writers on one session do collide; each collision was retried.
    expect(conflicts.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const again = await open(schema);
    try {
      const log = right(await again.log('shared'));
      expect(log).toHaveLength(1 + WRITERS * EACH);
      const tokens = log.slice(1).map((r) => (r.command.type === 'usage_recorded' ? r.command.usage.inputTokens : -1));
      const expected = Array.from({ length: WRITERS }, (_, w) => Array.from({ length: EACH }, (_, i) => w * 1_000_000 + i)).flat();
      expect([...tokens].sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
      // Each writer's records are in its own order.
      for (let w = 0; w < WRITERS; w++) {
        const mine = tokens.filter((t) => Math.floor(t / 1_000_000) === w);
        expect(mine).toEqual([...mine].sort((a, b) => a - b));
      }
      expect(right(await again.verify('shared'))[0]).toMatchObject({ ok: true, records: 1 + WRITERS * EACH });
    } finally {
      right(await again.close());
    }
  }, 600_000);

  it('a writer killed with SIGKILL inside its transaction leaves nothing half-written', async () => {
    const schema = freshSchema('kill');
    const store = await open(schema);
    right(await store.create({ id: 'k' }));
    right(await store.append('k', [appendCmd(0)], { expectedSeq: 1 }));
    right(await store.close());
    const lock = await lockHeader(schema, 'k');
    const c = child([pgTarget(schema).postgres.connectionString, schema, 'k', '1', '7']);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => c.on('exit', (_code, signal) => resolve(signal)));
    // The child's transaction has inserted its record and waits for the header row.
    const pid = await blockedBackend();
    c.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    await lock.release();
    await backendGone(pid);
    const again = await open(schema);
    try {
      expect(right(await again.log('k')).map((r) => r.seq)).toEqual([1, 2]);
      expect(right(await again.list()).map((s) => s.lastSeq)).toEqual([2]);
      expect(await withPg(async (cl) => (await cl.query(`SELECT count(*)::int AS n FROM "${schema}".revisions WHERE seq > 2`)).rows[0].n)).toBe(0);
      expect(right(await again.verify('k'))[0]!.ok).toBe(true);
      right(await again.append('k', [appendCmd(1)], { expectedSeq: 2 }));
    } finally {
      right(await again.close());
    }
  });

  it('a connection terminated mid-append gives StoreIoError; the retry succeeds; no duplicate record', async () => {
    const schema = freshSchema('term');
    const store = await open(schema);
    try {
      right(await store.create({ id: 't' }));
      const lock = await lockHeader(schema, 't');
      const pending = store.append('t', [appendCmd(0)], { expectedSeq: 1 });
      const pid = await blockedBackend();
      expect(await withPg(async (c) => (await c.query('SELECT pg_terminate_backend($1) AS ok', [pid])).rows[0].ok)).toBe(true);
      const failed = left(await pending);
      expect(failed._tag).toBe('StoreIoError');
      await lock.release();
      expect(right(await store.log('t'))).toHaveLength(1);
      const retried = right(await store.append('t', [appendCmd(0)], { expectedSeq: 1 }));
      expect(retried.session.seq).toBe(2);
      const log = right(await store.log('t'));
      expect(log.map((r) => r.seq)).toEqual([1, 2]);
      expect(right(await store.verify('t'))[0]!.ok).toBe(true);
    } finally {
      right(await store.close());
    }
  });

  it('two stores on one schema: no StoreLocked, the cache never serves a stale head, a lost race is SeqConflict', async () => {
    const schema = freshSchema('two');
    const [a, b] = await Promise.all([open(schema), open(schema)]);
    try {
      right(await a.create({ id: 's' }));
      expect(right(await b.load('s')).seq).toBe(1); // b caches nothing yet; loads seq 1
      right(await a.append('s', [appendCmd(0)], { expectedSeq: 1 }));
      // b's view moved on: load and append see seq 2.
      expect(right(await b.load('s')).seq).toBe(2);
      expect(left(await b.append('s', [appendCmd(1)], { expectedSeq: 1 }))).toMatchObject({ _tag: 'SeqConflict', expected: 1, actual: 2 });
      right(await b.append('s', [appendCmd(1)], { expectedSeq: 2 }));
      // a's cached head (seq 2) is stale now: its append with the real seq succeeds.
      expect(right(await a.append('s', [appendCmd(2)], { expectedSeq: 3 })).session.seq).toBe(4);
      expect(left(await a.create({ id: 's' }))._tag).toBe('SessionExists');
      const [ra, rb] = await Promise.all([a.append('s', [appendCmd(3)], { expectedSeq: 4 }), b.append('s', [appendCmd(3)], { expectedSeq: 4 })]);
      expect([ra, rb].filter(E.isRight)).toHaveLength(1);
      expect(left([ra, rb].find(E.isLeft)!)).toMatchObject({ _tag: 'SeqConflict', sessionId: 's', expected: 4, actual: 5 });
      expect(right(await b.verify('s'))[0]).toMatchObject({ ok: true, records: 5 });
    } finally {
      right(await a.close());
      right(await b.close());
    }
  });

  it('opening: create: false creates nothing; concurrent first opens migrate once; a newer schema version and a foreign schema are refused; bad names are InvalidArgument', async () => {
    const schema = freshSchema('mig');
    // A read-only open creates nothing.
    expect(left(await SessionStore.open(pgTarget(schema), { create: false }))).toMatchObject({ _tag: 'StoreIoError' });
    expect(await withPg(async (c) => (await c.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema])).rowCount)).toBe(0);
    const stores = await Promise.all(Array.from({ length: 4 }, () => open(schema)));
    for (const s of stores) right(await s.close());
    expect(await withPg(async (c) => (await c.query(`SELECT version FROM "${schema}".schema_version`)).rows)).toEqual([{ version: 1 }]);
    await withPg((c) => c.query(`UPDATE "${schema}".schema_version SET version = 2`));
    expect(left(await SessionStore.open(pgTarget(schema)))).toMatchObject({ _tag: 'UnsupportedVersion', what: 'store', found: 2, expected: 1 });
    const foreign = freshSchema('foreign');
    await withPg(async (c) => {
      await c.query(`CREATE SCHEMA "${foreign}"`);
      await c.query(`CREATE TABLE "${foreign}".notes (x text)`);
    });
    expect(left(await SessionStore.open(pgTarget(foreign)))._tag).toBe('StoreIoError');
    expect(await withPg(async (c) => (await c.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [foreign])).rows)).toEqual([{ table_name: 'notes' }]);
    expect(left(await SessionStore.open({ postgres: { connectionString: pgTarget().postgres.connectionString, schema: 'Bad-Name' } }))._tag).toBe('InvalidArgument');
    const unreachable = left(await SessionStore.open('postgres://nobody@127.0.0.1:1/none'));
    expect(unreachable).toMatchObject({ _tag: 'StoreIoError', path: 'postgres://nobody@127.0.0.1:1/none#palimpsest' });
  });
});
