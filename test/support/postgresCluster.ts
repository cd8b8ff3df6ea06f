/**
 * A throwaway PostgreSQL cluster (tests and benchmarks): `initdb` in a
 * temporary directory and `pg_ctl` on a free loopback port (trust
 * authentication, `fsync=off`: the tests kill clients, never the server). Run
 * as root, the server runs as the `postgres` user (`runuser`). The binaries come
 * from `pg_config --bindir` or the newest `/usr/lib/postgresql/<version>/bin`
 * (Debian's packages).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as nodePath from 'node:path';

/** The directory holding `initdb` and `pg_ctl`. */
export const postgresBinDir = (): string => {
  try {
    const d = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (fs.existsSync(nodePath.join(d, 'initdb'))) return d;
  } catch {
    // no pg_config on PATH (Debian puts it under /usr/lib/postgresql/<v>/bin)
  }
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(nodePath.join(root, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions[0] === undefined) throw new Error('PostgreSQL is not installed (apt-get install postgresql), and PALIMPSEST_PG_URL is not set');
  return nodePath.join(root, versions[0], 'bin');
};

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });

/** Starts a throwaway cluster; returns its URL and a function that stops it and removes its directory. */
export const startThrowawayCluster = async (): Promise<{ url: string; stop: () => void }> => {
  const bin = postgresBinDir();
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]): void => {
    const full = nodePath.join(bin, cmd);
    if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', full, ...args], { stdio: 'pipe' });
    else execFileSync(full, args, { stdio: 'pipe' });
  };
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'palimpsest-pg-'));
  if (asRoot) execFileSync('chown', ['postgres', dir]);
  const data = nodePath.join(dir, 'data');
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const opts = `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  run('pg_ctl', ['-D', data, '-o', opts, '-l', nodePath.join(dir, 'server.log'), '-w', 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
};

