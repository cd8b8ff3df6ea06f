/**
 * The PostgreSQL schema of a store and its versioned migrations (run on open).
 *
 * One schema (default `palimpsest`) holds one store: a table per namespace of
 * the key layout (`layout.ts`), shaped for its access paths. Text columns that
 * are compared or ordered use `COLLATE "C"` (byte order, as LevelDB's keys).
 * Values are stored as the exact text the store wrote (records, snapshots and
 * chunks are hashed over those bytes).
 *
 * | table | key | holds | LevelDB key |
 * | --- | --- | --- | --- |
 * | `schema_version` | (one row) | `version` of this schema | `F` |
 * | `headers` | `session_id` | `last_seq`, `body` (header JSON) | `S/<sid>` |
 * | `records` | `(session_id, seq)` | `body` (the `LogRecord` JSON) | `R/<sid>/<seq12>` |
 * | `snapshots` | `(session_id, seq)` | `body` | `N/<sid>/<seq12>` |
 * | `revisions` | `(session_id, revision, seq)` | `command_type` | `V/<sid>/<revision>/<seq12>` |
 * | `forks` | `(parent_id, child_id)` | `body` (`{ seq, hash, mode }`) | `K/<parent>/<child>` |
 * | `chunks` | `id` | `prev` (from the body, for the recursive prefetch), `body` | `C/<id>` |
 * | `blobs` | `id` | `bytes` (bytea) | `B/<id>` |
 *
 * The primary key of `records` turns a lost append race into a unique
 * violation (`SeqConflict`). Migrations run in one transaction under a
 * transaction-level advisory lock, so processes opening a new database at once
 * do not race; a version newer than `SCHEMA_VERSION` fails closed
 * (`UnsupportedVersion { what: 'store' }`) before anything is read or written.
 */

/** The schema version this code reads and writes. */
export const SCHEMA_VERSION = 1 as const;

/** A valid schema name: lower-case identifier, at most 63 bytes (no quoting needed). */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Migration `i` (0-based) takes the schema from version `i` to `i + 1`; `s` is the quoted schema name. */
export const MIGRATIONS: ReadonlyArray<(s: string) => string> = [
  (s) => `
    CREATE TABLE ${s}.headers (
      session_id text COLLATE "C" PRIMARY KEY,
      last_seq bigint NOT NULL,
      body text NOT NULL
    );
    CREATE TABLE ${s}.records (
      session_id text COLLATE "C" NOT NULL,
      seq bigint NOT NULL,
      body text NOT NULL,
      PRIMARY KEY (session_id, seq)
    );
    CREATE TABLE ${s}.snapshots (
      session_id text COLLATE "C" NOT NULL,
      seq bigint NOT NULL,
      body text NOT NULL,
      PRIMARY KEY (session_id, seq)
    );
    CREATE TABLE ${s}.revisions (
      session_id text COLLATE "C" NOT NULL,
      revision text COLLATE "C" NOT NULL,
      seq bigint NOT NULL,
      command_type text NOT NULL,
      PRIMARY KEY (session_id, revision, seq)
    );
    CREATE TABLE ${s}.forks (
      parent_id text COLLATE "C" NOT NULL,
      child_id text COLLATE "C" NOT NULL,
      body text NOT NULL,
      PRIMARY KEY (parent_id, child_id)
    );
    CREATE TABLE ${s}.chunks (
      id text COLLATE "C" PRIMARY KEY,
      prev text COLLATE "C",
      body text NOT NULL
    );
    CREATE TABLE ${s}.blobs (
      id text COLLATE "C" PRIMARY KEY,
      bytes bytea NOT NULL
    );`,
];

/** The advisory-lock key under which migrations run (any fixed 64-bit number; "palimpse" in ASCII). */
export const MIGRATION_LOCK_KEY = '8093299023524442469';
