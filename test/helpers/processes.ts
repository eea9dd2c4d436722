/**
 * Real processes for the fault tests (issue #12): the built bridge (`dist/`, `npm run build`
 * first), its CLI, and an Odoo 18 server, each started as a child process of the test so that it
 * can be killed by its pid (SIGKILL: no cleanup of its own runs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './paths.js';
import { NODE_FLAGS } from '../../bridge/src/core/memory.js';

export const distCli = join(root, 'dist', 'bridge', 'src', 'cli.js');
export const distServer = join(root, 'dist', 'bridge', 'src', 'server.js');

export function requireBuild(): void {
  if (!existsSync(distCli) || !existsSync(distServer))
    throw new Error('the built bridge is missing: run `npm run build` first');
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Child {
  process: ChildProcess;
  pid: number;
  finished: Promise<Finished>;
  /** kill -9 by pid; resolves once the process is gone */
  kill(): Promise<Finished>;
}

export function start(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  logFile?: string,
): Child {
  const out = logFile ? openSync(logFile, 'a') : 'pipe';
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const finished = new Promise<Finished>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  const pid = child.pid;
  return {
    process: child,
    pid,
    finished,
    kill: async () => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
      return finished;
    },
  };
}

/** `crm-migrate ARGS` (the built CLI) with the test's Odoo settings. */
export function cli(args: string[], env: Record<string, string | undefined> = {}): Child {
  requireBuild();
  return start(process.execPath, [...NODE_FLAGS, distCli, ...args], env);
}

async function waitFor(url: string, timeoutMs: number, what: string, child: Child): Promise<void> {
  const until = Date.now() + timeoutMs;
  let exited = false;
  void child.finished.then(() => {
    exited = true;
  });
  for (;;) {
    if (exited) throw new Error(`${what} exited before answering at ${url}`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > until) throw new Error(`${what} did not answer at ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The built bridge server on `port`, answering /health. */
export async function startBridge(port: number, env: Record<string, string | undefined>): Promise<Child> {
  requireBuild();
  const child = start(process.execPath, [...NODE_FLAGS, distServer], {
    BRIDGE_PORT: String(port),
    BRIDGE_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...env,
  });
  await waitFor(`http://127.0.0.1:${port}/health`, 30_000, 'the bridge', child);
  return child;
}

/** An Odoo 18 server on `port` serving only `db` (threaded, one cron thread), like `scripts/odoo.sh serve`. */
export async function startOdoo(
  db: string,
  port: number,
  opts: { workers?: number; env?: Record<string, string> } = {},
): Promise<Child> {
  const src = process.env.ODOO_SRC ?? '/opt/odoo/18.0';
  const runDir = process.env.CRM_MIGRATION_RUN_DIR ?? '/var/tmp/crm-migration-odoo';
  mkdirSync(join(runDir, 'data'), { recursive: true });
  const log = join(runDir, `odoo-child-${port}.log`);
  writeFileSync(log, '', { flag: 'a' });
  const child = start(
    '/usr/bin/python3',
    [
      join(src, 'odoo-bin'),
      `--addons-path=${join(root, 'odoo_addon')},${join(src, 'addons')},${join(src, 'odoo', 'addons')}`,
      '--db_host=127.0.0.1',
      '--db_port=5432',
      '--db_user=odoo',
      '--db_password=odoo',
      `--data-dir=${join(runDir, 'data')}`,
      '-d',
      db,
      `--db-filter=^${db}$`,
      '--http-interface=127.0.0.1',
      `--http-port=${port}`,
      `--gevent-port=${port + 1}`,
      `--workers=${opts.workers ?? 0}`,
      // with workers, no cron worker: it sleeps up to a minute between looks at its parent, so
      // it would outlive a master killed at the end of a test
      `--max-cron-threads=${opts.workers ? 0 : 1}`,
      '--log-level=warn',
      `--logfile=${log}`,
    ],
    opts.env ?? {},
    undefined,
  );
  await waitFor(`http://127.0.0.1:${port}/web/login`, 90_000, 'Odoo', child);
  return child;
}

/** A Kartra contacts export of `n` contacts (ids from `first`), over `companies` companies and `tags` tags. */
export function kartraContacts(
  path: string,
  n: number,
  opts: { first?: number; tags?: number; companies?: number; prefix?: string } = {},
): string {
  const first = opts.first ?? 1;
  const tags = opts.tags ?? 30;
  const companies = opts.companies ?? 0;
  const prefix = opts.prefix ?? 'fault';
  const lines = ['ID,First Name,Last Name,Email,Company,Tags'];
  for (let i = first; i < first + n; i++) {
    const company = companies ? `${prefix} Company ${i % companies}` : '';
    lines.push(`${i},Contact${i},${prefix}${i},${prefix}.${i}@faults.example,${company},"${prefix}-tag-${i % tags}"`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}
