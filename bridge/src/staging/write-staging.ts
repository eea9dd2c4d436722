/** A dry run's output: records.jsonl (one staged record a line), profile.json, inventory.md. */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import type { RecordSink } from '../mapping/engine.js';
import type { Profile } from '../mapping/profile.js';
import type { StagedRecord } from './record.js';

export interface StagingFiles {
  records: string;
  profile: string;
  inventory: string;
}

/**
 * Writes records.jsonl as records are finished (a sink for stageExportsTo: the records never sit
 * in memory together), then `close` writes profile.json and inventory.md.
 */
export async function stagingWriter(
  dir: string,
): Promise<{ sink: RecordSink; close(result: { profile: Profile; inventory: string }): Promise<StagingFiles> }> {
  await mkdir(dir, { recursive: true });
  const records = join(dir, 'records.jsonl');
  const profile = join(dir, 'profile.json');
  const inventory = join(dir, 'inventory.md');
  const out = createWriteStream(records);
  // lines gathered into chunks of about 1 MB: one write call per chunk, not per record
  let chunk: string[] = [];
  let size = 0;
  const flush = async () => {
    if (chunk.length === 0) return;
    const text = chunk.join('');
    chunk = [];
    size = 0;
    if (!out.write(text)) await once(out, 'drain');
  };
  const sink: RecordSink = {
    record: async (r) => {
      const line = `${JSON.stringify(r)}\n`;
      chunk.push(line);
      size += line.length;
      if (size >= 1 << 20) await flush();
    },
  };
  return {
    sink,
    close: async (result) => {
      await flush();
      out.end();
      await once(out, 'finish');
      await writeFile(profile, `${JSON.stringify(result.profile, null, 2)}\n`);
      await writeFile(inventory, result.inventory);
      return { records, profile, inventory };
    },
  };
}

/** The same for records already in memory. */
export async function writeStaging(
  dir: string,
  result: { records: StagedRecord[]; profile: Profile; inventory: string },
): Promise<StagingFiles> {
  const writer = await stagingWriter(dir);
  for (const r of result.records) await writer.sink.record(r);
  return writer.close(result);
}
