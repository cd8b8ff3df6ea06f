/**
 * Docs that run: every fenced code block of README.md is checked here.
 *
 * - A ```ts block checks itself: it imports `node:assert/strict` and asserts
 *   what it shows. It is written to a module under
 *   `node_modules/.cache/palimpsest-readme/` (so its bare imports resolve from
 *   this checkout) and imported, with the working directory set to a fresh
 *   temp directory (so `./.palimpsest` in a block is a new store) and the
 *   `openai` client pointed at the loopback OpenAI server (`OPENAI_BASE_URL`,
 *   a scripted model: with tools offered it calls `read_file` on notes.txt,
 *   then quotes the tool result; otherwise it answers a fixed sentence) and
 *   `DATABASE_URL` at the tests' PostgreSQL server.
 *   Imports of `palimpsest` and its subpaths are pointed at the sources behind
 *   each `exports` entry (`./dist/x.js` → `src/x.ts`), so the blocks test this
 *   checkout, not a stale build.
 * - A ```sh block lists commands; each (split at `&&`, comments dropped) must
 *   be one that `.ci/run` runs.
 * - Any other block fails: add a kind here first.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startLocalOpenAIServer, type LocalOpenAIServer, type RecordedRequest, type ScriptedReply } from './support/localOpenAIServer.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CACHE = nodePath.join(ROOT, 'node_modules', '.cache', 'palimpsest-readme');
const readme = fs.readFileSync(nodePath.join(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(fs.readFileSync(nodePath.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | { default: string }> };

/** `palimpsest/<sub>` → the absolute path of its source module. */
const sources = new Map(
  Object.entries(pkg.exports)
    .filter(([k]) => k !== './package.json')
    .map(([k, v]) => {
      const target = typeof v === 'string' ? v : v.default;
      return [k === '.' ? 'palimpsest' : `palimpsest/${k.slice(2)}`, nodePath.join(ROOT, target.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'))] as const;
    }),
);

/** Every fenced block, with its language and the heading above it. */
const blocks = [...readme.matchAll(/^```(\S*)\n([\s\S]*?)^```/gm)].map((m) => ({
  lang: m[1] ?? '',
  code: m[2]!,
  heading: [...readme.slice(0, m.index).matchAll(/^## (.+)$/gm)].at(-1)?.[1] ?? '(top)',
}));
const tsBlocks = blocks.filter((b) => b.lang === 'ts');

/** The scripted model behind the blocks that talk to OpenAI. */
const scriptedModel = (req: RecordedRequest): ScriptedReply => {
  const body = req.body as { tools?: unknown[]; input?: unknown; messages?: Array<{ role?: string; content?: unknown }> };
  const items = Array.isArray(body.input) ? (body.input as Array<{ type?: string; output?: unknown }>) : [];
  const toolOutput = req.api === 'responses' ? items.findLast((i) => i.type === 'function_call_output')?.output : body.messages?.findLast((m) => m.role === 'tool')?.content;
  if (toolOutput !== undefined) return { kind: 'text', text: `notes.txt says: ${typeof toolOutput === 'string' ? toolOutput.trim() : JSON.stringify(toolOutput)}` };
  if ((body.tools ?? []).length > 0) return { kind: 'tool_calls', calls: [{ id: 'call_1', name: 'read_file', arguments: JSON.stringify({ path: 'notes.txt' }) }] };
  return { kind: 'text', text: 'Sunny, 21 °C.' };
};

const ENV = ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'OPENAI_AGENTS_DISABLE_TRACING', 'DATABASE_URL'] as const;
let server: LocalOpenAIServer;
const savedEnv = new Map<string, string | undefined>();
const dirs: string[] = [];
beforeAll(async () => {
  server = await startLocalOpenAIServer({ reply: scriptedModel, model: 'gpt-4.1' });
  for (const k of ENV) savedEnv.set(k, process.env[k]);
  process.env.OPENAI_BASE_URL = server.url;
  process.env.OPENAI_API_KEY = 'not-needed-locally';
  process.env.OPENAI_AGENTS_DISABLE_TRACING = '1';
  // The PostgreSQL block connects to the test server (test/support/postgresServer.ts).
  process.env.DATABASE_URL = inject('pgUrl');
});
afterAll(async () => {
  for (const [k, v] of savedEnv) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await server.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('README code blocks', () => {
  it('are ts (self-checking) or sh blocks', () => {
    expect(blocks.filter((b) => b.lang !== 'ts' && b.lang !== 'sh').map((b) => `${b.heading}: \`\`\`${b.lang}`)).toEqual([]);
    expect(tsBlocks.filter((b) => !b.code.includes("from 'node:assert/strict'")).map((b) => b.heading)).toEqual([]);
    expect(tsBlocks.map((b) => b.heading)).toEqual([
      'The library in one screen',
      'Agents SDK integration',
      'Agents SDK integration',
      'AI SDK chat store',
      'Property-test your compaction strategy',
      'pi sessions, losslessly',
      'Running a turn with the `openai` client',
      'Detecting tampering *and* loss: head anchors',
      'PostgreSQL',
    ]);
  });

  it('every command of a sh block is run by .ci/run', () => {
    const ci = fs
      .readFileSync(nodePath.join(ROOT, '.ci', 'run'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const commands = blocks.filter((b) => b.lang === 'sh').flatMap((b) => b.code.split('\n').flatMap((l) => l.replace(/#.*$/, '').split('&&').map((c) => c.trim()).filter((c) => c !== '')));
    expect(commands.length).toBeGreaterThan(0);
    expect(commands.filter((c) => !ci.some((l) => l === c || l.startsWith(`${c} `)))).toEqual([]);
  });

  for (const [i, b] of tsBlocks.entries()) {
    it(`runs the block under "${b.heading}"`, async () => {
      const code = b.code.replace(/from '(palimpsest(?:\/[a-z-]+)?)'/g, (whole, spec: string) => {
        const src = sources.get(spec);
        if (src === undefined) throw new Error(`README imports ${spec}, which package.json does not export`);
        return `from ${JSON.stringify(pathToFileURL(src).href)}`;
      });
      fs.mkdirSync(CACHE, { recursive: true });
      const file = nodePath.join(CACHE, `block-${i}.ts`);
      fs.writeFileSync(file, `${code}\nexport {};\n`);
      const cwd = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'palimpsest-readme-'));
      dirs.push(cwd);
      const before = process.cwd();
      process.chdir(cwd);
      try {
        await import(/* @vite-ignore */ `${pathToFileURL(file).href}?t=${Date.now()}`);
      } finally {
        process.chdir(before);
      }
    });
  }
});
