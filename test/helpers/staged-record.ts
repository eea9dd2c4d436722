import type { StagedRecord } from '../../bridge/src/staging/record.js';

/** A staged record as the bridge sends it, for benches and tests that stage straight into Odoo
 * (`file`: the source file its `source` names). */
export function stagedIn(file: string) {
  return function staged(
    key: string,
    object: string,
    model: string,
    values: Record<string, unknown>,
    extra: Partial<StagedRecord> = {},
  ): StagedRecord {
    return {
      key,
      object,
      model,
      values,
      refs: {},
      lookups: {},
      match: [],
      source: { file, row: 1 },
      issues: [],
      ...extra,
    } as StagedRecord;
  };
}
