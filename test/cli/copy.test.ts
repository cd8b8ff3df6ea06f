/**
 * `palimpsest copy` and `--store postgres://…` on the bundled real pi session:
 * LevelDB → PostgreSQL → LevelDB keeps every head, the anchor digest and the
 * pi export byte for byte; the CLI reads and verifies the PostgreSQL store;
 * a second copy finds everything already there; a different session under the
 * same id at the destination is refused and nothing there changes.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionStore } from '../../src/store/index.ts';
import { dropSchemas, freshSchema, pgUrl } from '../support/postgres.ts';
import { right } from '../support/either.ts';
import { dumpDb } from '../store/helpers.ts';
import { cli, cliJson, cleanup, REAL, REAL_ID, tempDir } from './helpers.ts';

afterAll(async () => {
  cleanup();
  await dropSchemas();
});

describe('palimpsest copy', () => {
  it('LevelDB → PostgreSQL → LevelDB on the real session: identical heads, anchors and pi export; the CLI reads the PostgreSQL store', async () => {
    const cwd = tempDir('copy');
    // Trust authentication ignores the password; it must never be printed.
    const u = new URL(pgUrl());
    u.password = 'secret-pw';
    u.searchParams.set('schema', freshSchema('cli_copy'));
    const url = u.toString();
    expect((await cli(['--store', 'a', 'import', REAL], cwd)).code).toBe(0);

    const toPg = await cliJson(['copy', '--from', 'a', '--to', url], cwd);
    expect(toPg.code).toBe(0);
    const copied = toPg.json.sessions as Array<{ sessionId: string; status: string }>;
    expect(copied.map((s) => s.sessionId)).toContain(REAL_ID);
    expect(copied.every((s) => s.status === 'copied')).toBe(true);
    expect(toPg.json.written.records).toBeGreaterThan(100);
    expect(toPg.json.written.blobs).toBeGreaterThan(0); // the pi source kept as blobs
    expect(toPg.stdout).not.toContain('secret-pw');
    expect(toPg.json.to).toContain('?schema=cli_copy');

    // The CLI reads, verifies and anchors the PostgreSQL store.
    const listA = (await cliJson(['--store', 'a', 'sessions'], cwd)).json.sessions;
    const listPg = await cliJson(['--store', url, 'sessions'], cwd);
    expect(listPg.code).toBe(0);
    expect(listPg.json.sessions).toEqual(listA);
    expect((await cliJson(['--store', url, 'verify'], cwd)).code).toBe(0);
    const log = await cliJson(['--store', url, 'log', REAL_ID], cwd);
    expect(log.code).toBe(0);

    expect((await cliJson(['copy', '--from', url, '--to', 'b'], cwd)).code).toBe(0);
    const anchors = await Promise.all(['a', url, 'b'].map(async (s) => (await cliJson(['--store', s, 'anchor'], cwd)).json));
    expect(anchors[1]).toEqual(anchors[0]);
    expect(anchors[2]).toEqual(anchors[0]);
    const exportOf = async (store: string, out: string) => {
      expect((await cli(['--store', store, 'export', REAL_ID, '--out', out], cwd)).code).toBe(0);
      return fs.readFileSync(nodePath.join(cwd, out), 'utf8');
    };
    expect(await exportOf(url, 'pg.jsonl')).toBe(await exportOf('a', 'a.jsonl'));
    expect(await exportOf('b', 'b.jsonl')).toBe(fs.readFileSync(nodePath.join(cwd, 'a.jsonl'), 'utf8'));

    // Again: everything is already there with the same heads; nothing is written.
    const again = await cliJson(['copy', '--from', 'a', '--to', 'b'], cwd);
    expect(again.code).toBe(0);
    expect((again.json.sessions as Array<{ status: string }>).every((s) => s.status === 'already')).toBe(true);
    expect(again.json.written).toEqual({ records: 0, snapshots: 0, chunks: 0, blobs: 0 });
  }, 600_000);

  it('a session with another head at the destination is SessionExists naming it; nothing there changes', async () => {
    const cwd = tempDir('copy-conflict');
    expect((await cli(['--store', 'a', 'import', REAL], cwd)).code).toBe(0);
    const other = right(await SessionStore.open(nodePath.join(cwd, 'c')));
    right(await other.create({ id: REAL_ID }));
    right(await other.close());
    const before = await dumpDb(nodePath.join(cwd, 'c'));
    const r = await cliJson(['copy', '--from', 'a', '--to', 'c', REAL_ID], cwd);
    expect(r.code).toBe(1);
    expect(r.json.error).toMatchObject({ _tag: 'SessionExists', sessionId: REAL_ID });
    expect(await dumpDb(nodePath.join(cwd, 'c'))).toEqual(before);
    // A missing source store is not created.
    const missing = await cliJson(['copy', '--from', 'nowhere', '--to', 'd'], cwd);
    expect(missing.code).toBe(1);
    expect(fs.existsSync(nodePath.join(cwd, 'nowhere'))).toBe(false);
  }, 600_000);
});
