/**
 * `palimpsest label`: set a label at a seq, resolve it with `show --at label:<name>`,
 * list it in `revisions` and `log`, delete it; pi labels arrive as labels.
 */
import * as nodePath from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, cli, cliJson, tempDir } from './helpers.ts';
import { writeGeneratedPiFile } from '../adapters/pi/generate.ts';

afterAll(cleanup);

describe('palimpsest label', () => {
  it('sets, resolves, lists and deletes labels; imported pi labels are labels', { timeout: 60_000 }, async () => {
    const cwd = tempDir('label');
    const file = nodePath.join(cwd, 'gen.jsonl');
    await writeGeneratedPiFile(file, { messages: 40, textChars: 10 });
    expect((await cli(['import', file], cwd)).code).toBe(0);
    const id = 'pi:gen-1';
    // The generator labels the user message of turn 7: the import made it a label.
    const revs = await cliJson(['revisions', id], cwd);
    expect(revs.json.labels.map((l: { name: string }) => l.name)).toEqual(['turn-7']);

    const set = await cliJson(['label', id, 'checkpoint-1', '--at', '5'], cwd);
    expect(set.json).toMatchObject({ sessionId: id, name: 'checkpoint-1', seq: 5, deleted: false });
    const shown = await cliJson(['show', id, '--at', 'label:checkpoint-1'], cwd);
    expect(shown.json.seq).toBe(5);
    expect(shown.json.revision).toBe(set.json.revision);
    const text = await cli(['revisions', id], cwd);
    expect(text.stdout).toMatch(/checkpoint-1 -> seq 5 \(revision [0-9a-f]{12}\)/);
    expect((await cli(['log', id], cwd)).stdout).toContain('checkpoint-1 -> seq 5');

    expect((await cliJson(['label', id, 'checkpoint-1', '--delete'], cwd)).json.deleted).toBe(true);
    expect((await cliJson(['show', id, '--at', 'label:checkpoint-1'], cwd)).json.error._tag).toBe('LabelNotFound');
    expect((await cli(['label', id, 'x', '--delete', '--at', '3'], cwd)).code).toBe(2);
    expect((await cliJson(['verify'], cwd)).code).toBe(0);
  });
});
