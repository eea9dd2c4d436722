/** The pre-migration profile: what an upload holds, before anything is committed. */
import type { CustomFieldSpec } from './custom-fields.js';

export interface FileProfile {
  file: string;
  object: string;
  encoding: string;
  rows: number;
  unknownColumns: string[];
  /** headers taken for columns the mapping needs by their meaning or values, not its spelling */
  columnsTaken?: { column: string; header: string; confidence: number; evidence: string }[];
  /** the file's rows describe the custom fields of another object (they become custom_field records) */
  describes?: string;
}

export interface DuplicateMerge {
  object: string;
  kept: string;
  keptAt: { file: string; row: number };
  merged: { key: string; file: string; row: number };
  by: string;
}

/** Which model an object's rows go to, given the Odoo apps installed. */
export interface TargetChoice {
  object: string;
  /** the object whose model takes the rows (itself, a fallback, or none) */
  chosen: string | null;
  model: string | null;
  requires: string[];
  /** apps not installed that the preferred target needs */
  missingApps: string[];
  decision: 'preferred' | 'fallback' | 'app missing' | 'skipped by choice' | 'apps not checked';
  /** what the admin can do instead */
  choices: string[];
}

/** One uploaded file's rows against what was staged from it: rows == staged + merged + leftOut. */
export interface FileReconciliation {
  file: string;
  object: string;
  rows: number;
  /** records of the file's object staged from its rows (in error included) */
  staged: number;
  /** rows merged into another row as duplicates (same key or dedupe value) */
  merged: number;
  /** rows left out by the admin's choice (`--skip`) */
  leftOut: number;
  errors: number;
  reconciled: boolean;
}

export interface Profile {
  source: string;
  files: FileProfile[];
  /** every file's row count reconciled against the staged records (files describing custom fields excepted) */
  fileReconciliation: FileReconciliation[];
  objects: Record<string, { model: string; records: number; withErrors: number; withWarnings: number }>;
  duplicatesMerged: DuplicateMerge[];
  /** required values missing, per object and field */
  missingValues: Record<string, Record<string, number>>;
  /** data-quality flags per object (bounced, stale, blacklisted...) */
  flags: Record<string, Record<string, number>>;
  customFields: (CustomFieldSpec & { object: string; model: string })[];
  targets: TargetChoice[];
  issues: { errors: number; warnings: number };
  /** per object: unknown headers that are not migrated (the object takes no custom fields, or
   *  its Odoo app is missing); every other unknown header is a custom field (`customFields`) */
  columnsLeftOut: Record<string, string[]>;
  notMigratable: { what: string; why: string }[];
  /** structures shown only through rows (membership → course → rows), for the inventory */
  structures?: { object: string; title: string; path: string[]; tree: StructureNode }[];
  lossy: { object: string; column: string; reason: string }[];
}

/** value → {rows, children} at each level of a structure's path */
export interface StructureNode {
  [value: string]: { rows: number; children: StructureNode };
}
