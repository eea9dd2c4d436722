/** Plain-text renderings of a profile and a migration report, for people at a terminal. */
import type { Profile } from './mapping/profile.js';
import type { MigrationReport } from './odoo/migration-client.js';

export function formatProfile(p: Profile): string {
  const lines = [`profile of the ${p.source} export:`];
  for (const f of p.files) {
    lines.push(`  ${f.file}: ${f.rows} rows of ${f.object} (${f.encoding})${f.unknownColumns.length ? `; unmapped columns: ${f.unknownColumns.join(', ')}` : ''}`);
  }
  for (const [name, o] of Object.entries(p.objects)) {
    lines.push(`  ${name} → ${o.model}: ${o.records} records, ${o.withErrors} with errors, ${o.withWarnings} with warnings`);
  }
  if (p.duplicatesMerged.length) lines.push(`  duplicates merged: ${p.duplicatesMerged.length}`);
  lines.push(`  issues: ${p.issues.errors} errors, ${p.issues.warnings} warnings`);
  return lines.join('\n');
}

export function formatReport(r: MigrationReport): string {
  const lines = [`migration ${r.id} "${r.name}" (${r.source}): ${r.state}`];
  lines.push(`  records: ${Object.entries(r.counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const [object, counts] of Object.entries(r.objects)) {
    lines.push(`  ${object}: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  lines.push(`  links: ${Object.entries(r.links).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const f of r.failed.slice(0, 20)) lines.push(`  failed ${f.key}: ${f.error}`);
  if (r.failed.length > 20) lines.push(`  ... ${r.failed.length - 20} more failed`);
  return lines.join('\n');
}
