/**
 * An error in what the user gave us, always naming where: file, row (1 = header row) and field.
 * Raised before anything is sent to Odoo, so a bad file stages nothing.
 */
export interface InputLocation {
  file: string;
  row?: number | undefined;
  field?: string | undefined;
}

export class InputError extends Error {
  readonly file: string;
  readonly row: number | undefined;
  readonly field: string | undefined;

  constructor(where: InputLocation, message: string) {
    super(`${formatLocation(where)}: ${message}`);
    this.name = 'InputError';
    this.file = where.file;
    this.row = where.row;
    this.field = where.field;
  }

  toJSON(): Record<string, unknown> {
    return { error: 'input', file: this.file, row: this.row, field: this.field, message: this.message };
  }
}

export function formatLocation({ file, row, field }: InputLocation): string {
  let out = file;
  if (row !== undefined) out += `, row ${row}`;
  if (field !== undefined) out += `, field "${field}"`;
  return out;
}
