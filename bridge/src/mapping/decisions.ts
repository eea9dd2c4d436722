/**
 * Column decisions: what the admin (or a saved map, or the proposal) says a column of an export
 * becomes — an existing Odoo field, a new custom field, or nothing. `applyDecisions` turns them
 * into a changed copy of a declarative mapping, so the one engine stages them; it knows no source
 * by name. A decision names its column by the header as it stands in the file.
 */
import { z } from 'zod';
import { InputError } from '../core/input-error.js';
import { headerToken, resolveColumns, syntheticColumn } from './columns.js';
import { fieldName, type OdooFieldType } from './custom-fields.js';
import {
  fromColumns,
  mappingSchema,
  type FieldRule,
  type Mapping,
  type ObjectMapping,
  type TransformName,
} from './schema.js';

export const customTypes = ['char', 'text', 'integer', 'float', 'boolean', 'date', 'datetime'] as const;

export const decisionSchema = z.object({
  object: z.string().min(1),
  column: z.string().min(1),
  action: z.enum(['map', 'create', 'ignore']),
  field: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/)
    .nullish(),
  ttype: z.string().nullish(),
  label: z.string().nullish(),
  /** map onto a selection field: source value → the field's key */
  values: z.record(z.string(), z.string()).nullish(),
  /** a date/datetime column: numeric dates are day first (dmy) or month first (mdy) */
  dateOrder: z.enum(['dmy', 'mdy']).nullish(),
});
export type Decision = z.infer<typeof decisionSchema>;
export const decisionsSchema = z.array(decisionSchema);

/** The transform a value gets on its way into an Odoo field of this name and type. */
export function transformFor(field: string, ttype: string | null | undefined): TransformName {
  if (field === 'email' || field.endsWith('_email')) return 'email';
  if (field === 'phone' || field === 'mobile') return 'phone';
  if (field === 'website') return 'url';
  switch (ttype) {
    case 'text':
    case 'html':
      return 'multiline';
    case 'integer':
      return 'integer';
    case 'float':
    case 'monetary':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime';
    default:
      return 'text';
  }
}

/**
 * Fields that hold a relation need more than a value: how the value finds its record. These are
 * the ones a column may be mapped to by a decision; any other relational field is refused.
 */
export function relationalRule(
  mapping: Mapping,
  field: string,
  column: string,
  columnOf: (token: string) => string | undefined,
): FieldRule | undefined {
  const country = columnOf('country');
  const derived = (model: string) =>
    Object.entries(mapping.objects).find(([, o]) => o.valueField && o.model === model && !o.perRow)?.[0];
  const base = { join: ' ', fallback: [], required: false };
  switch (field) {
    case 'country_id':
      return {
        ...base,
        field,
        from: column,
        transform: 'country',
        lookup: { model: 'res.country', field: 'code', altFields: [], where: {}, required: false },
      };
    case 'state_id':
      return {
        ...base,
        field,
        from: column,
        transform: 'text',
        lookup: {
          model: 'res.country.state',
          field: 'code',
          altFields: ['name'],
          where: country ? { 'country_id.code': { from: country, transform: 'country' } } : {},
          required: false,
        },
      };
    case 'user_id':
      return {
        ...base,
        field,
        from: column,
        transform: 'email',
        lookup: { model: 'res.users', field: 'login', altFields: [], where: {}, required: true },
      };
    case 'parent_id': {
      const company = Object.entries(mapping.objects).find(
        ([, o]) => o.valueField && o.model === 'res.partner' && o.constants.is_company === true,
      )?.[0];
      return company ? { ...base, field, from: column, transform: 'text', object: company } : undefined;
    }
    case 'category_id': {
      const tag = derived('res.partner.category');
      return tag ? { ...base, field, from: column, transform: 'text', object: tag, split: [',', ';'] } : undefined;
    }
    default:
      return undefined;
  }
}

const RELATIONAL = /_ids?$/;

function readsColumn(rule: FieldRule, column: string): boolean {
  return fromColumns(rule).includes(column);
}

/** Drops `column` from the rules that read it (a rule reading only it goes). */
function unplug(object: ObjectMapping, column: string): void {
  object.fields = object.fields.flatMap((rule) => {
    if (!readsColumn(rule, column)) return [rule];
    if (!Array.isArray(rule.from)) return [];
    const rest = rule.from.filter((c) => c !== column);
    return rest.length ? [{ ...rule, from: rest }] : [];
  });
}

/**
 * A copy of `mapping` with the decisions applied. `headers`: object → the headers its files
 * have (a decision for a header no file has is ignored). Unknown objects or relational fields
 * the mapping cannot resolve are an InputError naming the column.
 */
export function applyDecisions(mapping: Mapping, headers: Map<string, string[]>, decisions: Decision[]): Mapping {
  const out = structuredClone(mapping);
  /** rules this function added: a second column mapped to the same text field joins the first (first + last name) */
  const added = new Set<FieldRule>();
  for (const d of decisions) {
    const object = out.objects[d.object];
    const fileHeaders = headers.get(d.object);
    if (!object || !fileHeaders) continue;
    const header = fileHeaders.find((h) => headerToken(h) === headerToken(d.column));
    if (!header) continue;
    const where = { file: `(mapping of ${object.label})`, field: header };
    const { byColumn } = resolveColumns(object, fileHeaders);
    let column = [...byColumn.entries()].find(([, h]) => h === header)?.[0];
    if (
      d.action === 'create' &&
      !column &&
      object.customFields &&
      !(customTypes as readonly string[]).includes(d.ttype ?? '')
    ) {
      // the object's own custom field for an unknown column keeps the type the engine reads for
      // it (a picklist from a custom-field list stays a selection with its options); the label
      // is the admin's
      if (d.label) object.customLabels[header] = d.label;
      continue;
    }
    const current = column ? object.fields.find((r) => readsColumn(r, column as string)) : undefined;
    if (d.action === 'map' && current && current.field === d.field) {
      // already so (the admin may name a date order)
      if (d.dateOrder && (current.transform === 'date' || current.transform === 'datetime'))
        current.dateOrder = d.dateOrder;
      continue;
    }
    if (!column) {
      column = syntheticColumn(header);
      if (column === 'c_') continue;
      object.columns[column] = [header];
    } else {
      unplug(object, column);
    }
    if (d.action === 'ignore') {
      object.lossy.push({ column: header, reason: 'left out at mapping confirmation' });
    } else if (d.action === 'map') {
      if (!d.field) throw new InputError(where, 'a "map" decision needs the Odoo field');
      const columnOf = (token: string) =>
        [...resolveColumns(object, fileHeaders).byColumn.keys()].find(
          (c) => c === token || object.fields.some((r) => r.field === `${token}_id` && readsColumn(r, c)),
        );
      let rule: FieldRule | undefined;
      if (RELATIONAL.test(d.field) || ['many2one', 'many2many', 'one2many'].includes(d.ttype ?? '')) {
        rule = relationalRule(out, d.field, column, columnOf);
        if (!rule)
          throw new InputError(
            where,
            `${object.model}.${d.field} is a relation the migration cannot fill from a column; pick a plain field or create a custom field`,
          );
      } else {
        const joined = [...added].find(
          (r) =>
            r.field === d.field && (r.transform === 'text' || r.transform === 'multiline') && object.fields.includes(r),
        );
        if (joined && transformFor(d.field, d.ttype) === joined.transform) {
          joined.from = [...fromColumns(joined), column];
          continue;
        }
        rule =
          d.values && Object.keys(d.values).length
            ? {
                field: d.field,
                from: column,
                transform: 'enum',
                values: d.values,
                join: ' ',
                fallback: [],
                required: false,
              }
            : {
                field: d.field,
                from: column,
                transform: transformFor(d.field, d.ttype),
                join: ' ',
                fallback: [],
                required: false,
              };
      }
      if (d.dateOrder && (rule.transform === 'date' || rule.transform === 'datetime')) rule.dateOrder = d.dateOrder;
      if (rule.transform === 'phone') {
        const country = columnOf('country');
        if (country) rule.countryFrom = country;
      }
      object.fields.push(rule);
      added.add(rule);
    } else {
      const type: OdooFieldType = (customTypes as readonly string[]).includes(d.ttype ?? '')
        ? (d.ttype as OdooFieldType)
        : 'char';
      const taken = new Set([...object.schemaFields.map((f) => f.name), ...object.fields.map((r) => r.field)]);
      const name =
        d.field && d.field.startsWith('x_') ? d.field : fieldName(object.customFields?.prefix ?? 'x_', header, taken);
      if (!object.schemaFields.some((f) => f.name === name))
        object.schemaFields.push({ name, label: d.label || header, type });
      object.fields.push({
        field: name,
        from: column,
        transform: transformFor(name, type),
        join: ' ',
        fallback: [],
        required: false,
        ...(d.dateOrder && (type === 'date' || type === 'datetime') ? { dateOrder: d.dateOrder } : {}),
      });
    }
  }
  const checked = mappingSchema.safeParse(out);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new InputError(
      { file: '(mapping decisions)', field: issue?.path.join('.') },
      issue?.message ?? 'the decisions make an invalid mapping',
    );
  }
  return checked.data;
}
