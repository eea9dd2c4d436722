/** Loads and checks a mapping file; a bad mapping is an InputError naming the file and path. */
import { readFile } from 'node:fs/promises';
import { InputError } from '../core/input-error.js';
import { mappingSchema, type Mapping } from './schema.js';

export async function loadMapping(path: string): Promise<Mapping> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new InputError({ file: path }, `cannot read mapping: ${(err as Error).message}`);
  }
  const parsed = mappingSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new InputError(
      { file: path, field: first?.path.join('.') },
      `invalid mapping: ${first?.message ?? 'unknown problem'}`,
    );
  }
  return parsed.data;
}
