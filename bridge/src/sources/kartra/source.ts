/**
 * Kartra: no bulk API, so everything comes as CSV files exported from its UI (contacts;
 * transactions and subscriptions later), large accounts as several chunk files of one kind.
 * What each column means is in mappings/kartra.json.
 */
import type { SourceSystem } from '../registry.js';

export const kartra: SourceSystem = {
  name: 'kartra',
  label: 'Kartra',
  mappingFile: 'kartra.json',
  input: 'csv-upload',
  credentials: [],
};
