/**
 * Files of attached records (`ir.attachment`): a cell names a local file; its sha1 and size are
 * computed by streaming it from disk (never whole in memory), and the same stream, in chunks, is
 * what the migration client uploads to Odoo after staging.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Blob } from './record.js';

/** Bytes per upload call (base64 makes it 4/3 larger on the wire); the addon takes up to 4 MiB. */
export const BLOB_CHUNK = 1024 * 1024;

/** A file to upload for the staged record `key`. */
export interface BlobFile extends Blob {
  key: string;
  path: string;
}

export async function hashFile(path: string): Promise<Blob> {
  const hash = createHash('sha1');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: BLOB_CHUNK })) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    size += bytes.length;
  }
  return { sha1: hash.digest('hex'), size };
}

/** The chunks of a file, streamed from disk. */
export async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(path, { highWaterMark: BLOB_CHUNK })) yield chunk as Buffer;
}

/**
 * The path a cell names, inside `dir` (the folder the admin gave for the export's files). A path
 * that leaves that folder (absolute, `..`) is refused: an export must not make the bridge read
 * and upload any file of its disk.
 */
export function resolveLocalFile(dir: string | null | undefined, cell: string): { path: string } | { error: string } {
  if (!dir)
    return {
      error: `names the file "${cell}", but no folder of attached files was given for this upload (crm-migrate stage --files DIR)`,
    };
  const base = resolve(dir);
  const path = resolve(base, cell.replace(/\\/g, '/'));
  const rel = relative(base, path);
  if (isAbsolute(cell) || rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    return { error: `the file "${cell}" is not inside the folder of attached files (${base})` };
  }
  return { path };
}
