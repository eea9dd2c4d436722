/**
 * The staging half of `npm run bench` (issue #11): on one synthetic Kartra contacts export of
 * BENCH_ROWS rows (two files, 25 columns: test/bench/staging-export.ts), side by side in one run:
 *
 *  1. csv-parse alone on the same files (bytes → rows, nothing else): rows/s;
 *  2. our staging, the CLI's dry run (`crm-migrate stage --out`: parse, decode, normalize, map,
 *     validate, hash, dedupe, records written): rows/s, the ratio to 1., and its peak RSS;
 *  3. the bridge server taking the same files as an upload: from Odoo (POST
 *     /migrations/:id/upload, staged into a real Odoo in batches; when ODOO_URL is set and
 *     BENCH_UPLOAD is not `dry`) or as a dry run (POST /migrations, dryRun): the server's peak RSS.
 *
 * Each measurement runs in its own process, so each peak RSS (the kernel's VmHWM) is its own.
 * Prints one JSON object and a short table. Absolute figures move with the machine's load; the
 * ratio is the point.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { writeStagingExport } from './staging-export.js';
import { MigrationClient } from '../../bridge/src/odoo/migration-client.js';
import { XmlRpcTransport } from '../../bridge/src/odoo/xmlrpc-transport.js';
import { odooFromEnv } from '../../bridge/src/config.js';
import { NODE_FLAGS } from '../../bridge/src/core/memory.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 5000);
if (!Number.isInteger(ROWS) || ROWS < 1 || ROWS > 1_000_000) throw new Error('BENCH_ROWS takes 1 to 1,000,000');
const dist = join(import.meta.dirname, '..', '..');
const runResult = z.object({
  mode: z.string(),
  rows: z.number(),
  ms: z.number(),
  rowsPerSecond: z.number(),
  peakRssMb: z.number(),
});

/** `node dist/test/bench/staging-run.js MODE DIR` in a child process: its one JSON line. */
async function run(mode: string, dir: string): Promise<z.infer<typeof runResult>> {
  const child = spawn(process.execPath, [...NODE_FLAGS, join(dist, 'test', 'bench', 'staging-run.js'), mode, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`staging-run ${mode} exited ${code}`);
  return runResult.parse(JSON.parse(out.trim().split('\n').pop() as string));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** A multipart body streamed from disk (fields, then the files), never whole in memory. */
function multipartStream(
  fields: Record<string, string>,
  files: { name: string; path: string }[],
  boundary: string,
): ReadableStream<Uint8Array> {
  async function* parts(): AsyncGenerator<Uint8Array> {
    for (const [k, v] of Object.entries(fields))
      yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
    for (const f of files) {
      yield Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${f.name}"\r\nContent-Type: text/csv\r\n\r\n`,
      );
      for await (const chunk of createReadStream(f.path)) yield chunk as Buffer;
      yield Buffer.from('\r\n');
    }
    yield Buffer.from(`--${boundary}--\r\n`);
  }
  const it = parts();
  return new ReadableStream({
    async pull(controller) {
      const next = await it.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  });
}

async function peakRssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
}

/** The bridge server, an upload of the files, its peak RSS once the staging has ended. */
async function uploadRun(
  dir: string,
  files: { name: string; path: string }[],
  toOdoo: boolean,
): Promise<Record<string, unknown>> {
  const port = await freePort();
  const token = 'bench-token-0123456789abcdef';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BRIDGE_TOKEN: token,
    BRIDGE_PORT: String(port),
    BRIDGE_UPLOAD_DIR: dir,
    BRIDGE_MAX_FILE_MB: '1000',
    LOG_LEVEL: 'warn',
  };
  if (!toOdoo) delete env.ODOO_URL;
  const server = spawn(process.execPath, [...NODE_FLAGS, join(dist, 'bridge', 'src', 'server.js')], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if ((await fetch(`${url}/health`).catch(() => null))?.ok) break;
      // up to a minute: on a shared 2-core machine under load, node alone takes seconds to start
      if (i > 600) throw new Error('the bridge server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const boundary = `----crm-bench-${Date.now()}`;
    const headers = { 'content-type': `multipart/form-data; boundary=${boundary}`, authorization: `Bearer ${token}` };
    const started = performance.now();
    if (!toOdoo) {
      const res = await fetch(`${url}/migrations`, {
        method: 'POST',
        headers,
        body: multipartStream({ source: 'kartra', dryRun: 'true' }, files, boundary),
        duplex: 'half',
      } as RequestInit);
      const body = z
        .object({ records: z.number() })
        .loose()
        .parse(await res.json());
      return {
        route: 'POST /migrations (dry run: no Odoo)',
        records: body.records,
        ms: Math.round(performance.now() - started),
        peakRssMb: await peakRssOf(server.pid as number),
      };
    }
    const odoo = new XmlRpcTransport(odooFromEnv());
    const client = new MigrationClient(odoo);
    const id = await client.create(`bench upload ${ROWS} rows`, 'kartra');
    const res = await fetch(`${url}/migrations/${id}/upload`, {
      method: 'POST',
      headers,
      body: multipartStream({ source: 'kartra' }, files, boundary),
      duplex: 'half',
    } as RequestInit);
    if (res.status !== 202) throw new Error(`upload answered ${res.status}: ${await res.text()}`);
    const job = z.array(
      z
        .object({
          job_state: z.union([z.string(), z.literal(false)]),
          job_message: z.union([z.string(), z.literal(false)]),
        })
        .loose(),
    );
    let state: z.infer<typeof job>[number] | undefined;
    for (;;) {
      await new Promise((r) => setTimeout(r, 2000));
      state = job.parse(await odoo.call('crm.migration', 'read', [[id], ['job_state', 'job_message']]))[0];
      if (state && (state.job_state === 'done' || state.job_state === 'failed')) break;
      if (performance.now() - started > 4 * 3600_000)
        throw new Error(`the upload job of migration ${id} did not end in 4 hours`);
    }
    const ms = Math.round(performance.now() - started);
    const peakRssMb = await peakRssOf(server.pid as number);
    const records = z
      .number()
      .parse(await odoo.call('crm.migration.record', 'search_count', [[['migration_id', '=', id]]]));
    return {
      route: 'POST /migrations/:id/upload (from Odoo, staged into Odoo)',
      migration: id,
      jobState: state?.job_state,
      jobMessage: state?.job_message,
      records,
      ms,
      peakRssMb,
    };
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('close', r));
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'crm-staging-bench-'));
  try {
    const t0 = performance.now();
    const files = await writeStagingExport(dir, ROWS);
    const generatedMs = Math.round(performance.now() - t0);
    const parse = await run('parse', dir);
    const floor = await run('floor', dir);
    const stage = await run('stage', dir);
    // the same-run figures first (on stderr), so a failing upload part does not lose them
    process.stderr.write(
      `csv-parse alone ${parse.rowsPerSecond} rows/s; our staging ${stage.rowsPerSecond} rows/s = ${(stage.rowsPerSecond / parse.rowsPerSecond).toFixed(3)}x; peak RSS ${stage.peakRssMb} MB\n`,
    );
    const toOdoo = Boolean(process.env.ODOO_URL) && process.env.BENCH_UPLOAD !== 'dry';
    const upload = await uploadRun(dir, files, toOdoo);
    const ratio = Number((stage.rowsPerSecond / parse.rowsPerSecond).toFixed(3));
    const floorRatio = Number((floor.rowsPerSecond / parse.rowsPerSecond).toFixed(3));
    const out = {
      rows: ROWS,
      export: { files: files.map((f) => f.name), columns: 25, generatedMs },
      csvParseAlone: { rowsPerSecond: parse.rowsPerSecond, ms: parse.ms, peakRssMb: parse.peakRssMb },
      // csv-parse + a phone validated + a record serialized and hashed per row: staging's ceiling on one core
      floorOneCore: { rowsPerSecond: floor.rowsPerSecond, ms: floor.ms, ratioToCsvParse: floorRatio },
      stagingCliDryRun: { rowsPerSecond: stage.rowsPerSecond, ms: stage.ms, peakRssMb: stage.peakRssMb },
      ratioStagingToCsvParse: ratio,
      uploadRoute: upload,
      targets: { ratio: '>= 0.5', peakRssMb: '<= 256' },
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    process.stdout.write(
      [
        `staging, ${ROWS} rows (synthetic Kartra contacts, 2 files, 25 columns), one run:`,
        `  csv-parse alone                 ${parse.rowsPerSecond} rows/s`,
        `  floor: + phone, record JSON, SHA-256 ${floor.rowsPerSecond} rows/s = ${floorRatio}x csv-parse (the most staging reaches on one core)`,
        `  our staging (CLI dry run)       ${stage.rowsPerSecond} rows/s = ${ratio}x csv-parse (target >= 0.5)`,
        `  peak RSS, CLI dry run           ${stage.peakRssMb} MB (target <= 256)`,
        `  peak RSS, upload route          ${String(upload.peakRssMb)} MB (${String(upload.route)})`,
        '',
      ].join('\n'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`staging bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
