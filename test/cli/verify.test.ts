/**
 * `palimpsest verify` as a child process: a clean store exits 0; one flipped
 * byte in a stored record (found through the store's key layout) exits 1 and
 * names the session and the seq.
 */
import * as nodePath from 'node:path';
import { Level } from 'level';
import { afterAll, describe, expect, it } from 'vitest';
import { storeKeys } from '../../src/store/index.ts';
import { cli, cliJson, cleanup, REAL, REAL_ID, tempDir } from './helpers.ts';

afterAll(cleanup);

const SEQ = 57;

/** Flips one byte of the text of record `seq` of `sid` (a letter inside the JSON, so the value still parses). */
const flipByte = async (dir: string, sid: string, seq: number): Promise<void> => {
  const db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  try {
    const key = storeKeys.record(sid, seq);
    const value = await db.get(key);
    if (value === undefined) throw new Error(`no record at ${key}`);
    // Flip a byte inside the record's `revision` digest: still JSON, still a digest, but not the replayed one.
    const at = value.indexOf('"revision":"sha256:') + '"revision":"sha256:'.length + 10;
    const c = value[at]!;
    const flipped = `${value.slice(0, at)}${c === 'a' ? 'b' : 'a'}${value.slice(at + 1)}`;
    expect(flipped).not.toBe(value);
    await db.put(key, flipped);
  } finally {
    await db.close();
  }
};

describe('palimpsest verify', () => {
  it('exits 0 on a clean store and 1 naming the session and seq after a flipped byte', async () => {
    const cwd = tempDir('verify');
    const store = nodePath.join(cwd, 'st');
    expect((await cli(['--store', 'st', 'import', REAL], cwd)).code).toBe(0);
    expect((await cli(['--store', 'st', 'fork', REAL_ID, '--at', '100', '--id', 'child'], cwd)).code).toBe(0);

    const clean = await cli(['--store', 'st', 'verify'], cwd);
    expect(clean.stderr).toBe('');
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(new RegExp(`${REAL_ID} +\\d+ +\\d+ +ok\\n`));
    expect(clean.stdout).toMatch(/verify: ok: 2 sessions, \d+ records, \d+ bytes .* checked in \d+(\.\d)? ms/);

    await flipByte(store, REAL_ID, SEQ);

    const human = await cli(['--store', 'st', 'verify'], cwd);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(new RegExp(`${REAL_ID} +\\d+ +\\d+ +FAILED \\(1 problem\\)`));
    expect(human.stdout).toMatch(/child +\d+ +\d+ +ok/);
    expect(human.stdout).toContain(`${REAL_ID} seq ${SEQ}: `);
    expect(human.stdout).toMatch(/verify: FAILED: 1 of 2 sessions with problems/);

    const json = await cliJson(['--store', 'st', 'verify', REAL_ID], cwd);
    expect(json.code).toBe(1);
    expect(json.json.ok).toBe(false);
    expect(json.json.sessions).toHaveLength(1);
    expect(json.json.sessions[0]).toMatchObject({ sessionId: REAL_ID, ok: false, problems: [expect.objectContaining({ seq: SEQ })] });
  });
});
