import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionStore } from '../../src/store/index.ts';
import { runCli } from '../../src/cli/program.ts';
import { fillsScreen, pagerCommand } from '../../src/cli/pager.ts';

const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'palimpsest-pager-'));
const store = nodePath.join(dir, 'store');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const s = await SessionStore.open(store);
  if (E.isLeft(s)) throw new Error(s.left.message);
  for (let i = 0; i < 6; i++) expect(E.isRight(await s.right.create({ id: `chat-${i}` }))).toBe(true);
  expect(E.isRight(await s.right.close())).toBe(true);
});

/** A terminal of `rows` rows (or a pipe), recording what is written to it. */
const terminal = (isTTY: boolean, rows = 3) => {
  const chunks: string[] = [];
  return { chunks, out: { isTTY, rows, write: (s: string) => (chunks.push(s), true) } };
};

const run = async (argv: string[], isTTY: boolean, env: Record<string, string>) => {
  const out = terminal(isTTY);
  const err = terminal(isTTY);
  const code = await runCli(['--store', store, ...argv], { stdout: out.out, stderr: err.out }, dir, env);
  return { code, stdout: out.chunks.join('') };
};

describe('pager choice (git rules)', () => {
  const base = { isTTY: true, json: false, noPager: false, env: {} };
  it('pages through less by default on a terminal, through $PAGER when set', () => {
    expect(pagerCommand(base)).toBe('less');
    expect(pagerCommand({ ...base, env: { PAGER: 'most -s' } })).toBe('most -s');
  });
  it('never pages a pipe, --json, --no-pager, or PAGER empty or cat', () => {
    expect(pagerCommand({ ...base, isTTY: false })).toBeUndefined();
    expect(pagerCommand({ ...base, json: true })).toBeUndefined();
    expect(pagerCommand({ ...base, noPager: true })).toBeUndefined();
    expect(pagerCommand({ ...base, env: { PAGER: '' } })).toBeUndefined();
    expect(pagerCommand({ ...base, env: { PAGER: 'cat' } })).toBeUndefined();
  });
  it('pages only text that fills the screen', () => {
    expect(fillsScreen('a\nb\n', 3)).toBe(false);
    expect(fillsScreen('a\nb\nc\n', 3)).toBe(true);
    expect(fillsScreen('a\nb\nc\n', undefined)).toBe(false);
    expect(fillsScreen('a\nb\nc\n', 0)).toBe(false);
  });
});

describe('palimpsest output through a real pager process', () => {
  it('sends long output on a terminal to $PAGER (with LESS=FRX) and nothing to stdout', async () => {
    const file = nodePath.join(dir, 'paged.txt');
    const r = await run(['sessions'], true, { PAGER: `cat > '${file}'; printf '%s' "$LESS" > '${file}.less'` });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const paged = fs.readFileSync(file, 'utf8');
    for (let i = 0; i < 6; i++) expect(paged).toContain(`chat-${i}`);
    expect(fs.readFileSync(`${file}.less`, 'utf8')).toBe('FRX');
  });

  it('writes to stdout when piped, with --no-pager, with --json, or when the pager cannot start', async () => {
    const file = nodePath.join(dir, 'never.txt');
    const pager = { PAGER: `cat > '${file}'` };
    for (const [argv, tty, env] of [
      [['sessions'], false, pager],
      [['--no-pager', 'sessions'], true, pager],
      [['--json', 'sessions'], true, pager],
      [['sessions'], true, { PAGER: 'palimpsest-no-such-pager-xyz' }],
    ] as const) {
      const r = await run([...argv], tty, env);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('chat-5');
    }
    expect(fs.existsSync(file)).toBe(false);
  });
});
