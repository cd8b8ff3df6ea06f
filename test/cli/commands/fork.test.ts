/**
 * `palimpsest fork --at <index>` says how many messages the child kept: forkAt
 * clamps an index past the end to the length, and the report says so instead
 * of claiming the index it was given.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, cli, cliJson, REAL, REAL_ID, tempDir } from '../helpers.ts';

afterAll(cleanup);

describe('palimpsest fork --at', () => {
  it('reports the messages kept, and an index past the end as clamped', { timeout: 60_000 }, async () => {
    const dir = tempDir('fork-at');
    expect((await cli(['import', REAL], dir)).code).toBe(0);
    const length: number = (await cliJson(['show', REAL_ID], dir)).json.messageCount;

    const past = await cli(['fork', REAL_ID, '--at', String(length + 1000)], dir);
    expect(past.code).toBe(0);
    expect(past.stdout).toMatch(new RegExp(`mode: +at \\(first ${length} messages; --at ${length + 1000} is past the end: clamped\\)`));
    expect(past.stdout).toMatch(new RegExp(`messages: +${length}\\n`));

    const inside = await cli(['fork', REAL_ID, '--at', '10'], dir);
    expect(inside.stdout).toMatch(/mode: +at \(first 10 messages\)\n/);
  });
});
