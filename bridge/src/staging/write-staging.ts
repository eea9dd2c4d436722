/** A dry run's output: records.jsonl (one staged record a line), profile.json, inventory.md. */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Staged } from '../stage-exports.js';

export async function writeStaging(dir: string, result: Staged): Promise<{ records: string; profile: string; inventory: string }> {
  await mkdir(dir, { recursive: true });
  const records = join(dir, 'records.jsonl');
  const profile = join(dir, 'profile.json');
  const out = createWriteStream(records);
  for (const r of result.records) {
    if (!out.write(`${JSON.stringify(r)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  await writeFile(profile, `${JSON.stringify(result.profile, null, 2)}\n`);
  const inventory = join(dir, 'inventory.md');
  await writeFile(inventory, result.inventory);
  return { records, profile, inventory };
}
