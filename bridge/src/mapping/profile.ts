/** The pre-migration profile: what an upload holds, before anything is committed. */
export interface FileProfile {
  file: string;
  object: string;
  encoding: string;
  rows: number;
  unknownColumns: string[];
}

export interface DuplicateMerge {
  object: string;
  kept: string;
  keptAt: { file: string; row: number };
  merged: { key: string; file: string; row: number };
  by: string;
}

export interface Profile {
  source: string;
  files: FileProfile[];
  objects: Record<string, { model: string; records: number; withErrors: number; withWarnings: number }>;
  duplicatesMerged: DuplicateMerge[];
  issues: { errors: number; warnings: number };
  notMigratable: { what: string; why: string }[];
  lossy: { object: string; column: string; reason: string }[];
}
