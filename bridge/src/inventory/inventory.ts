/**
 * The written inventory handed to the admin with every migration: what the export held, what
 * could not migrate and must be rebuilt in Odoo, what landed somewhere other than its preferred
 * place, and what the data itself hints at (tags that record behaviour: forms, webinars,
 * courses). Markdown, stored on the migration in Odoo and downloadable from it.
 */
import type { StagedRecord } from '../staging/record.js';
import type { Profile } from '../mapping/profile.js';

/** Tag names that look like they record an event rather than a segment. */
const BEHAVIOURAL =
  /\b(form|survey|webinar|course|member(ship)?|module|lesson|completed|registered|attended|watched|opened|clicked|purchased|bought|download(ed)?|opt-?in|signed up|funnel|sequence)\b/i;

export function behaviouralTags(records: StagedRecord[], tagModel = 'res.partner.category'): string[] {
  return records
    .filter(
      (r) =>
        r.model === tagModel &&
        typeof r.values.name === 'string' &&
        BEHAVIOURAL.test(r.values.name.replace(/[-_]/g, ' ')),
    )
    .map((r) => String(r.values.name))
    .sort((a, b) => a.localeCompare(b));
}

export function buildInventory(label: string, profile: Profile, records: StagedRecord[]): string {
  const lines: string[] = [];
  const add = (...l: string[]) => lines.push(...l);
  add(`# Migration inventory: ${label} → Odoo`, '');
  add('## What the export held', '', '| file | object | rows | encoding |', '| --- | --- | --- | --- |');
  for (const f of profile.files) add(`| ${cell(f.file)} | ${f.object} | ${f.rows} | ${f.encoding} |`);
  add('', '| object | Odoo model | records | with errors | with warnings |', '| --- | --- | --- | --- | --- |');
  for (const [name, o] of Object.entries(profile.objects))
    add(`| ${name} | ${o.model} | ${o.records} | ${o.withErrors} | ${o.withWarnings} |`);
  add('');
  if ((profile.fileReconciliation ?? []).length > 0) {
    add(
      '## Rows of every file reconciled against what was staged',
      '',
      '| file | object | rows | staged | merged as duplicates | left out by choice | in error | adds up |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const r of profile.fileReconciliation)
      add(
        `| ${cell(r.file)} | ${r.object} | ${r.rows} | ${r.staged} | ${r.merged} | ${r.leftOut} | ${r.errors} | ${r.reconciled ? 'yes' : '**no**'} |`,
      );
    add('');
  }
  if (profile.duplicatesMerged.length > 0)
    add(`Duplicates merged within the export: ${profile.duplicatesMerged.length} (each noted on the kept record).`, '');
  const flags = Object.entries(profile.flags).flatMap(([o, f]) =>
    Object.entries(f).map(([n, c]) => `${c} ${o} record(s) flagged ${n}`),
  );
  if (flags.length > 0)
    add(
      '## Data quality flags',
      '',
      ...flags.map((f) => `- ${f}`),
      '',
      'Consider suppressing these before committing (clean count vs raw export count).',
      '',
    );

  add('## Cannot migrate: rebuild in Odoo', '');
  for (const n of profile.notMigratable) add(`- **${n.what}**: ${n.why}`);
  add('');
  for (const st of profile.structures ?? []) {
    add(
      `## ${st.title}`,
      '',
      `As the ${st.object} export shows it (${st.path.join(' → ')}, with the number of rows at each level), to rebuild in Odoo:`,
      '',
      '```json',
      JSON.stringify(st.tree, null, 2),
      '```',
      '',
    );
  }
  const tags = behaviouralTags(records);
  add('## Behavioural tags found', '');
  if (tags.length > 0) {
    add(
      'These tags look like they record events (forms, webinars, courses, purchases). They migrate as ordinary tags; Odoo will not re-apply them. Check whether your new automations should set them:',
      '',
    );
    for (const t of tags) add(`- ${t}`);
  } else {
    add(
      'No tag looks like a behavioural tag: form completions, survey answers, webinar attendance and membership access from the source are **not** in this export and will be lost unless exported separately.',
    );
  }
  add('');
  const gaps = profile.targets.filter((t) => t.decision !== 'preferred' && t.decision !== 'apps not checked');
  if (gaps.length > 0) {
    add(
      '## Objects whose preferred Odoo app is missing',
      '',
      '| object | decision | landed in | missing apps | choices |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const t of gaps)
      add(
        `| ${t.object} | ${t.decision} | ${t.model ?? '—'} | ${t.missingApps.join(', ') || '—'} | ${t.choices.join('; ')} |`,
      );
    add('');
  }
  if (profile.customFields.length > 0) {
    add(
      '## Custom fields created in Odoo',
      '',
      '| model | field | label | type | from |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const f of profile.customFields)
      add(
        `| ${f.model} | ${f.name} | ${cell(f.label)} | ${f.type}${f.options.length ? ` (${f.options.map(cell).join(', ')})` : ''} | ${f.origin} |`,
      );
    add('');
  }
  const leftOut = Object.entries(profile.columnsLeftOut ?? {}).filter(([, c]) => c.length > 0);
  if (leftOut.length > 0) {
    add(
      '## Columns left out',
      '',
      'These columns of the export are not migrated: their object takes no custom fields, or its Odoo app is missing. Map them on the Mapping page to keep them.',
      '',
    );
    for (const [object, columns] of leftOut) add(`- ${object} (${columns.length}): ${columns.map(cell).join(', ')}`);
    add('');
  }
  if (profile.lossy.length > 0) {
    add('## Carried with a loss', '');
    for (const l of profile.lossy) add(`- ${l.object} / ${l.column}: ${l.reason}`);
    add('');
  }
  return `${lines.join('\n')}\n`;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
