/**
 * Starts a throw-away PostgreSQL server on 127.0.0.1 for tests: initdb into a temporary folder,
 * a free port, trust auth on loopback only, one database. `stop()` shuts it down and removes the folder.
 *
 * Needs Debian's PostgreSQL server binaries (`.ci/run` installs the `postgresql` package).
 * As root (CI), the server runs as the `postgres` user, since initdb refuses to run as root.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/run/processes.ts';

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/DB` */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

function findBinDir(): string {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const dir = join(base, v, 'bin');
      if (existsSync(join(dir, 'initdb'))) return dir;
    }
  }
  throw new Error(`PostgreSQL server binaries not found under ${base}: install Debian's package (apt-get install -y postgresql)`);
}

export async function startPostgres(database = 'agentload_test'): Promise<PostgresServer> {
  const bin = findBinDir();
  const isRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'agentload-pg-'));
  const dataDir = join(dir, 'data');
  const asUser = (cmd: string, args: string[]): [string, string[]] =>
    isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  if (isRoot) chownSync(dir, uidOf('postgres'), gidOf('postgres'));

  const [initCmd, initArgs] = asUser(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  execFileSync(initCmd, initArgs, { stdio: 'pipe' });
  writeFileSync(join(dataDir, 'pg_hba.conf'), 'host all all 127.0.0.1/32 trust\nlocal all all trust\n');
  if (isRoot) chownSync(join(dataDir, 'pg_hba.conf'), uidOf('postgres'), gidOf('postgres'));

  const port = await freePort();
  const [pgCmd, pgArgs] = asUser(join(bin, 'postgres'), [
    '-D',
    dataDir,
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=200',
  ]);
  const proc = spawn(pgCmd, pgArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d: Buffer) => {
    log += d.toString();
  });

  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      execFileSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)], { stdio: 'pipe' });
      break;
    } catch {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`PostgreSQL did not start on 127.0.0.1:${port}: ${log.trim().split('\n').slice(-3).join(' | ')}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  execFileSync(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', database], { stdio: 'pipe' });

  return {
    url: `postgres://postgres@127.0.0.1:${port}/${database}`,
    port,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        // Signal the postmaster itself: under runuser, the child we spawned is runuser, not postgres.
        const pid = postmasterPid(dataDir);
        if (pid !== undefined)
          process.kill(pid, 'SIGINT'); // fast shutdown
        else proc.kill('SIGINT');
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          exited.then(() => 'exited' as const),
          new Promise<'timeout'>((r) => {
            timer = setTimeout(() => {
              r('timeout');
            }, 10_000);
          }),
        ]);
        clearTimeout(timer);
        if (outcome === 'timeout') {
          if (pid !== undefined) process.kill(pid, 'SIGKILL');
          proc.kill('SIGKILL');
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const first = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
    const pid = Number(first);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user]).toString().trim());
}
function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user]).toString().trim());
}
