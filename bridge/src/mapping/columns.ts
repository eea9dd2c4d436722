/**
 * Header resolution: which header of a file is which canonical column of a mapping object.
 * Headers are compared by meaning, not by exact spelling: case, accents, spaces and punctuation
 * are ignored ("E-mail", "e_mail", "EMAIL" are one).
 */
import type { ObjectMapping } from './schema.js';

export function headerToken(header: string): string {
  return header.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** The canonical column a header gets when a mapping has none for it (`c_` + its token). */
export function syntheticColumn(header: string): string {
  return `c_${headerToken(header)}`.slice(0, 60);
}

export interface ResolvedColumns {
  /** canonical column → the header that holds it in this file */
  byColumn: Map<string, string>;
  /** headers no column of the mapping claims (kept in the raw row, listed in the profile) */
  unknown: string[];
}

export function resolveColumns(object: ObjectMapping, header: string[]): ResolvedColumns {
  const tokenToColumn = new Map<string, string>();
  for (const [column, aliases] of Object.entries(object.columns)) {
    for (const alias of [column, ...aliases]) tokenToColumn.set(headerToken(alias), column);
  }
  const byColumn = new Map<string, string>();
  const unknown: string[] = [];
  for (const h of header) {
    const column = tokenToColumn.get(headerToken(h));
    if (column && !byColumn.has(column)) byColumn.set(column, h);
    else unknown.push(h);
  }
  return { byColumn, unknown };
}

/** How many of an object's detect columns a header has; 0 = not this object's file. */
export function detectScore(object: ObjectMapping, header: string[]): number {
  if (!object.file) return 0;
  const { byColumn } = resolveColumns(object, header);
  return object.file.detect.filter((c) => byColumn.has(c)).length;
}
