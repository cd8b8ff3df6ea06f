/**
 * The PostgreSQL backend of the storage port (`io.ts`), on the `pg` package
 * (imported only when a store is opened on PostgreSQL).
 *
 * Keys of `layout.ts` map onto the tables of `postgresSchema.ts` (`parseKey`,
 * `parseRange`); scans rebuild the same keys, so everything above the port
 * reads both backends alike. A batch is one transaction (`READ COMMITTED`):
 * records first (a plain `INSERT`: a record that exists is a unique violation
 * of `records`' primary key), then revision-index rows, fork links, chunks,
 * blobs and snapshots (`ON CONFLICT DO NOTHING`: content-addressed or derived
 * from the records), the header last (an upsert that only moves `last_seq`
 * forward). A lost race writes nothing and returns `SeqConflict { expected,
 * actual }` (`SessionExists` for a genesis); a connection lost mid-batch
 * rolls the transaction back on the server and returns `StoreIoError` (when
 * the connection is lost during `COMMIT` the outcome is unknown: a retry with
 * the same `expectedSeq` either succeeds or returns `SeqConflict`, never a
 * duplicate record).
 *
 * Many processes may open the same database: there is no `StoreLocked`, and
 * `shared` is set so the store checks the header before serving a cached head.
 * Lazy chunk reads cannot be synchronous here: `chunkReader(roots)` reads every
 * chunk of the chains starting at `roots` with one `WITH RECURSIVE` query (and
 * the inner levels of the chunk-id indexes among them, a query a level) and
 * serves them from that per-load map (a cold load reads the whole transcript's
 * chunks; LevelDB's stays lazy). `sync` has no effect: a committed transaction
 * is durable per the server's `synchronous_commit`.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Pool, PoolClient } from 'pg';
import type { ChunkId, SyncChunkReader } from './chunks.ts';
import { indexNodeChildren } from './chunkIndex.ts';
import { invalidArgument, seqConflict, sessionExists, storeClosed, storeIoError, unsupportedVersion, type StoreError } from './errors.ts';
import { readHeader, type Io, type PutOp, type Range } from './io.ts';
import { MAX_SEQ, decodeSeq, keys, prefixRange } from './layout.ts';
import { MIGRATIONS, MIGRATION_LOCK_KEY, SCHEMA_NAME, SCHEMA_VERSION } from './postgresSchema.ts';

/** Connection options (see `PostgresTarget` in `store.ts`). */
export interface PostgresOptions {
  readonly connectionString: string;
  readonly schema?: string;
  readonly poolSize?: number;
}

/** A key of `layout.ts`, parsed. */
export type KeyRef =
  | { readonly t: 'header'; readonly sid: string }
  | { readonly t: 'record'; readonly sid: string; readonly seq: number }
  | { readonly t: 'snapshot'; readonly sid: string; readonly seq: number }
  | { readonly t: 'revision'; readonly sid: string; readonly revision: string; readonly seq: number }
  | { readonly t: 'fork'; readonly parent: string; readonly child: string }
  | { readonly t: 'chunk'; readonly id: string }
  | { readonly t: 'blob'; readonly id: string };

/** A range of `layout.ts`, parsed: every header, a seq range of one session's records or snapshots, its revision index (of one revision), its fork links. */
export type RangeRef =
  | { readonly t: 'headers' }
  | { readonly t: 'records' | 'snapshots'; readonly sid: string; readonly from: number; readonly to: number }
  | { readonly t: 'revisions'; readonly sid: string; readonly revision?: string }
  | { readonly t: 'forks'; readonly parent: string };

/** Parses a key of `layout.ts`; `undefined` for anything else (the format key `F` included). */
export const parseKey = (key: string): KeyRef | undefined => {
  if (key.length < 3 || key[1] !== '/') return undefined;
  const parts = key.slice(2).split('/');
  const seqAt = (i: number): number | undefined => decodeSeq(parts[i] ?? '');
  switch (key[0]) {
    case 'S':
      return parts.length === 1 ? { t: 'header', sid: parts[0]! } : undefined;
    case 'R':
    case 'N': {
      const seq = seqAt(1);
      if (parts.length !== 2 || seq === undefined) return undefined;
      return { t: key[0] === 'R' ? 'record' : 'snapshot', sid: parts[0]!, seq };
    }
    case 'V': {
      const seq = seqAt(2);
      return parts.length === 3 && seq !== undefined ? { t: 'revision', sid: parts[0]!, revision: parts[1]!, seq } : undefined;
    }
    case 'K':
      return parts.length === 2 ? { t: 'fork', parent: parts[0]!, child: parts[1]! } : undefined;
    case 'C':
      return parts.length === 1 ? { t: 'chunk', id: parts[0]! } : undefined;
    case 'B':
      return parts.length === 1 ? { t: 'blob', id: parts[0]! } : undefined;
    default:
      return undefined;
  }
};

/** Parses the ranges the store reads (prefix ranges of `prefixRange`, or seq bounds of one session); `undefined` for any other. */
export const parseRange = (r: Range): RangeRef | undefined => {
  const inclusive = 'lte' in r;
  const upper = 'lte' in r ? r.lte : r.lt;
  if (r.gte.endsWith('/')) {
    if (inclusive || upper !== prefixRange(r.gte).lt) return undefined;
    if (r.gte === keys.headerPrefix) return { t: 'headers' };
    const parts = r.gte.slice(2, -1).split('/');
    const sid = parts[0]!;
    switch (r.gte[0]) {
      case 'R':
        return parts.length === 1 ? { t: 'records', sid, from: 1, to: MAX_SEQ } : undefined;
      case 'N':
        return parts.length === 1 ? { t: 'snapshots', sid, from: 1, to: MAX_SEQ } : undefined;
      case 'V':
        return parts.length === 1 ? { t: 'revisions', sid } : parts.length === 2 ? { t: 'revisions', sid, revision: parts[1]! } : undefined;
      case 'K':
        return parts.length === 1 ? { t: 'forks', parent: sid } : undefined;
      default:
        return undefined;
    }
  }
  const lo = parseKey(r.gte);
  const hi = parseKey(upper);
  if (lo === undefined || hi === undefined || lo.t !== hi.t || (lo.t !== 'record' && lo.t !== 'snapshot') || (hi.t !== 'record' && hi.t !== 'snapshot') || lo.sid !== hi.sid) return undefined;
  return { t: lo.t === 'record' ? 'records' : 'snapshots', sid: lo.sid, from: lo.seq, to: inclusive ? hi.seq : hi.seq - 1 };
};

/** `postgres://user@host:port/db#schema`: the URL without its password or query, for messages and `store.path`. */
export const describePostgres = (connectionString: string, schema: string): string => {
  try {
    const u = new URL(connectionString);
    u.password = '';
    u.search = '';
    u.hash = '';
    return `${u.toString()}#${schema}`;
  } catch {
    return `postgres://?#${schema}`;
  }
};

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const codeOf = (e: unknown): string | undefined => {
  const c = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof c === 'string' ? c : undefined;
};
const UNIQUE_VIOLATION = '23505';
const UNDEFINED_TABLE = '42P01';
const INVALID_SCHEMA_NAME = '3F000';

/**
 * Opens a store in schema `schema` (default `palimpsest`) of the database at
 * `connectionString`, creating or migrating the schema (see
 * `postgresSchema.ts`). Errors: `InvalidArgument` (a bad schema name or URL),
 * `StoreIoError` (the `pg` package missing, the server unreachable, a schema
 * holding other tables), `UnsupportedVersion { what: 'store' }` (a newer
 * schema version).
 */
export const openPostgresIo = async (opts: PostgresOptions, _sync: boolean, create = true): Promise<E.Either<StoreError, Io>> => {
  const schema = opts.schema ?? 'palimpsest';
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) return E.left(invalidArgument('schema', 'expected a lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 63 characters)'));
  if (typeof opts.connectionString !== 'string' || !/^postgres(ql)?:\/\//i.test(opts.connectionString)) {
    return E.left(invalidArgument('connectionString', 'expected a postgres:// or postgresql:// URL'));
  }
  const poolSize = opts.poolSize ?? 10;
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) return E.left(invalidArgument('poolSize', 'expected a positive integer'));
  const where = describePostgres(opts.connectionString, schema);
  let pg: typeof import('pg');
  try {
    const mod = (await import('pg')) as typeof import('pg') & { default?: typeof import('pg') };
    pg = mod.default ?? mod;
  } catch (e) {
    return E.left(storeIoError(where, `the PostgreSQL backend needs the "pg" package (${messageOf(e)})`));
  }
  const pool = new pg.Pool({ connectionString: opts.connectionString, max: poolSize, application_name: 'palimpsest' });
  // A pooled idle connection that the server closes emits 'error' on the pool; the pool drops it.
  pool.on('error', () => undefined);
  // A checked-out connection the server terminates also emits 'error' on its client; the query in flight rejects with it.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const m = await migrate(pool, `"${schema}"`, schema, where, create);
  if (E.isLeft(m)) {
    await pool.end().catch(() => undefined);
    return m;
  }
  return E.right(makePostgresIo(pool, `"${schema}"`, where));
};

/** Creates or migrates the schema (one transaction under an advisory lock); a newer version fails closed. */
const migrate = async (pool: Pool, s: string, schema: string, where: string, create: boolean): Promise<E.Either<StoreError, void>> => {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (e) {
    return E.left(storeIoError(where, messageOf(e)));
  }
  let failed = false;
  try {
    let current: number | undefined;
    try {
      current = (await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_version`)).rows[0]?.version;
    } catch (e) {
      // No schema or no version table yet: a new store (anything else is a real failure).
      if (codeOf(e) !== UNDEFINED_TABLE && codeOf(e) !== INVALID_SCHEMA_NAME) throw e;
    }
    if (current === SCHEMA_VERSION) return E.right(undefined);
    if (typeof current === 'number' && current > SCHEMA_VERSION) return E.left(unsupportedVersion('store', current, SCHEMA_VERSION));
    if (current === undefined && !create) return E.left(storeIoError(where, `no palimpsest store in schema ${schema} (nothing was created)`));
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_version (one boolean PRIMARY KEY DEFAULT true CHECK (one), version integer NOT NULL)`);
    const v = await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_version`);
    let version = v.rows[0]?.version ?? 0;
    if (version > SCHEMA_VERSION) {
      await client.query('ROLLBACK');
      return E.left(unsupportedVersion('store', version, SCHEMA_VERSION));
    }
    if (version === 0) {
      const others = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name <> 'schema_version'`,
        [schema],
      );
      if (Number(others.rows[0]?.n ?? 0) > 0) {
        await client.query('ROLLBACK');
        return E.left(storeIoError(where, `not a palimpsest store: schema ${schema} holds tables but no schema version`));
      }
    }
    for (; version < SCHEMA_VERSION; version++) await client.query(MIGRATIONS[version]!(s));
    await client.query(`INSERT INTO ${s}.schema_version (one, version) VALUES (true, $1) ON CONFLICT (one) DO UPDATE SET version = EXCLUDED.version`, [SCHEMA_VERSION]);
    await client.query('COMMIT');
    return E.right(undefined);
  } catch (e) {
    failed = true;
    await client.query('ROLLBACK').catch(() => undefined);
    return E.left(storeIoError(where, messageOf(e)));
  } finally {
    client.release(failed);
  }
};

/** Rows of one batch, grouped by table (column arrays for `unnest`). */
interface BatchRows {
  records: { sid: string[]; seq: number[]; body: string[] };
  headers: { sid: string[]; lastSeq: number[]; body: string[] };
  snapshots: { sid: string[]; seq: number[]; body: string[] };
  revisions: { sid: string[]; revision: string[]; seq: number[]; type: string[] };
  forks: { parent: string[]; child: string[]; body: string[] };
  chunks: { id: string[]; body: string[] };
  blobs: { id: string[]; bytes: Buffer[] };
}

const emptyRows = (): BatchRows => ({
  records: { sid: [], seq: [], body: [] },
  headers: { sid: [], lastSeq: [], body: [] },
  snapshots: { sid: [], seq: [], body: [] },
  revisions: { sid: [], revision: [], seq: [], type: [] },
  forks: { parent: [], child: [], body: [] },
  chunks: { id: [], body: [] },
  blobs: { id: [], bytes: [] },
});

/** Groups `ops` by table; a key the schema has no table for is `Left(reason)`. */
const groupOps = (ops: readonly PutOp[]): E.Either<string, BatchRows> => {
  const rows = emptyRows();
  for (const op of ops) {
    const k = parseKey(op.key);
    if (k === undefined) return E.left(`no table for key ${JSON.stringify(op.key)}`);
    const text = 'value' in op ? op.value : undefined;
    if (k.t === 'blob') {
      if (!('bytes' in op)) return E.left(`blob ${k.id} must be written as bytes`);
      rows.blobs.id.push(k.id);
      rows.blobs.bytes.push(Buffer.from(op.bytes.buffer, op.bytes.byteOffset, op.bytes.byteLength));
      continue;
    }
    if (text === undefined) return E.left(`${op.key} must be written as text`);
    switch (k.t) {
      case 'header': {
        let lastSeq: unknown;
        try {
          lastSeq = (JSON.parse(text) as { lastSeq?: unknown }).lastSeq;
        } catch {
          lastSeq = undefined;
        }
        if (typeof lastSeq !== 'number') return E.left(`the header of ${k.sid} has no lastSeq`);
        rows.headers.sid.push(k.sid);
        rows.headers.lastSeq.push(lastSeq);
        rows.headers.body.push(text);
        break;
      }
      case 'record':
      case 'snapshot': {
        const t = k.t === 'record' ? rows.records : rows.snapshots;
        t.sid.push(k.sid);
        t.seq.push(k.seq);
        t.body.push(text);
        break;
      }
      case 'revision':
        rows.revisions.sid.push(k.sid);
        rows.revisions.revision.push(k.revision);
        rows.revisions.seq.push(k.seq);
        rows.revisions.type.push(text);
        break;
      case 'fork':
        rows.forks.parent.push(k.parent);
        rows.forks.child.push(k.child);
        rows.forks.body.push(text);
        break;
      case 'chunk':
        rows.chunks.id.push(k.id);
        rows.chunks.body.push(text);
        break;
      default: {
        const never: never = k;
        return E.left(`unexpected key ${JSON.stringify(never)}`);
      }
    }
  }
  return E.right(rows);
};

/** Why a batch lost a race: `sid` and the first seq it tried to write. */
class Conflict extends Error {
  constructor(
    readonly sid: string,
    readonly firstSeq: number,
  ) {
    super(`session ${sid} moved on`);
  }
}

const makePostgresIo = (pool: Pool, s: string, where: string): Io => {
  let closed = false;
  const fail = (e: unknown): StoreError => (closed ? storeClosed(where) : storeIoError(where, messageOf(e)));
  const query = async <R extends object>(sql: string, params: unknown[]): Promise<E.Either<StoreError, R[]>> => {
    if (closed) return E.left(storeClosed(where));
    try {
      return E.right((await pool.query<R>(sql, params)).rows);
    } catch (e) {
      return E.left(fail(e));
    }
  };
  const one = async (sql: string, params: unknown[]): Promise<E.Either<StoreError, string | undefined>> => {
    const r = await query<{ v: string }>(sql, params);
    return E.isLeft(r) ? r : E.right(r.right[0]?.v);
  };
  const noTable = (what: string): E.Either<StoreError, never> => E.left(storeIoError(where, `the PostgreSQL backend has no table for ${what}`));

  /** `[key, value]` rows of a range, in key order. */
  const rangeRows = async (r: RangeRef, after: number | undefined, limit: number): Promise<E.Either<StoreError, Array<[string, string]>>> => {
    switch (r.t) {
      case 'headers': {
        const rows = await query<{ k: string; v: string }>(`SELECT session_id AS k, body AS v FROM ${s}.headers ORDER BY session_id`, []);
        return E.map((xs: Array<{ k: string; v: string }>) => xs.map((x): [string, string] => [keys.header(x.k), x.v]))(rows);
      }
      case 'records':
      case 'snapshots': {
        const from = after === undefined ? r.from : Math.max(r.from, after + 1);
        const rows = await query<{ seq: string; v: string }>(
          `SELECT seq, body AS v FROM ${s}.${r.t} WHERE session_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq LIMIT $4`,
          [r.sid, from, r.to, limit],
        );
        const key = r.t === 'records' ? keys.record : keys.snapshot;
        return E.map((xs: Array<{ seq: string; v: string }>) => xs.map((x): [string, string] => [key(r.sid, Number(x.seq)), x.v]))(rows);
      }
      case 'revisions': {
        const rows = await query<{ revision: string; seq: string; v: string }>(
          `SELECT revision, seq, command_type AS v FROM ${s}.revisions WHERE session_id = $1 AND ($2::text IS NULL OR revision = $2) ORDER BY revision, seq`,
          [r.sid, r.revision ?? null],
        );
        return E.map((xs: Array<{ revision: string; seq: string; v: string }>) => xs.map((x): [string, string] => [keys.revision(r.sid, x.revision, Number(x.seq)), x.v]))(rows);
      }
      case 'forks': {
        const rows = await query<{ child: string; v: string }>(`SELECT child_id AS child, body AS v FROM ${s}.forks WHERE parent_id = $1 ORDER BY child_id`, [r.parent]);
        return E.map((xs: Array<{ child: string; v: string }>) => xs.map((x): [string, string] => [keys.fork(r.parent, x.child), x.v]))(rows);
      }
      default: {
        const never: never = r;
        return noTable(JSON.stringify(never));
      }
    }
  };

  /** Runs the batch in one transaction; a lost race throws `Conflict`. */
  const write = async (client: PoolClient, rows: BatchRows): Promise<void> => {
    await client.query('BEGIN');
    const r = rows.records;
    if (r.sid.length > 0) {
      try {
        await client.query(`INSERT INTO ${s}.records (session_id, seq, body) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])`, [r.sid, r.seq, r.body]);
      } catch (e) {
        if (codeOf(e) === UNIQUE_VIOLATION) throw new Conflict(r.sid[0]!, Math.min(...r.seq));
        throw e;
      }
    }
    const v = rows.revisions;
    if (v.sid.length > 0) {
      await client.query(
        `INSERT INTO ${s}.revisions (session_id, revision, seq, command_type) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) ON CONFLICT DO NOTHING`,
        [v.sid, v.revision, v.seq, v.type],
      );
    }
    const f = rows.forks;
    if (f.parent.length > 0) {
      await client.query(`INSERT INTO ${s}.forks (parent_id, child_id, body) SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`, [f.parent, f.child, f.body]);
    }
    const c = rows.chunks;
    if (c.id.length > 0) {
      // `prev` is taken from the chunk's own JSON, only to drive the recursive prefetch (the reader re-checks every link).
      await client.query(
        `INSERT INTO ${s}.chunks (id, prev, body) SELECT id, body::jsonb->>'prev', body FROM unnest($1::text[], $2::text[]) AS u(id, body) ON CONFLICT DO NOTHING`,
        [c.id, c.body],
      );
    }
    const b = rows.blobs;
    if (b.id.length > 0) await client.query(`INSERT INTO ${s}.blobs (id, bytes) SELECT * FROM unnest($1::text[], $2::bytea[]) ON CONFLICT DO NOTHING`, [b.id, b.bytes]);
    const n = rows.snapshots;
    if (n.sid.length > 0) {
      await client.query(`INSERT INTO ${s}.snapshots (session_id, seq, body) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]) ON CONFLICT DO NOTHING`, [n.sid, n.seq, n.body]);
    }
    const h = rows.headers;
    if (h.sid.length > 0) {
      // The header only moves forward: a writer holding a stale head changes nothing.
      const up = await client.query(
        `INSERT INTO ${s}.headers (session_id, last_seq, body) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])
         ON CONFLICT (session_id) DO UPDATE SET last_seq = EXCLUDED.last_seq, body = EXCLUDED.body WHERE ${s}.headers.last_seq < EXCLUDED.last_seq`,
        [h.sid, h.lastSeq, h.body],
      );
      if ((up.rowCount ?? 0) !== h.sid.length) throw new Conflict(h.sid[0]!, Math.min(...(r.sid.length > 0 ? r.seq : h.lastSeq)));
    }
    await client.query('COMMIT');
  };

  const io: Io = {
    path: where,
    shared: true,
    async get(key) {
      const k = parseKey(key);
      if (k === undefined) return noTable(JSON.stringify(key));
      switch (k.t) {
        case 'header':
          return one(`SELECT body AS v FROM ${s}.headers WHERE session_id = $1`, [k.sid]);
        case 'record':
          return one(`SELECT body AS v FROM ${s}.records WHERE session_id = $1 AND seq = $2`, [k.sid, k.seq]);
        case 'snapshot':
          return one(`SELECT body AS v FROM ${s}.snapshots WHERE session_id = $1 AND seq = $2`, [k.sid, k.seq]);
        case 'revision':
          return one(`SELECT command_type AS v FROM ${s}.revisions WHERE session_id = $1 AND revision = $2 AND seq = $3`, [k.sid, k.revision, k.seq]);
        case 'fork':
          return one(`SELECT body AS v FROM ${s}.forks WHERE parent_id = $1 AND child_id = $2`, [k.parent, k.child]);
        case 'chunk':
          return one(`SELECT body AS v FROM ${s}.chunks WHERE id = $1`, [k.id]);
        case 'blob':
          return noTable(`${key} as text (blobs are bytes)`);
        default: {
          const never: never = k;
          return noTable(JSON.stringify(never));
        }
      }
    },
    async getBytes(key) {
      const k = parseKey(key);
      if (k === undefined || k.t !== 'blob') return noTable(`${JSON.stringify(key)} as bytes`);
      const r = await query<{ bytes: Buffer }>(`SELECT bytes FROM ${s}.blobs WHERE id = $1`, [k.id]);
      if (E.isLeft(r)) return r;
      const b = r.right[0]?.bytes;
      return E.right(b === undefined ? undefined : new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    },
    async batch(ops) {
      if (closed) return E.left(storeClosed(where));
      const rows = groupOps(ops);
      if (E.isLeft(rows)) return E.left(storeIoError(where, rows.left));
      let client: PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        return E.left(fail(e));
      }
      let broken: Error | undefined;
      try {
        await write(client, rows.right);
        return E.right(undefined);
      } catch (e) {
        await client.query('ROLLBACK').catch((re: unknown) => {
          broken = re instanceof Error ? re : new Error(String(re));
        });
        if (!(e instanceof Conflict)) {
          broken ??= e instanceof Error ? e : new Error(String(e));
          return E.left(fail(e));
        }
        const h = await io.header(e.sid);
        if (E.isLeft(h)) return h;
        if (e.firstSeq === 1) return E.left(sessionExists(e.sid));
        return E.left(seqConflict(e.sid, e.firstSeq - 1, h.right?.lastSeq ?? 0));
      } finally {
        // A connection that failed mid-transaction is destroyed, not returned to the pool.
        client.release(broken);
      }
    },
    async *scan(range, size = 500) {
      const r = parseRange(range);
      if (r === undefined) {
        yield noTable(`the range ${JSON.stringify(range)}`);
        return;
      }
      if (r.t === 'records' || r.t === 'snapshots') {
        // Keyset pages of `size` rows.
        let after: number | undefined;
        for (;;) {
          const page = await rangeRows(r, after, size);
          if (E.isLeft(page)) {
            yield page;
            return;
          }
          if (page.right.length === 0) return;
          yield E.right(page.right);
          if (page.right.length < size) return;
          after = Number(page.right[page.right.length - 1]![0].slice(-12));
        }
      }
      const all = await rangeRows(r, undefined, MAX_SEQ);
      if (E.isLeft(all)) {
        yield all;
        return;
      }
      for (let i = 0; i < all.right.length; i += size) yield E.right(all.right.slice(i, i + size));
    },
    async keys(range) {
      const out: string[] = [];
      for await (const batch of io.scan(range, 10_000)) {
        if (E.isLeft(batch)) return batch;
        for (const [k] of batch.right) out.push(k);
      }
      return E.right(out);
    },
    async lastKey(range) {
      const r = parseRange(range);
      if (r === undefined) return noTable(`the range ${JSON.stringify(range)}`);
      if (r.t === 'records' || r.t === 'snapshots') {
        const x = await one(`SELECT max(seq)::text AS v FROM ${s}.${r.t} WHERE session_id = $1 AND seq BETWEEN $2 AND $3`, [r.sid, r.from, r.to]);
        if (E.isLeft(x)) return x;
        return E.right(x.right === undefined || x.right === null ? undefined : (r.t === 'records' ? keys.record : keys.snapshot)(r.sid, Number(x.right)));
      }
      const ks = await io.keys(range);
      return E.isLeft(ks) ? ks : E.right(ks.right[ks.right.length - 1]);
    },
    header: (sid) => readHeader(io.get, sid),
    async chunkReader(roots: readonly ChunkId[]) {
      const chunks = new Map<string, string>();
      if (roots.length > 0) {
        const rows = await query<{ id: string; body: string }>(
          `WITH RECURSIVE chain(id, prev, body) AS (
             SELECT id, prev, body FROM ${s}.chunks WHERE id = ANY($1::text[])
             UNION
             SELECT c.id, c.prev, c.body FROM ${s}.chunks c JOIN chain ON c.id = chain.prev
           ) SELECT id, body FROM chain`,
          [roots],
        );
        if (E.isLeft(rows)) return rows;
        for (const x of rows.right) chunks.set(x.id, x.body);
        // Index nodes (no `prev`; a root came with the roots): their inner levels, one query a level.
        let level = rows.right.flatMap((x) => indexNodeChildren(x.body)).filter((id) => !chunks.has(id));
        while (level.length > 0) {
          const nodes = await query<{ id: string; body: string }>(`SELECT id, body FROM ${s}.chunks WHERE id = ANY($1::text[])`, [level]);
          if (E.isLeft(nodes)) return nodes;
          for (const x of nodes.right) chunks.set(x.id, x.body);
          level = nodes.right.flatMap((x) => indexNodeChildren(x.body)).filter((id) => !chunks.has(id));
        }
      }
      // Served from memory: a chunk missing here is missing from the database (the lazy list reports CorruptRecord).
      const reader: SyncChunkReader = (id) => chunks.get(id);
      return E.right(reader);
    },
    async close() {
      if (closed) return E.right(undefined);
      closed = true;
      try {
        await pool.end();
        return E.right(undefined);
      } catch (e) {
        return E.left(storeIoError(where, messageOf(e)));
      }
    },
  };
  return io;
};
