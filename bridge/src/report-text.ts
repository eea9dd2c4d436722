/** Plain-text renderings of a profile and a migration report, for people at a terminal. */
import type { Profile } from './mapping/profile.js';
import type { FileReportRow, MigrationReport } from './odoo/migration-client.js';

export function formatProfile(p: Profile): string {
  const lines = [`profile of the ${p.source} export:`];
  for (const f of p.files) {
    const custom = new Set(p.customFields.map((c) => c.header));
    const unknown = f.unknownColumns.filter((c) => !custom.has(c));
    lines.push(
      `  ${f.file}: ${f.rows} rows of ${f.object} (${f.encoding})${unknown.length ? `; unmapped columns: ${unknown.join(', ')}` : ''}`,
    );
    for (const c of f.columnsTaken ?? [])
      lines.push(`    header "${c.header}" taken for ${c.column} (${Math.round(c.confidence * 100)}%: ${c.evidence})`);
  }
  for (const r of p.fileReconciliation ?? []) {
    const parts = [
      `${r.staged} staged`,
      ...(r.merged ? [`${r.merged} merged as duplicates`] : []),
      ...(r.leftOut ? [`${r.leftOut} left out by choice`] : []),
    ];
    lines.push(
      `  reconciled ${r.file}: ${r.rows} rows = ${parts.join(' + ')}${r.errors ? ` (${r.errors} in error)` : ''}: ${r.reconciled ? 'adds up' : 'DOES NOT ADD UP'}`,
    );
  }
  for (const [name, o] of Object.entries(p.objects)) {
    lines.push(
      `  ${name} → ${o.model}: ${o.records} records, ${o.withErrors} with errors, ${o.withWarnings} with warnings`,
    );
  }
  if (p.duplicatesMerged.length) lines.push(`  duplicates merged: ${p.duplicatesMerged.length}`);
  for (const [o, f] of Object.entries(p.flags))
    lines.push(
      `  ${o} flagged: ${Object.entries(f)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')}`,
    );
  for (const [o, columns] of Object.entries(p.columnsLeftOut ?? {}))
    if (columns.length)
      lines.push(
        `  ${o}: ${columns.length} column(s) left out (no custom fields on this object): ${columns.join(', ')}`,
      );
  if (p.customFields.length)
    lines.push(
      `  custom fields to create: ${p.customFields.map((f) => `${f.model}.${f.name} (${f.type})`).join(', ')}`,
    );
  for (const t of p.targets.filter((t) => t.decision !== 'preferred')) {
    lines.push(
      `  ${t.object}: ${t.decision}${t.model ? ` → ${t.model}` : ''}${t.missingApps.length ? ` (missing: ${t.missingApps.join(', ')}; choices: ${t.choices.join('; ')})` : ''}`,
    );
  }
  lines.push(`  issues: ${p.issues.errors} errors, ${p.issues.warnings} warnings`);
  return lines.join('\n');
}

export function formatReport(r: MigrationReport): string {
  const lines = [`migration ${r.id} "${r.name}" (${r.source}): ${r.state}`];
  const nonZero = (counts: Record<string, number>) =>
    Object.entries(counts)
      .filter(([, v]) => v !== 0)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  lines.push(`  records: ${nonZero(r.counts)}`);
  for (const [object, counts] of Object.entries(r.objects)) lines.push(`  ${object}: ${nonZero(counts)}`);
  lines.push(`  links: ${nonZero(r.links)}`);
  if (r.delta_round) {
    lines.push(`  final delta (round ${r.delta_round}):`);
    for (const [object, d] of Object.entries(r.delta ?? {})) {
      lines.push(
        `    ${object}: ${d.unchanged} unchanged, ${d.updated} updated, ${d.created} created, ${d.gone} gone, ${d.conflicts} conflicts${d.pending ? `, ${d.pending} not committed yet` : ''}${d.errors ? `, ${d.errors} errors` : ''}`,
      );
    }
  }
  for (const f of r.failed.slice(0, 20)) lines.push(`  failed ${f.key}: ${f.error}`);
  if (r.failed.length > 20) lines.push(`  ... ${r.failed.length - 20} more failed`);
  return lines.join('\n');
}

/** Odoo's reconciliation of every uploaded file (api_report_files), one line per file. */
export function formatFileReport(rows: FileReportRow[]): string {
  const lines = ['  files (rows = staged + merged + left out):'];
  for (const r of rows) {
    lines.push(
      `    ${r.file} (${r.object}): ${r.rows} rows = ${r.staged} staged + ${r.merged} merged + ${r.left_out} left out; ${r.in_odoo} in Odoo, ${r.errors} in error: ${r.reconciled ? 'adds up' : `DOES NOT ADD UP (${r.notes})`}`,
    );
  }
  return lines.join('\n');
}
