/**
 * Test support for the inspector's browser tests: Debian's headless Chromium
 * (found with `which chromium`; never downloaded) driven by playwright-core,
 * a `palimpsest inspect` server as a child process, and the screenshot folder.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { MAIN, ROOT, TSX } from '../cli/helpers.ts';

/** Where screenshots are written (gitignored). */
export const ARTIFACTS = nodePath.join(ROOT, 'test-artifacts', 'inspect');

/** The Debian Chromium binary; a missing one fails with the install command (`.ci/run` installs it). */
export const chromiumPath = (): string => {
  let path = '';
  try {
    path = execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    path = '';
  }
  if (path === '') throw new Error('no chromium on PATH: apt-get update && apt-get install -y chromium (.ci/run does this)');
  return path;
};

/** The flags every test browser runs with. */
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A headless Chromium with a fresh user-data-dir (removed by `close`). */
export const launchBrowser = async (): Promise<{ context: BrowserContext; close: () => Promise<void> }> => {
  const userDataDir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'palimpsest-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1360, height: 900 },
  });
  // Generous waits: verifying the real session's log takes seconds, many more on a busy machine (no time is asserted).
  context.setDefaultTimeout(180_000);
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
};

/** A running `palimpsest inspect` child process. */
export interface InspectServer {
  readonly url: string;
  readonly child: ChildProcess;
  /** Sends SIGTERM to this child and waits for its exit code. */
  readonly stop: () => Promise<number | null>;
}

/** Starts `palimpsest --store <store> inspect` in `cwd` and waits for the URL it prints. */
export const startInspect = (cwd: string, store: string): Promise<InspectServer> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, '--store', store, 'inspect'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m !== null)
        resolve({
          url: m[1]!,
          child,
          stop: async () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
    });
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    void exited.then((code) => reject(new Error(`palimpsest inspect exited (${code}) before serving: ${out}${err}`)));
  });

/** Writes a screenshot of the page into `ARTIFACTS/<name>.png`. */
export const screenshotPath = (name: string): string => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return nodePath.join(ARTIFACTS, `${name}.png`);
};
