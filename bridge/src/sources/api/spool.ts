/**
 * The spool of one extraction: every page an API answered, as it came (checked), written to disk
 * under the extraction's folder, and a checkpoint that says which pages of which object are there
 * and where the next page starts. A restarted extraction re-reads these pages and fetches only
 * what is missing; staging reads its rows from here page by page (never all rows at once).
 *
 *   <dir>/checkpoint.json              {"version":1,"objects":{"<object>":{"pages":3,"rows":150,"complete":false,"next":150}}}
 *   <dir>/<object>/page-000000.json    {"rows":[...],"next":50}
 *
 * Files are written to a temporary name and renamed, page first and checkpoint after, so a stop
 * at any moment leaves a consistent spool (at worst one page fetched again). The folder is made
 * private to the bridge's user (0700): it holds customer data. Credentials are never spooled.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const json: z.ZodType<Json> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]),
);
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
/** where a page starts: an offset, a cursor string, a body... whatever the API pages by */
export type Cursor = Json;

export const pageSchema = z.object({ rows: z.array(z.record(z.string(), json)), next: json });
export type SpooledPage = z.infer<typeof pageSchema>;

const objectState = z.object({
  pages: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
  complete: z.boolean(),
  /** where the page after the last spooled one starts (null: no more) */
  next: json,
});
export type ObjectState = z.infer<typeof objectState>;

export const checkpointSchema = z.object({
  version: z.literal(1),
  objects: z.record(z.string(), objectState),
  updatedAt: z.string(),
});
export type Checkpoint = z.infer<typeof checkpointSchema>;

export class Spool {
  private constructor(
    readonly dir: string,
    private state: Checkpoint,
  ) {}

  /** Opens (or starts) the spool in `dir`; a checkpoint that is not ours stops with a clear error. */
  static async open(dir: string): Promise<Spool> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const state = await readCheckpoint(dir);
    return new Spool(dir, state ?? { version: 1, objects: {}, updatedAt: new Date().toISOString() });
  }

  get checkpoint(): Checkpoint {
    return structuredClone(this.state);
  }

  object(name: string): ObjectState | undefined {
    return this.state.objects[name];
  }

  /** Page `index` of `object` when it is spooled (and listed in the checkpoint), else null. */
  async page(object: string, index: number): Promise<SpooledPage | null> {
    const known = this.state.objects[object];
    if (!known || index >= known.pages) return null;
    const path = this.pagePath(object, index);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return null; // listed but gone: fetched again
    }
    const parsed = pageSchema.safeParse(JSON.parse(text));
    if (!parsed.success)
      throw new Error(
        `spool ${path}: not a spooled page (${parsed.error.issues[0]?.message}); remove the folder to extract again`,
      );
    return parsed.data;
  }

  /** Adds page `index` (the next one) of `object`, then moves the checkpoint past it. */
  async save(object: string, index: number, page: SpooledPage): Promise<void> {
    const known = this.state.objects[object] ?? { pages: 0, rows: 0, complete: false, next: null };
    if (index > known.pages) throw new Error(`spool: page ${index} of ${object} saved before page ${known.pages}`);
    await mkdir(join(this.dir, safeName(object)), { recursive: true, mode: 0o700 });
    await atomicWrite(this.pagePath(object, index), JSON.stringify(page));
    const rowsBefore = index === known.pages ? known.rows : await this.rowsBefore(object, index);
    this.state.objects[object] = {
      pages: index + 1,
      rows: rowsBefore + page.rows.length,
      complete: page.next === null,
      next: page.next,
    };
    this.state.updatedAt = new Date().toISOString();
    await atomicWrite(join(this.dir, 'checkpoint.json'), JSON.stringify(this.state, null, 1));
  }

  /** Forget everything (a fresh extraction into the same folder). */
  async clear(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    this.state = { version: 1, objects: {}, updatedAt: new Date().toISOString() };
  }

  private async rowsBefore(object: string, index: number): Promise<number> {
    let n = 0;
    for (let i = 0; i < index; i += 1) n += (await this.page(object, i))?.rows.length ?? 0;
    return n;
  }

  private pagePath(object: string, index: number): string {
    return join(this.dir, safeName(object), `page-${String(index).padStart(6, '0')}.json`);
  }
}

/** The checkpoint of an extraction folder, or null when nothing was spooled there yet. */
export async function readCheckpoint(dir: string): Promise<Checkpoint | null> {
  let text: string;
  try {
    text = await readFile(join(dir, 'checkpoint.json'), 'utf8');
  } catch {
    return null;
  }
  const parsed = checkpointSchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(
      `${join(dir, 'checkpoint.json')}: not an extraction checkpoint (${parsed.error.issues[0]?.message})`,
    );
  return parsed.data;
}

function safeName(object: string): string {
  return object.replace(/[^\w.-]/g, '_');
}

async function atomicWrite(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, path);
}
