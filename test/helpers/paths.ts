import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixture = (name: string) => ({ name, path: join(root, 'test', 'fixtures', 'kartra', name) });
export const sample = (name: string) => ({ name, path: join(root, 'samples', 'kartra', name) });
export const samples = [sample('contacts_1.csv'), sample('contacts_2.csv')];
