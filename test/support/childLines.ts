/**
 * Test support: runs a TypeScript script in a child Node.js process (through
 * tsx) and hands each line it prints on stdout to `onLine` as it arrives, with
 * the child, so a test can react mid-run (e.g. SIGKILL it after some output).
 * Resolves when the child exits, with its exit code or signal and its stderr;
 * rejects only if the process cannot be started.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** How a child ended: `code` (null when killed), `signal` (null when it exited), everything it wrote on stderr. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/** Runs `node --import tsx <script> ...args` in `cwd` (with `env`, default this process's), calling `onLine(line, child)` for each stdout line (without its newline). */
export const runChildLines = (
  script: string,
  args: readonly string[],
  opts: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv; readonly onLine: (line: string, child: ChildProcess) => void },
): Promise<ChildExit> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        opts.onLine(line, child);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
