/**
 * Receives a multipart upload: form fields, and export files streamed to a temporary folder
 * (size-limited by @fastify/multipart), never held whole in memory. The caller removes the folder
 * when done with the files (at once, or when a background job ends).
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import type { CsvFile } from '../csv/read-csv.js';
import type { ServerConfig } from '../config.js';

/** what file systems hold in one name */
const MAX_NAME_BYTES = 255;

export interface SpooledUpload {
  fields: Record<string, string>;
  files: CsvFile[];
  /** removes the spooled files */
  remove(): Promise<void>;
}

/** An upload refused before anything was read: the HTTP status and its JSON answer. */
export interface Refusal {
  status: number;
  body: Record<string, unknown>;
}

/** 415 when not multipart, 413 on a file too large, 400 without files. */
export async function spoolUpload(request: FastifyRequest, config: ServerConfig): Promise<SpooledUpload | Refusal> {
  if (!request.isMultipart())
    return {
      status: 415,
      body: { error: 'unsupported_media_type', message: 'send multipart/form-data with export files' },
    };
  const dir = await mkdtemp(join(uploadRoot(config), UPLOAD_PREFIX));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    // who owns the copy: a bridge that dies leaves it, the next start removes it (removeStaleUploads)
    await writeFile(join(dir, OWNER_FILE), String(process.pid));
    const fields: Record<string, string> = {};
    const files: CsvFile[] = [];
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        fields[part.fieldname] = String(part.value);
        continue;
      }
      // the name is shown in messages only; on disk a file is its position (no name can reach the file system)
      // eslint-disable-next-line no-control-regex -- control characters are taken out of the name on purpose
      const name = basename(part.filename || `upload-${files.length + 1}.csv`).replace(/[\u0000-\u001f\u007f]/g, '');
      if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
        part.file.resume();
        await remove();
        return {
          status: 400,
          body: {
            error: 'bad_request',
            field: 'files',
            file: `${name.slice(0, 60)}…`,
            message: `a file name is ${Buffer.byteLength(name)} bytes long; at most ${MAX_NAME_BYTES} are accepted: rename the file and upload again`,
          },
        };
      }
      const path = join(dir, `${files.length}.csv`);
      await pipeline(part.file, createWriteStream(path));
      if (part.file.truncated) {
        await remove();
        return {
          status: 413,
          body: {
            error: 'file_too_large',
            file: name,
            message: `${name} is larger than ${config.BRIDGE_MAX_FILE_MB} MB`,
          },
        };
      }
      files.push({ name, path });
    }
    if (files.length === 0) {
      await remove();
      return {
        status: 400,
        body: { error: 'bad_request', field: 'files', message: 'attach at least one export file' },
      };
    }
    return { fields, files, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

const UPLOAD_PREFIX = 'crm-upload-';
const OWNER_FILE = '.owner-pid';
/** a copy without an owner file (a bridge killed before writing it) is removed once this old */
const ORPHAN_AGE_MS = 10 * 60 * 1000;

export function uploadRoot(config: Pick<ServerConfig, 'BRIDGE_UPLOAD_DIR'>): string {
  return config.BRIDGE_UPLOAD_DIR ?? tmpdir();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * At the bridge's start: the temporary copies of exports (personal data) that a bridge killed
 * while it staged left behind. A copy is removed when the process that made it is gone (its pid
 * in the copy's owner file), or, without an owner file, when it is older than ten minutes; the
 * copies of a live bridge (another one sharing the folder) are left alone. Returns the removed folders.
 */
export async function removeStaleUploads(root: string): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return removed;
  }
  for (const name of names.filter((n) => n.startsWith(UPLOAD_PREFIX))) {
    const dir = join(root, name);
    let stale: boolean;
    try {
      const owner = Number((await readFile(join(dir, OWNER_FILE), 'utf8')).trim());
      stale = !Number.isInteger(owner) || owner <= 0 || (owner !== process.pid && !alive(owner));
    } catch {
      stale = await stat(dir).then(
        (s) => s.isDirectory() && Date.now() - s.mtimeMs > ORPHAN_AGE_MS,
        () => false,
      );
    }
    if (stale) {
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
    }
  }
  return removed;
}

export function isRefusal(upload: SpooledUpload | Refusal): upload is Refusal {
  return 'status' in upload;
}
