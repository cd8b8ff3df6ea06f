/**
 * `palimpsest inspect --html <file>` creates the file whole or not at all and
 * never replaces one it did not write unless `--force` (the page's content is
 * checked in a real browser by test/inspect/browser.test.ts).
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, cli, cliJson, REAL, REAL_ID, tempDir } from '../helpers.ts';

afterAll(cleanup);

describe('palimpsest inspect --html', () => {
  it('leaves an existing file alone (FileError EEXIST, exit 1) unless --force, and leaves no temporary file', { timeout: 120_000 }, async () => {
    const dir = tempDir('inspect-html');
    expect((await cli(['import', REAL], dir)).code).toBe(0);
    const file = nodePath.join(dir, 'audit.html');
    fs.writeFileSync(file, 'my own notes');

    const refused = await cliJson(['inspect', '--html', 'audit.html'], dir);
    expect(refused.code).toBe(1);
    expect(refused.json.error).toMatchObject({ _tag: 'FileError', code: 'EEXIST' });
    expect(refused.json.error.message).toContain('--force replaces it');
    expect(fs.readFileSync(file, 'utf8')).toBe('my own notes');

    const forced = await cliJson(['inspect', '--html', 'audit.html', '--force'], dir);
    expect(forced.code).toBe(0);
    expect(forced.json).toMatchObject({ file, sessions: [REAL_ID] });
    expect(forced.json.bytes).toBe(fs.statSync(file).size);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^<!doctype html>/i);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // A new file needs no --force; --force alone (serving) is a usage error.
    expect((await cli(['inspect', '--html', 'other.html'], dir)).code).toBe(0);
    expect((await cli(['inspect', '--force'], dir)).code).toBe(2);
  });
});
