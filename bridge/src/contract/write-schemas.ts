/**
 * `npm run schemas`: writes the contract's JSON Schemas (schemas.ts) into docs/schemas/ (the
 * reference) and into the addon (odoo_addon/crm_migration/schemas/, read by Odoo at run time),
 * and the README's route table from the OpenAPI document (readme-routes.ts).
 * test/unit/contract-schemas.test.ts fails when a committed copy differs from what this writes.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contractSchemaFiles } from './schemas.js';
import { openApiDocument, routeTable, withRouteTable } from '../http/readme-routes.js';

/** where the schema files go, from the repository root */
export const SCHEMA_DIRS = ['docs/schemas', 'odoo_addon/crm_migration/schemas'] as const;

export async function writeSchemas(root: string): Promise<string[]> {
  const files = contractSchemaFiles();
  const written: string[] = [];
  for (const dir of SCHEMA_DIRS) {
    const path = join(root, dir);
    await mkdir(path, { recursive: true });
    // a schema no longer in the contract goes away with it
    for (const old of await readdir(path)) if (old.endsWith('.json') && !(old in files)) await rm(join(path, old));
    for (const [name, text] of Object.entries(files)) {
      await writeFile(join(path, name), text);
      written.push(join(dir, name));
    }
  }
  return written;
}

/** The README's route table from the OpenAPI document; true when it changed. */
export async function writeRouteTable(root: string): Promise<boolean> {
  const path = join(root, 'README.md');
  const before = await readFile(path, 'utf8');
  const after = withRouteTable(before, routeTable(await openApiDocument()));
  if (after !== before) await writeFile(path, after);
  return after !== before;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // dist/bridge/src/contract/write-schemas.js → the repository root
  const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..', '..');
  const written = await writeSchemas(root);
  if (await writeRouteTable(root)) written.push('README.md (route table)');
  process.stdout.write(`${written.join('\n')}\n`);
}
