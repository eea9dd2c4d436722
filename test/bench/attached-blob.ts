/**
 * Speed and memory of a file through the attached-records path into a real Odoo: hash (streamed),
 * upload in chunks (api_stage_blob), commit (bytes written, checksum compared), rollback. Prints
 * JSON with the times and the bridge's largest live heap growth while hashing and uploading.
 *   npx tsc -p tsconfig.json && ODOO_URL=... ODOO_DB=... ODOO_USER=admin ODOO_PASSWORD=admin \
 *     node --expose-gc dist/test/bench/attached-blob.js [MB]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { odooFromEnv } from '../../bridge/src/config.js';
import { MigrationClient } from '../../bridge/src/odoo/migration-client.js';
import { XmlRpcTransport } from '../../bridge/src/odoo/xmlrpc-transport.js';
import { hashFile } from '../../bridge/src/staging/blob.js';
import { contentHash } from '../../bridge/src/staging/hash.js';
import type { StagedRecord } from '../../bridge/src/staging/record.js';

const MB = Number(process.argv[2] ?? 50);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'crm-blob-bench-'));
  const path = join(dir, 'big.bin');
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < block.length; i += 1) block[i] = (i * 31) % 256;
  await writeFile(path, Buffer.concat(Array.from({ length: MB }, () => block)));
  global.gc?.();
  const base = process.memoryUsage().heapUsed;
  let heapMax = base;
  const timer = setInterval(() => {
    heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
  }, 20);

  let t0 = performance.now();
  const blob = await hashFile(path);
  const hashMs = performance.now() - t0;
  const source = { file: 'bench.csv', row: 2, data: {} };
  const records: StagedRecord[] = [
    {
      key: 'bench:contact:1',
      object: 'contact',
      model: 'res.partner',
      values: { name: 'Blob Bench' },
      refs: {},
      lookups: {},
      match: [],
      source,
      issues: [],
      hash: '',
    },
    {
      key: 'bench:file:1',
      object: 'file',
      model: 'ir.attachment',
      values: { name: 'big.bin' },
      refs: {},
      lookups: {},
      match: [],
      source,
      issues: [],
      attach_to: 'bench:contact:1',
      blob,
      hash: '',
    },
  ].map((r) => ({ ...r, hash: contentHash(r) }));
  const client = new MigrationClient(new XmlRpcTransport(odooFromEnv()));
  t0 = performance.now();
  const report = await client.stageAll('blob bench', 'bench', records, undefined, [
    { key: 'bench:file:1', path, ...blob },
  ]);
  const uploadMs = performance.now() - t0;
  clearInterval(timer);
  t0 = performance.now();
  const committed = await client.commit(report.id);
  const commitMs = performance.now() - t0;
  t0 = performance.now();
  const rolled = await client.rollback(report.id);
  const rollbackMs = performance.now() - t0;
  await rm(dir, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      mb: MB,
      hashMs: Math.round(hashMs),
      stageAndUploadMs: Math.round(uploadMs),
      uploadMBps: +(MB / (uploadMs / 1000)).toFixed(1),
      commitMs: Math.round(commitMs),
      rollbackMs: Math.round(rollbackMs),
      committed: committed.state,
      rolledBack: rolled.state,
      bridgeHeapGrowthMaxMb: +((heapMax - base) / 1024 / 1024).toFixed(1),
    }),
  );
}

await main();
