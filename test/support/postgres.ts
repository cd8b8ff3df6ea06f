/**
 * Test helpers for the PostgreSQL backend: the test server's URL (from the
 * `globalSetup` in `postgresServer.ts`), a fresh schema per store (dropped by
 * `dropSchemas()`), and raw SQL access to read or tamper with what the store
 * wrote, addressed by the store's keys (`layout.ts`).
 */
import pg from 'pg';
import { inject } from 'vitest';
import { parseKey } from '../../src/store/postgresIo.ts';
import { storeKeys } from '../../src/store/index.ts';
import type { StoreTarget } from '../../src/store/index.ts';

/** The test server's URL. */
export const pgUrl = (): string => inject('pgUrl');

let counter = 0;
const made: string[] = [];

/** A new schema name, unique to this process and run. */
export const freshSchema = (label = 't'): string => {
  const name = `${label}_${process.pid}_${Date.now().toString(36)}_${counter++}`.toLowerCase();
  made.push(name);
  return name;
};

/** `{ postgres: { connectionString, schema } }` for `schema` (default: a fresh one). */
export const pgTarget = (schema = freshSchema()): StoreTarget & { readonly postgres: { readonly connectionString: string; readonly schema: string } } => ({
  postgres: { connectionString: pgUrl(), schema },
});

/** Runs `f` with a connected client (closed afterwards). */
export const withPg = async <A>(f: (c: pg.Client) => Promise<A>): Promise<A> => {
  const c = new pg.Client({ connectionString: pgUrl() });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
};

/** Drops every schema `freshSchema` made in this process so far. */
export const dropSchemas = async (): Promise<void> => {
  const names = made.splice(0);
  if (names.length === 0) return;
  await withPg(async (c) => {
    for (const n of names) await c.query(`DROP SCHEMA IF EXISTS "${n}" CASCADE`);
  });
};

/** Table, key columns and value column of a store key in `schema`. */
const rowOf = (schema: string, key: string): { table: string; where: Record<string, unknown>; column: string } => {
  const k = parseKey(key);
  if (k === undefined) throw new Error(`no table for key ${key}`);
  const t = (name: string) => `"${schema}".${name}`;
  switch (k.t) {
    case 'header':
      return { table: t('headers'), where: { session_id: k.sid }, column: 'body' };
    case 'record':
      return { table: t('records'), where: { session_id: k.sid, seq: k.seq }, column: 'body' };
    case 'snapshot':
      return { table: t('snapshots'), where: { session_id: k.sid, seq: k.seq }, column: 'body' };
    case 'revision':
      return { table: t('revisions'), where: { session_id: k.sid, revision: k.revision, seq: k.seq }, column: 'command_type' };
    case 'fork':
      return { table: t('forks'), where: { parent_id: k.parent, child_id: k.child }, column: 'body' };
    case 'chunk':
      return { table: t('chunks'), where: { id: k.id }, column: 'body' };
    case 'blob':
      return { table: t('blobs'), where: { id: k.id }, column: 'bytes' };
  }
};

const whereSql = (where: Record<string, unknown>): { sql: string; params: unknown[] } => {
  const cols = Object.keys(where);
  return { sql: cols.map((c, i) => `${c} = $${i + 1}`).join(' AND '), params: cols.map((c) => where[c]) };
};

/** The raw value stored under `key` in `schema` (text; blobs as bytes), `undefined` when absent. */
export const pgGet = async (schema: string, key: string): Promise<string | Buffer | undefined> => {
  const r = rowOf(schema, key);
  const w = whereSql(r.where);
  return withPg(async (c) => (await c.query(`SELECT ${r.column} AS v FROM ${r.table} WHERE ${w.sql}`, w.params)).rows[0]?.v);
};

/** Overwrites the value of an existing `key` in `schema` (throws when there is no such row). */
export const pgPut = async (schema: string, key: string, value: string | Buffer): Promise<void> => {
  const r = rowOf(schema, key);
  const w = whereSql(r.where);
  await withPg(async (c) => {
    const res = await c.query(`UPDATE ${r.table} SET ${r.column} = $${w.params.length + 1} WHERE ${w.sql}`, [...w.params, value]);
    if (res.rowCount !== 1) throw new Error(`no row for ${key}`);
  });
};

/** Adds chunk `C/<id>` with `body` to the store in `schema` (its `prev` taken from the body, as the backend does). */
export const pgInsertChunk = async (schema: string, id: string, body: string): Promise<void> => {
  await withPg((c) => c.query(`INSERT INTO "${schema}".chunks (id, prev, body) VALUES ($1, ($2::text)::jsonb->>'prev', $2::text)`, [id, body]));
};

/** Deletes the row of `key` in `schema` (throws when there is none). */
export const pgDelete = async (schema: string, key: string): Promise<void> => {
  const r = rowOf(schema, key);
  const w = whereSql(r.where);
  await withPg(async (c) => {
    const res = await c.query(`DELETE FROM ${r.table} WHERE ${w.sql}`, w.params);
    if (res.rowCount !== 1) throw new Error(`no row for ${key}`);
  });
};

/** Every row of the store in `schema` as its `layout.ts` key and value (text; blobs as hex), like `dumpDb` for LevelDB. */
export const pgDump = async (schema: string): Promise<Map<string, string>> =>
  withPg(async (c) => {
    const t = (name: string) => `"${schema}".${name}`;
    const out: Array<[string, string]> = [];
    for (const r of (await c.query(`SELECT session_id, body FROM ${t('headers')}`)).rows) out.push([storeKeys.header(r.session_id), r.body]);
    for (const r of (await c.query(`SELECT session_id, seq, body FROM ${t('records')}`)).rows) out.push([storeKeys.record(r.session_id, Number(r.seq)), r.body]);
    for (const r of (await c.query(`SELECT session_id, seq, body FROM ${t('snapshots')}`)).rows) out.push([storeKeys.snapshot(r.session_id, Number(r.seq)), r.body]);
    for (const r of (await c.query(`SELECT session_id, revision, seq, command_type FROM ${t('revisions')}`)).rows) out.push([storeKeys.revision(r.session_id, r.revision, Number(r.seq)), r.command_type]);
    for (const r of (await c.query(`SELECT parent_id, child_id, body FROM ${t('forks')}`)).rows) out.push([storeKeys.fork(r.parent_id, r.child_id), r.body]);
    for (const r of (await c.query(`SELECT id, body FROM ${t('chunks')}`)).rows) out.push([storeKeys.chunk(r.id), r.body]);
    for (const r of (await c.query(`SELECT id, bytes FROM ${t('blobs')}`)).rows) out.push([storeKeys.blob(r.id), (r.bytes as Buffer).toString('hex')]);
    out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return new Map(out);
  });
