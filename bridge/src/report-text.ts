/** Plain-text renderings of a profile and a migration report, for people at a terminal. */
import type { Profile } from './mapping/profile.js';
import type { MigrationReport } from './odoo/migration-client.js';

export function formatProfile(p: Profile): string {
  const lines = [`profile of the ${p.source} export:`];
  for (const f of p.files) {
    const custom = new Set(p.customFields.map((c) => c.header));
    const unknown = f.unknownColumns.filter((c) => !custom.has(c));
    lines.push(`  ${f.file}: ${f.rows} rows of ${f.object} (${f.encoding})${unknown.length ? `; unmapped columns: ${unknown.join(', ')}` : ''}`);
  }
  for (const [name, o] of Object.entries(p.objects)) {
    lines.push(`  ${name} → ${o.model}: ${o.records} records, ${o.withErrors} with errors, ${o.withWarnings} with warnings`);
  }
  if (p.duplicatesMerged.length) lines.push(`  duplicates merged: ${p.duplicatesMerged.length}`);
  for (const [o, f] of Object.entries(p.flags)) lines.push(`  ${o} flagged: ${Object.entries(f).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  if (p.customFields.length) lines.push(`  custom fields to create: ${p.customFields.map((f) => `${f.model}.${f.name} (${f.type})`).join(', ')}`);
  for (const t of p.targets.filter((t) => t.decision !== 'preferred')) {
    lines.push(`  ${t.object}: ${t.decision}${t.model ? ` → ${t.model}` : ''}${t.missingApps.length ? ` (missing: ${t.missingApps.join(', ')}; choices: ${t.choices.join('; ')})` : ''}`);
  }
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
