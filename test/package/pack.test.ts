/**
 * Pack-and-consume: the package as a user installs it.
 *
 * `npm pack` builds a clean `dist/` (prepack) and packs it; the tarball is
 * installed from the registry's ordinary client into one empty temporary
 * project (made once for this file), which then:
 *
 * - holds only compiled JavaScript, declarations and docs (no `.ts` source,
 *   test, fixture, benchmark or data file);
 * - imports `palimpsest` from plain Node ESM without any optional peer
 *   installed, opens a store, appends, forks and verifies (`consumer/core.mjs`);
 * - runs the installed `palimpsest` bin (`--help`, `--version`, `verify`);
 * - for the oldest and the newest `openai` / `@openai/agents-core` of the peer
 *   ranges (`PEER_SETS`): type-checks a strict TypeScript consumer
 *   (`module`/`moduleResolution` nodenext, no `skipLibCheck`) against the
 *   shipped `.d.ts`, runs it, imports every exported subpath, and runs the turn
 *   runner (Chat Completions and Responses) against the loopback OpenAI server
 *   and the Agents SDK's own `run()` with a palimpsest session (`consumer/peers.mjs`).
 *
 * Adding a subpath: `consumer/subpaths.mjs` imports every key of `exports`
 * already; add type-level use to `consumer/*.ts` if it has types of its own.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalOpenAIServer, type LocalOpenAIServer } from '../support/localOpenAIServer.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONSUMER = fileURLToPath(new URL('./consumer/', import.meta.url));
const TSC = nodePath.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const pkg = JSON.parse(fs.readFileSync(nodePath.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  exports: Record<string, string | { types: string; default: string }>;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/**
 * The oldest and the newest versions of the optional peers that the peer ranges
 * in package.json promise (the oldest is each range's lower bound; update the
 * newest when a new release is tested and the range widened).
 */
const PEER_SETS = [
  { name: 'oldest', openai: '6.46.0', agentsCore: '0.14.3' },
  { name: 'newest', openai: '7.59.0', agentsCore: '0.20.0' },
] as const;

/** Slow steps (npm installs, a type-check of openai's declarations) on a shared machine. */
const SLOW = 600_000;

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of a child, without the `npm_*` variables of the `npm test` that may be running us. */
const cleanEnv = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));

const run = (file: string, args: readonly string[], cwd: string): Promise<Ran> =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { cwd, env: { ...cleanEnv(), NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') {
        reject(err);
        return;
      }
      resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr });
    });
  });

/** Runs and requires exit 0 (the failure message carries the output). */
const ok = async (file: string, args: readonly string[], cwd: string): Promise<string> => {
  const r = await run(file, args, cwd);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.code}\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  return r.stdout;
};

const npm = (args: readonly string[], cwd: string): Promise<string> => ok('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], cwd);
const node = (args: readonly string[], cwd: string): Promise<string> => ok(process.execPath, args, cwd);
const lastJson = (out: string): any => JSON.parse(out.trim().split('\n').pop() ?? '');

let work: string;
let project: string;
let tarball: string;
let files: string[];
let builtBinMode: number;

beforeAll(async () => {
  work = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'palimpsest-pack-'));
  project = nodePath.join(work, 'project');
  const packed = JSON.parse(await npm(['pack', '--json', '--pack-destination', work], ROOT)) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const first = packed[0];
  if (first === undefined) throw new Error('npm pack reported no tarball');
  tarball = nodePath.join(work, first.filename);
  // The build (prepack) leaves the bin executable in the checkout too, so `npx palimpsest` runs it there (the README's command).
  builtBinMode = fs.statSync(nodePath.join(ROOT, 'dist', 'cli', 'main.js')).mode;
  files = first.files.map((f) => f.path).sort();
  fs.mkdirSync(project);
  fs.writeFileSync(nodePath.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  for (const f of fs.readdirSync(CONSUMER)) fs.copyFileSync(nodePath.join(CONSUMER, f), nodePath.join(project, f));
  // What a TypeScript user adds next to palimpsest: Node's types and fp-ts (to unwrap the Eithers).
  await npm(['install', tarball, `@types/node@${pkg.devDependencies['@types/node']}`, 'fp-ts@2'], project);
}, SLOW);

afterAll(() => {
  if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
});

describe('the tarball', () => {
  it('holds compiled JavaScript, declarations, README, LICENSE and ARCHITECTURE.md only', () => {
    const allowed = /^(dist\/.+\.(js|d\.ts)|dist\/inspect\/web\/app\.css|README\.md|LICENSE|ARCHITECTURE\.md|package\.json)$/;
    expect(files.filter((f) => !allowed.test(f))).toEqual([]);
    expect(files.filter((f) => /(^|\/)(test|tests|spec|bench|data|fixtures?|\.ci|src)\//.test(f) || /\.(test|spec)\.|\.jsonl$|\.tsbuildinfo$/.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    for (const f of ['LICENSE', 'README.md', 'ARCHITECTURE.md', 'dist/cli/main.js', 'dist/inspect/web/app.js', 'dist/inspect/web/app.css']) expect(files).toContain(f);
  });

  it('is built with an executable bin in the checkout (npx palimpsest runs it)', () => {
    expect(builtBinMode & 0o111).toBe(0o111);
  });

  it('holds every file that exports and bin point at', () => {
    const targets = Object.entries(pkg.exports).flatMap(([k, v]) => (k === './package.json' ? [] : typeof v === 'string' ? [v] : [v.types, v.default]));
    expect(targets.length).toBeGreaterThan(0);
    for (const t of targets) expect(files).toContain(t.replace(/^\.\//, ''));
  });
});

describe('installed without the optional peers', () => {
  it('plain node imports palimpsest, opens a store, appends, forks and verifies', async () => {
    expect(fs.existsSync(nodePath.join(project, 'node_modules', 'openai'))).toBe(false);
    expect(fs.existsSync(nodePath.join(project, 'node_modules', '@openai', 'agents-core'))).toBe(false);
    const out = lastJson(await node(['core.mjs', nodePath.join(work, 'store-js')], project));
    expect(out).toEqual({
      messages: 2,
      child: 'consumer-js~fork',
      childMessages: 2,
      verified: [
        ['consumer-js', true],
        ['consumer-js~fork', true],
      ],
    });
  });

  it('the palimpsest bin runs --help, --version and verify', async () => {
    const bin = nodePath.join(project, 'node_modules', '.bin', 'palimpsest');
    expect(await ok(bin, ['--help'], project)).toMatch(/^Usage: palimpsest/);
    expect((await ok(bin, ['--version'], project)).trim()).toBe(pkg.version);
    const verify = await run(bin, ['--store', nodePath.join(work, 'store-js'), '--json', 'verify'], project);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });
    const missing = await run(bin, ['--store', nodePath.join(work, 'no-such-store'), 'verify'], project);
    expect(missing.code).toBe(1);
    expect(fs.existsSync(nodePath.join(work, 'no-such-store'))).toBe(false);
  });
});

describe.each(PEER_SETS)('with the $name optional peers (openai $openai, @openai/agents-core $agentsCore)', (peers) => {
  let server: LocalOpenAIServer;
  beforeAll(async () => {
    expect(pkg.peerDependencies.openai).toMatch(/\S/);
    // `ai`'s own declarations import `json-schema` types, which a consumer without `skipLibCheck` must install
    await npm(['install', `openai@${peers.openai}`, `@openai/agents-core@${peers.agentsCore}`, `fast-check@${pkg.devDependencies['fast-check']}`, `ai@${pkg.devDependencies['ai']}`, '@types/json-schema@^7.0.15'], project);
    server = await startLocalOpenAIServer({ reply: () => ({ kind: 'text', text: 'pong' }) });
  }, SLOW);
  afterAll(async () => {
    await server?.close();
  });

  it(
    'a strict TypeScript consumer type-checks against the shipped .d.ts and runs',
    async () => {
      const tsc = await run(process.execPath, [TSC, '-p', '.'], project);
      expect(tsc.stdout + tsc.stderr).toBe('');
      expect(tsc.code).toBe(0);
      const out = lastJson(await node(['out/core.js', nodePath.join(work, `store-ts-${peers.name}`)], project));
      expect(out).toEqual({
        messages: 2,
        child: 'consumer-ts~fork',
        verified: [
          ['consumer-ts', true],
          ['consumer-ts~fork', true],
        ],
        pi: 'function',
      });
    },
    SLOW,
  );

  it('every exported subpath imports', async () => {
    const out = lastJson(await node(['subpaths.mjs'], project)) as Record<string, number>;
    const expected = Object.keys(pkg.exports)
      .filter((k) => k !== './package.json')
      .map((k) => (k === '.' ? 'palimpsest' : `palimpsest/${k.slice(2)}`))
      .sort();
    expect(Object.keys(out).sort()).toEqual(expected);
    for (const n of Object.values(out)) expect(n).toBeGreaterThan(0);
  });

  it('the turn runner and the Agents SDK run() work through palimpsest/openai', async () => {
    const out = lastJson(await node(['peers.mjs', server.url, nodePath.join(work, `peers-${peers.name}`)], project));
    expect(out).toEqual({
      turns: ['pong', 'pong'],
      agent: ['pong from the agent', 'pong from the agent'],
      items: ['message', 'message', 'message', 'message'],
      verified: [true],
    });
    const sent = server.requests.map((r) => r.path);
    expect(sent.slice(-2)).toEqual(['/v1/chat/completions', '/v1/responses']);
  });
});
