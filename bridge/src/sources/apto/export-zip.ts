/**
 * A Salesforce Data Export (Setup > Data Management > Data Export: one CSV per object, headed by
 * the fields' API names, plus the attachment and content files when "Include images, documents,
 * and attachments" / "Include Salesforce CRM Content document versions" are ticked), for teams
 * that cannot grant API access. Read with yauzl (a maintained, streaming zip reader that checks
 * entry names and sizes) and unpacked into the extraction's folder under these rules:
 *
 * - an entry never lands outside that folder: absolute names, drive letters, `..` and backslash
 *   tricks are refused (yauzl checks names too; we check the resolved path again);
 * - a zip bomb is refused before it fills the disk: at most `maxEntries` entries, `maxTotalBytes`
 *   unpacked in all, `maxEntryBytes` per entry, and no entry larger than `maxRatio` times its
 *   compressed size (from 1 MiB up); the bytes are counted while they are written, so a header
 *   that lies about a size stops the unpacking too (yauzl's `validateEntrySizes`);
 * - symbolic links and other special entries are skipped; files are written 0600.
 *
 * Then the same shaping as the API (shape.ts): the namespace from the file names
 * (`McLabs2__Listing__c.csv`), the hierarchy ordered, the deal chains, the files named by the
 * export's folders (`Attachments/<Id>` or `Attachment/<Id>`, `ContentVersion/<Id>`).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { InputError } from '../../core/input-error.js';
import { readCsv } from '../../csv/read-csv.js';
import { inferType } from '../../mapping/custom-fields.js';
import type { SourceReader } from '../reader.js';
import { OrgShaper, STAGE_OBJECTS, discoverNamespace, type RawTable } from './shape.js';

export interface ZipLimits {
  maxEntries: number;
  maxTotalBytes: number;
  maxEntryBytes: number;
  maxRatio: number;
}

export const ZIP_LIMITS: ZipLimits = {
  maxEntries: 200_000,
  maxTotalBytes: 20 * 1024 ** 3,
  maxEntryBytes: 2 * 1024 ** 3,
  maxRatio: 200,
};
const RATIO_FROM = 1024 * 1024;

/** where an entry goes inside `dir`, or why it may not */
export function entryPath(dir: string, name: string): { path: string } | { error: string } {
  const clean = name.replace(/\\/g, '/');
  if (clean.startsWith('/') || /^[A-Za-z]:/.test(clean) || clean.split('/').includes('..') || clean.includes('\0')) {
    return { error: `the entry "${name}" would be written outside the export's folder` };
  }
  const base = resolve(dir);
  const path = resolve(base, clean);
  const rel = relative(base, path);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel))
    return { error: `the entry "${name}" would be written outside the export's folder` };
  return { path };
}

function open(path: string): Promise<yauzl.ZipFile> {
  return new Promise((ok, fail) => {
    yauzl.open(
      path,
      { lazyEntries: true, autoClose: true, validateEntrySizes: true, decodeStrings: true, strictFileNames: false },
      (err, zip) => (err || !zip ? fail(err ?? new Error('no zip')) : ok(zip)),
    );
  });
}

/** Unpacks `zip` into `dir` under the limits; the relative paths written. Stops with an InputError naming the entry. */
export async function unpackZip(zip: string, dir: string, limits: ZipLimits = ZIP_LIMITS): Promise<string[]> {
  const name = basename(zip);
  const refuse = (field: string, message: string) => new InputError({ file: name, field }, message);
  let file: yauzl.ZipFile;
  try {
    file = await open(zip);
  } catch (err) {
    throw refuse('(zip)', `not a zip file we can read (${(err as Error).message})`);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  let total = 0;
  let entries = 0;
  try {
    await new Promise<void>((ok, fail) => {
      file.on('error', (err: Error) =>
        fail(err instanceof InputError ? err : refuse('(zip)', `the zip is damaged (${err.message})`)),
      );
      file.on('end', () => ok());
      file.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          entries += 1;
          if (entries > limits.maxEntries)
            throw refuse(entry.fileName, `more than ${limits.maxEntries} entries: refused as a possible zip bomb`);
          const isDir = entry.fileName.endsWith('/');
          const target = entryPath(dir, entry.fileName);
          if ('error' in target) throw refuse(entry.fileName, target.error);
          const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
          if (isDir) {
            await mkdir(target.path, { recursive: true, mode: 0o700 });
            return;
          }
          if (mode !== 0 && mode !== 0o100000) return; // a symbolic link or device: skipped
          if (entry.uncompressedSize > limits.maxEntryBytes)
            throw refuse(
              entry.fileName,
              `${entry.uncompressedSize} bytes unpacked, more than the ${limits.maxEntryBytes} allowed per file: refused as a possible zip bomb`,
            );
          if (total + entry.uncompressedSize > limits.maxTotalBytes)
            throw refuse(
              entry.fileName,
              `more than ${limits.maxTotalBytes} bytes unpacked in all: refused as a possible zip bomb`,
            );
          if (
            entry.uncompressedSize >= RATIO_FROM &&
            entry.uncompressedSize > limits.maxRatio * Math.max(1, entry.compressedSize)
          ) {
            throw refuse(
              entry.fileName,
              `compressed ${Math.round(entry.uncompressedSize / Math.max(1, entry.compressedSize))} to 1 (more than ${limits.maxRatio} to 1): refused as a possible zip bomb`,
            );
          }
          await mkdir(dirname(target.path), { recursive: true, mode: 0o700 });
          const stream = await new Promise<NodeJS.ReadableStream>((ok2, fail2) =>
            file.openReadStream(entry, (err, s) => (err || !s ? fail2(err ?? new Error('no stream')) : ok2(s))),
          );
          let bytes = 0;
          const counter = new Transform({
            transform(chunk: Buffer, _enc, done) {
              bytes += chunk.length;
              total += chunk.length;
              if (bytes > limits.maxEntryBytes || total > limits.maxTotalBytes)
                done(refuse(entry.fileName, 'unpacks to more bytes than allowed: refused as a possible zip bomb'));
              else done(null, chunk);
            },
          });
          await pipeline(stream, counter, createWriteStream(target.path, { mode: 0o600 }));
          written.push(relative(resolve(dir), target.path).split(sep).join('/'));
        })().then(
          () => file.readEntry(),
          (err: unknown) => {
            file.close();
            fail(err instanceof InputError ? err : refuse(entry.fileName, `cannot unpack (${(err as Error).message})`));
          },
        );
      });
      file.readEntry();
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true }); // nothing half-unpacked stays behind
    throw err;
  }
  return written;
}

/** the order the shaper reads the export's objects in (as the API reader does) */
function rawOrder(namespace: string): string[] {
  return [
    'User',
    'RecordType',
    'Account',
    'Contact',
    ...STAGE_OBJECTS.map((s) => `${namespace}${s}`),
    'Task',
    'Task:email',
    'Event',
    'Attachment',
    'ContentVersion',
    'ContentDocumentLink',
  ];
}

/** A Data Export zip (or several: Salesforce splits a large export into numbered zips) as a SourceReader. */
export function aptoExportReader(
  zips: string[],
  dir: string,
  limits: ZipLimits = ZIP_LIMITS,
): SourceReader & { shaper: () => OrgShaper | null } {
  let unpacked: Promise<Set<string>> | undefined;
  const unpack = () =>
    (unpacked ??= (async () => {
      const all = new Set<string>();
      for (const [i, zip] of zips.entries())
        for (const p of await unpackZip(zip, zips.length > 1 ? join(dir, String(i + 1)) : dir, limits))
          all.add(zips.length > 1 ? `${i + 1}/${p}` : p);
      return all;
    })());
  let shaper: OrgShaper | null = null;
  return {
    describe: () => zips.map((z) => basename(z)).join(', '),
    filesDir: dir,
    shaper: () => shaper,
    notMigratable: () => shaper?.inventory() ?? [],
    async *tables() {
      const files = await unpack();
      const csvs = new Map<string, string[]>(); // object → its CSV files (an object can span several zips)
      for (const f of files) {
        const m = /(?:^|\/)([A-Za-z0-9_]+)\.csv$/i.exec(f);
        if (m)
          (
            csvs.get((m[1] as string).toLowerCase()) ??
            (csvs.set((m[1] as string).toLowerCase(), []).get((m[1] as string).toLowerCase()) as string[])
          ).push(f);
      }
      if (csvs.size === 0)
        throw new InputError(
          { file: zips.map((z) => basename(z)).join(', '), field: '(zip)' },
          'no CSV file in the export: is this a Salesforce Data Export zip?',
        );
      const objectNames = [...csvs.keys()].map(
        (k) =>
          [...files]
            .find((f) => f.toLowerCase().endsWith(`${k}.csv`))
            ?.replace(/^.*\//, '')
            .replace(/\.csv$/i, '') ?? k,
      );
      const namespace = discoverNamespace(objectNames) ?? '';
      const named = new Map<string, string>(); // path relative to dir, by lower-case
      for (const f of files) named.set(f.toLowerCase(), f);
      const filePath = (kind: 'Attachment' | 'ContentVersion', id: string) => {
        const folders = kind === 'Attachment' ? ['Attachments', 'Attachment'] : ['ContentVersion', 'ContentVersions'];
        for (const p of [...files]) {
          const parts = p.split('/');
          if (
            parts.length >= 2 &&
            parts[parts.length - 1] === id &&
            folders.includes(parts[parts.length - 2] as string)
          )
            return p;
        }
        return `${folders[0]}/${id}`;
      };
      shaper = new OrgShaper(filePath);
      async function* raw(): AsyncGenerator<RawTable> {
        yield {
          name: 'catalog',
          rows: (async function* () {
            for (const name of objectNames) yield { name };
          })(),
        };
        for (const object of rawOrder(namespace)) {
          const [base, part] = object.split(':');
          const paths = csvs.get((base as string).toLowerCase()) ?? [];
          if (paths.length === 0) continue;
          const rows = (async function* () {
            for (const p of paths) {
              for await (const { cells } of readCsv({ name: basename(p), path: join(dir, p) }, () => undefined)) {
                if (base === 'Task' && (part === 'email') !== (cells.TaskSubtype === 'Email')) continue;
                yield cells;
              }
            }
          })();
          if (
            base !== 'Task' &&
            base !== 'Event' &&
            !['User', 'RecordType', 'Attachment', 'ContentVersion', 'ContentDocumentLink'].includes(base as string)
          ) {
            yield { name: `describe:${base}`, rows: describeFromValues(paths.map((p) => join(dir, p))) };
          }
          yield { name: object, rows };
        }
      }
      yield* shaper.tables(raw());
    },
  };
}

const SAMPLE_ROWS = 5000;
const SF_ID = /^[a-zA-Z0-9]{5}[0-9][a-zA-Z0-9]{9}([a-zA-Z0-9]{3})?$/;

/**
 * A Data Export has no field types: each column's type is inferred from the first rows' values
 * (as for any CSV export: numbers, dates, yes/no, a few repeating values → a selection), and a
 * column of Salesforce ids is a reference (a link, not a custom field).
 */
async function* describeFromValues(paths: string[]): AsyncGenerator<Record<string, string>> {
  const values = new Map<string, string[]>();
  let n = 0;
  for await (const { cells } of readCsv(
    { name: basename(paths[0] as string), path: paths[0] as string },
    () => undefined,
  )) {
    for (const [k, v] of Object.entries(cells)) (values.get(k) ?? (values.set(k, []).get(k) as string[])).push(v);
    if (++n >= SAMPLE_ROWS) break;
  }
  for (const [name, list] of values) {
    const filled = list.filter((v) => v.trim() !== '');
    const reference = filled.length > 0 && filled.every((v) => SF_ID.test(v.trim()));
    const inferred = inferType(list);
    yield {
      name,
      label: name
        .replace(/__c$/i, '')
        .replace(/^[A-Za-z0-9]+__/, '')
        .replace(/_/g, ' '),
      type: reference ? 'reference' : inferred.type,
      custom: String(/__c$/i.test(name)),
      referenceTo: '',
      options: inferred.options.join('|'),
    };
  }
}

/** the CSV files of an unpacked export (for messages) */
export async function exportFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).filter((f) => f.toLowerCase().endsWith('.csv'));
}
