/**
 * `palimpsest diff` as a child process on the demo store (the bundled real
 * session, imported and compacted): the compaction commit's diff, --json,
 * --text, and the errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliJson, cleanup, tempDir } from './helpers.ts';

/** The demo's first run's session id. */
const DEMO_ID = 'demo-1:d703a1a9-1b7b-4fb1-b512-c9738b1fe617';

afterAll(cleanup);

let cwd = '';
let commitSeq = 0;
let parentRevision = '';

beforeAll(async () => {
  cwd = tempDir('diff');
  const demo = await cli(['--store', '.palimpsest', 'demo'], cwd);
  expect(demo.code).toBe(0);
  const g = await cliJson(['revisions', DEMO_ID], cwd);
  const c = g.json.commits[0];
  commitSeq = c.seq;
  parentRevision = c.commit.parentRevision;
});

describe('palimpsest diff', () => {
  it('--json: the compaction replaced [0,974) by one summary and kept the last 40 messages', async () => {
    const r = await cliJson(['diff', DEMO_ID, String(commitSeq - 1), String(commitSeq)], cwd);
    expect(r.code).toBe(0);
    const j = r.json;
    expect(j.a).toMatchObject({ seq: commitSeq - 1, revision: parentRevision, messages: 1014 });
    expect(j.b).toMatchObject({ seq: commitSeq, messages: 41 });
    expect(j.diff.counts).toEqual({ kept: 40, removed: 0, added: 0, replaced: 974, replacements: 1 });
    expect(j.diff.hunks.map((h: { kind: string }) => h.kind)).toEqual(['replaced', 'kept']);
    expect(j.diff.hunks[0].a).toEqual({ start: 0, end: 974 });
    expect(j.diff.hunks[0].removed).toHaveLength(974);
    expect(j.diff.hunks[1]).toMatchObject({ a: { start: 974, end: 1014 }, b: { start: 1, end: 41 } });
    expect(j.texts).toBeUndefined();
  });

  it('accepts a revision prefix and head; human output lists the changed messages with digests', async () => {
    const r = await cli(['diff', DEMO_ID, parentRevision.slice(7, 19), 'head'], cwd);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kept 40, removed 0, added 0, replaced 974 -> 1');
    expect(r.stdout).toMatch(/^replaced +a\[0,974\) +b\[0,1\) +974 -> 1 messages$/m);
    expect(r.stdout).toMatch(/^ {2}- a#0 {2}[0-9a-f]{12} {2}user {2}\/mode$/m);
    expect(r.stdout).toMatch(/^ {2}\+ b#0 {2}[0-9a-f]{12} {2}user\/compaction_summary/m);
  });

  it('--text adds a unified line diff of the changed texts', async () => {
    const r = await cliJson(['diff', DEMO_ID, String(commitSeq - 1), 'head', '--text'], cwd);
    expect(r.code).toBe(0);
    const lines: string[] = r.json.texts[0].patch.flatMap((p: { lines: string[] }) => p.lines);
    expect(lines).toContain('-#0 user');
    expect(lines).toContain('+#0 user/compaction_summary');
    const text = await cli(['diff', DEMO_ID, String(commitSeq - 1), 'head', '--text'], cwd);
    expect(text.stdout).toContain('--- a hunk 0 (replaced)');
    expect(text.stdout).toContain('+++ b hunk 0 (replaced)');
  });

  it('a label point: diff label:x head is the diff from the record the label names', async () => {
    expect((await cli(['label', DEMO_ID, 'pre', '--at', String(commitSeq - 1)], cwd)).code).toBe(0);
    const r = await cliJson(['diff', DEMO_ID, 'label:pre', 'head'], cwd);
    expect(r.code).toBe(0);
    expect(r.json.a).toMatchObject({ point: { kind: 'label', label: 'pre' }, seq: commitSeq - 1, revision: parentRevision, messages: 1014 });
    expect(r.json.diff.counts).toEqual({ kept: 40, removed: 0, added: 0, replaced: 974, replacements: 1 });
    const text = await cli(['diff', DEMO_ID, 'pre', 'head'], cwd);
    expect(text.stdout).toContain(`a: label "pre" -> record ${commitSeq - 1} (`);
  });

  it('the same point twice is all kept', async () => {
    const r = await cliJson(['diff', DEMO_ID, 'head', 'head'], cwd);
    expect(r.json.diff.counts).toEqual({ kept: 41, removed: 0, added: 0, replaced: 0, replacements: 0 });
  });

  it('errors: a bad point is a usage error (2); an unknown seq, revision or label is exit 1', async () => {
    const bad = await cliJson(['diff', DEMO_ID, '0', 'head'], cwd);
    expect(bad.code).toBe(2);
    expect(bad.json.error._tag).toBe('UsageError');
    const seq = await cliJson(['diff', DEMO_ID, '999999', 'head'], cwd);
    expect(seq.code).toBe(1);
    expect(seq.json.error._tag).toBe('SeqOutOfRange');
    const rev = await cliJson(['diff', DEMO_ID, 'ffffffff', 'head'], cwd);
    expect(rev.json.error._tag).toBe('RevisionNotFound');
    const label = await cliJson(['diff', DEMO_ID, 'label:release', 'head'], cwd);
    expect(label.json.error).toMatchObject({ _tag: 'LabelNotFound', label: 'release' });
  });
});
