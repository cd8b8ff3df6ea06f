/**
 * Live readers: while an application keeps a PostgreSQL store open and keeps
 * appending, the CLI (`sessions`, `log`, `show`, `verify`, `inspect --html`)
 * reads the same database from other processes — no `StoreLocked`, and every
 * read is of a consistent, verified prefix.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionStore } from '../../src/store/index.ts';
import { dropSchemas, freshSchema, pgUrl, withPg } from '../support/postgres.ts';
import { right } from '../support/either.ts';
import { cli, cliJson, cleanup, REAL, REAL_ID, tempDir } from './helpers.ts';

afterAll(async () => {
  cleanup();
  await dropSchemas();
});

describe('the CLI on a PostgreSQL store', () => {
  it('read-only commands never create a store; import does', async () => {
    const cwd = tempDir('pg-create');
    const schema = freshSchema('cli_create');
    const url = `${pgUrl()}?schema=${schema}`;
    const schemaExists = async () => withPg(async (c) => (await c.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema])).rowCount);
    for (const args of [['sessions'], ['verify'], ['anchor'], ['inspect', '--html', 'x.html']]) {
      const r = await cliJson(['--store', url, ...args], cwd);
      expect(r.code).toBe(1);
      expect(r.json.error._tag).toBe('StoreIoError');
    }
    expect(await schemaExists()).toBe(0);
    expect((await cli(['--store', url, 'import', REAL], cwd)).code).toBe(0);
    expect((await cliJson(['--store', url, 'sessions'], cwd)).json.sessions.map((s: { sessionId: string }) => s.sessionId)).toContain(REAL_ID);
  }, 600_000);

  it('an application keeps writing: the CLI reads, verifies and renders the inspector page while appends land', async () => {
    const cwd = tempDir('pg-live');
    const url = `${pgUrl()}?schema=${freshSchema('cli_live')}`;
    const app = right(await SessionStore.open(url));
    let stop = false;
    let seq = right(await app.create({ id: 'live' })).seq;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const m = i % 2 === 0 ? { role: 'user', content: [{ type: 'text', text: `q${i}` }], transcriptRole: 'conversational', createdAt: i } : { role: 'assistant', content: [{ type: 'text', text: `a${i}` }], stopReason: 'end_turn', createdAt: i };
        seq = right(await app.append('live', [{ type: 'messages_appended', messages: [m] }], { expectedSeq: seq })).session.seq;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      const first = await cliJson(['--store', url, 'sessions'], cwd);
      expect(first.code).toBe(0);
      const lastSeq = first.json.sessions[0].lastSeq as number;
      expect(first.json.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual(['live']);
      const log = await cliJson(['--store', url, 'log', 'live'], cwd);
      expect(log.code).toBe(0);
      const verify = await cliJson(['--store', url, 'verify'], cwd);
      expect(verify.json.sessions?.flatMap((s: { problems: unknown[] }) => s.problems) ?? verify.json).toEqual([]);
      expect(verify.code).toBe(0);
      expect(verify.json.ok).toBe(true);
      const show = await cli(['--store', url, 'show', 'live'], cwd);
      expect(show.code).toBe(0);
      const page = await cli(['--store', url, 'inspect', '--html', 'audit.html'], cwd);
      expect(page.code).toBe(0);
      expect(fs.readFileSync(nodePath.join(cwd, 'audit.html'), 'utf8')).toContain('live');
      const later = await cliJson(['--store', url, 'sessions'], cwd);
      // The application kept writing meanwhile, and the CLI saw it.
      expect(later.json.sessions[0].lastSeq).toBeGreaterThan(lastSeq);
    } finally {
      stop = true;
      await writer;
      right(await app.close());
    }
    expect(seq).toBeGreaterThan(2);
  }, 600_000);
});
