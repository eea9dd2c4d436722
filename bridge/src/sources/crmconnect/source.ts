/**
 * crmConnect: no documented API (shared/reference/sources.md §5 found no documentation of its
 * export headers either), so data comes from several CSV exports of its UI joined by the mapping
 * (mappings/crmconnect.json): Companies (made first: contacts name them as their parent),
 * Contacts (email is the key and the join across files: a contact exported in two files is one
 * partner), Opportunities (contact by email, owner by email, stage, pipeline, amount, close date,
 * won/lost). One pipeline → its stages in Odoo's default pipeline; several → one crm.team each.
 * The mapping's `columns` carry the names the migration spec uses (Name, Email, Phone, Owner,
 * Amount, Stage, Expected Close Date, ...) and the usual variants; other spellings and languages
 * resolve by meaning (bridge/src/mapping/header-words.ts). An unknown column becomes an
 * `x_crmconnect_` custom field (custom properties).
 */
import type { SourceSystem } from '../registry.js';

export const crmconnect: SourceSystem = {
  name: 'crmconnect',
  label: 'crmConnect (CSV exports)',
  mappingFile: 'crmconnect.json',
  input: 'csv-upload',
  credentials: [],
};
