#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * crm-migrate: the bridge from a shell, for implementation partners and scripts.
 *
 *   crm-migrate stage --source kartra [--out DIR] [--name NAME] [--skip OBJECT]...
 *                     [--column COLUMN="Header"]... [--decisions FILE] [--files DIR] FILE...
 *   crm-migrate stage --source kartra --into ID FILE...   (a newer export: a delta round of ID)
 *   crm-migrate delta ID [--take source|odoo] [--gone archive|delete] [--key KEY]...
 *   crm-migrate stage --source API_SOURCE --spool DIR [--credential NAME=VALUE]... [--out DIR] [--name NAME]
 *   crm-migrate stage --source apto_export [--spool DIR] Export.zip...   (a packed export, unpacked safely)
 *     (an API source: credentials also from CRM_CREDENTIAL_<NAME>; the --spool folder keeps every
 *     fetched page, so running the same command again after a stop fetches only what is missing)
 *   crm-migrate commit ID [--batch-size N] [--sample N | --workers N]
 *   crm-migrate diff ID [--mismatches]
 *   crm-migrate rollback ID --sample-only
 *   crm-migrate owners ID [--assign SOURCE_OWNER=LOGIN]... [--fallback LOGIN]
 *   crm-migrate propose [--source SOURCE] FILE     (no Odoo needed)
 *   crm-migrate rollback ID [--on-conflict stop|keep|undo]
 *   crm-migrate report ID
 *   crm-migrate connect BRIDGE_URL --token TOKEN   (tell Odoo's upload wizard where the bridge is)
 *   (each takes --json for machine-readable output)
 *
 * Odoo from ODOO_URL, ODOO_DB, ODOO_USER, ODOO_PASSWORD (an API key works as the password).
 * A column the mapping needs that no header is sure to be stops `stage` with one line naming the
 * file, the column and the best candidate headers (exit 3); `--column deal_id="Deal #"` (or
 * `object.column=...`, repeatable) or a decisions file (`{"columns": {...}, "decisions": [...]}`
 * or a list of mapping decisions) names it.
 * Exit codes: 0 ok, 1 unexpected failure, 2 usage, 3 bad input, 4 Odoo refused or unreachable,
 * 5 committed with some records failed.
 */
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { decisionsSchema, type Decision } from './mapping/decisions.js';
import { parseArgs } from 'node:util';
import { InputError } from './core/input-error.js';
import { odooFromEnv } from './config.js';
import {
  deltaDecisions,
  goneActions,
  MigrationClient,
  rollbackChoices,
  type DeltaDecision,
  type GoneAction,
  type MigrationReport,
  type RollbackChoice,
} from './odoo/migration-client.js';
import { OdooError } from './odoo/transport.js';
import { UploadBusyError } from './odoo/migration-client.js';
import { createTransport } from './odoo/auto-transport.js';
import { stageExports, stageExportsTo, stageIntoMigration, stageToOdoo } from './stage-exports.js';
import { csvReader, type SourceReader } from './sources/reader.js';
import { apiReader, findSource } from './sources/registry.js';
import { stagingWriter } from './staging/write-staging.js';
import type { PlanOptions } from './upload/plan-mapping.js';
import { formatProfile, formatReport, formatFileReport } from './report-text.js';

const USAGE = `usage:
  crm-migrate stage --source SOURCE [--out DIR] [--name NAME] [--skip OBJECT]... [--column COLUMN="Header"]... [--decisions FILE] [--files DIR] [--json] FILE...
  crm-migrate stage --source SOURCE --into ID [--skip OBJECT]... [--json] FILE...
  crm-migrate delta ID [--take source|odoo] [--gone archive|delete] [--key KEY]... [--json]
  crm-migrate stage --source API_SOURCE --spool DIR [--credential NAME=VALUE]... [--out DIR] [--name NAME] [--json]
  crm-migrate commit ID [--batch-size N] [--sample N | --workers N] [--json]
  crm-migrate diff ID [--mismatches] [--json]
  crm-migrate owners ID [--assign SOURCE_OWNER=LOGIN]... [--fallback LOGIN] [--json]
  crm-migrate rollback ID [--on-conflict stop|keep|undo] [--sample-only] [--json]
  crm-migrate report ID [--json]
  crm-migrate propose [--source SOURCE] [--json] FILE
  crm-migrate connect BRIDGE_URL --token TOKEN`;

class UsageError extends Error {}

export async function main(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        source: { type: 'string' },
        out: { type: 'string' },
        into: { type: 'string' },
        take: { type: 'string' },
        gone: { type: 'string' },
        key: { type: 'string', multiple: true },
        name: { type: 'string' },
        json: { type: 'boolean', default: false },
        'batch-size': { type: 'string' },
        workers: { type: 'string' },
        skip: { type: 'string', multiple: true },
        column: { type: 'string', multiple: true },
        decisions: { type: 'string' },
        assign: { type: 'string', multiple: true },
        fallback: { type: 'string' },
        'on-conflict': { type: 'string' },
        sample: { type: 'string' },
        mismatches: { type: 'boolean', default: false },
        token: { type: 'string' },
        credential: { type: 'string', multiple: true },
        spool: { type: 'string' },
        'sample-only': { type: 'boolean', default: false },
        files: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    err(`crm-migrate: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    (values.help ? out : err)(USAGE);
    return values.help ? 0 : 2;
  }
  const json = values.json ?? false;
  try {
    switch (command) {
      case 'stage': {
        if (!values.source) throw new UsageError('stage needs --source');
        const reader = stageReader(values.source, rest, values.credential ?? [], values.spool, err);
        const skip = values.skip ?? [];
        const named = await namedColumns(values.column ?? [], values.decisions);
        // file columns (attachments) name files in this folder: --files, else the first export's
        const filesDir = values.files
          ? resolve(values.files)
          : (reader.filesDir ?? (rest[0] ? dirname(resolve(rest[0])) : null));
        if (values.out) {
          // records are written as they are finished: a million rows in bounded memory
          const writer = await stagingWriter(values.out);
          const result = await stageExportsTo(values.source, reader, writer.sink, { skip, filesDir, ...named });
          const written = await writer.close(result);
          out(
            json
              ? JSON.stringify({ dryRun: true, ...written, profile: result.profile })
              : `${formatProfile(result.profile)}\nstaged ${result.count} records to ${written.records}; inventory in ${written.inventory}`,
          );
          return 0;
        }
        const client = new MigrationClient(createTransport(odooFromEnv()));
        if (values.into !== undefined)
          return await stageInto(
            client,
            values.into,
            values.source,
            reader,
            { skip, filesDir, ...named },
            json,
            out,
            err,
          );
        const { report, staged } = await stageToOdoo(client, values.source, reader, {
          name: values.name,
          skip,
          filesDir,
          ...named,
        });
        if (json) out(JSON.stringify({ id: report.id, report, profile: staged.profile }));
        else {
          err(formatProfile(staged.profile));
          out(String(report.id));
        }
        return 0;
      }
      case 'propose': {
        // the same planner as staging: what it proposes is what `stage` does with the column
        if (rest.length !== 1) throw new UsageError('propose takes one export FILE');
        const path = rest[0] as string;
        const file = { name: basename(path), path: resolve(path) };
        const { lines } = await stageExports(values.source ?? 'generic_csv', csvReader([file]));
        const proposals = lines.map((l) => ({
          column: l.column,
          object: l.object,
          model: l.action === 'ignore' ? null : l.model,
          field: l.field,
          action: l.action,
          confidence: l.confidence,
          reason: l.reason,
        }));
        out(
          json
            ? JSON.stringify(proposals)
            : proposals
                .map(
                  (p) =>
                    `${p.column.padEnd(28)} → ${(p.action === 'ignore' ? '(left out)' : `${p.model}.${p.field}${p.action === 'create' ? ' (new custom field)' : ''}`).padEnd(50)} ${p.confidence.toFixed(2)}  ${p.reason}`,
                )
                .join('\n'),
        );
        return 0;
      }
      case 'connect': {
        const url = rest[0];
        if (!url || !/^https?:\/\//.test(url)) throw new UsageError('connect needs the bridge URL (http://host:port)');
        if (!values.token || values.token.length < 16)
          throw new UsageError('connect needs --token (the BRIDGE_TOKEN, at least 16 characters)');
        const client = new MigrationClient(createTransport(odooFromEnv()));
        await client.setBridgeSettings(url, values.token);
        out(json ? JSON.stringify({ bridgeUrl: url }) : `Odoo's upload wizard now sends files to ${url}`);
        return 0;
      }
      case 'diff': {
        const id = Number(rest[0]);
        if (!Number.isInteger(id) || id <= 0) throw new UsageError('diff needs a migration ID');
        const client = new MigrationClient(createTransport(odooFromEnv()));
        const rows = (await client.sampleDiff(id)).filter((r) => !values.mismatches || !r.match);
        out(
          json
            ? JSON.stringify(rows)
            : rows.length === 0
              ? 'no rows'
              : rows
                  .map(
                    (r) =>
                      `${r.match ? '  ' : '≠ '}${r.key} ${r.field}: source "${r.source}" → expected "${r.expected}", in Odoo "${r.actual}"`,
                  )
                  .join('\n'),
        );
        return 0;
      }
      case 'owners': {
        const id = Number(rest[0]);
        if (!Number.isInteger(id) || id <= 0) throw new UsageError('owners needs a migration ID');
        const client = new MigrationClient(createTransport(odooFromEnv()));
        const userOf = async (login: string): Promise<number> => {
          const uid = await client.userId(login);
          if (uid === null) throw new UsageError(`no single Odoo user with login or email "${login}"`);
          return uid;
        };
        for (const a of values.assign ?? []) {
          const at = a.lastIndexOf('=');
          if (at <= 0) throw new UsageError(`--assign takes SOURCE_OWNER=LOGIN, got "${a}"`);
          await client.resolveOwner(id, a.slice(0, at), await userOf(a.slice(at + 1)));
        }
        if (values.fallback) await client.setFallbackUser(id, await userOf(values.fallback));
        const owners = await client.owners(id);
        out(
          json
            ? JSON.stringify(owners)
            : owners.length === 0
              ? 'no owners to reconcile'
              : owners
                  .map(
                    (o) =>
                      `${o.state.padEnd(8)} ${o.value} → ${o.user_id === false ? '(no user yet)' : `user ${o.user_id}`} (${o.record_count} records waiting)`,
                  )
                  .join('\n'),
        );
        return 0;
      }
      case 'delta': {
        const id = Number(rest[0]);
        if (!Number.isInteger(id) || id <= 0) throw new UsageError('delta needs a migration ID');
        if (values.take !== undefined && !(deltaDecisions as readonly string[]).includes(values.take))
          throw new UsageError('--take takes source or odoo');
        if (values.gone !== undefined && !(goneActions as readonly string[]).includes(values.gone))
          throw new UsageError('--gone takes archive or delete');
        const client = new MigrationClient(createTransport(odooFromEnv()));
        let report = await client.report(id);
        if (values.take) report = await client.resolveDelta(id, values.take as DeltaDecision, values.key);
        if (values.gone) report = await client.deltaGone(id, values.gone as GoneAction, values.key);
        out(json ? JSON.stringify(report) : formatReport(report));
        return 0;
      }
      case 'commit':
      case 'rollback':
      case 'report': {
        const id = Number(rest[0]);
        if (!Number.isInteger(id) || id <= 0) throw new UsageError(`${command} needs a migration ID`);
        const client = new MigrationClient(createTransport(odooFromEnv()));
        let report: MigrationReport;
        if (command === 'commit') {
          const batch = values['batch-size'] ? Number(values['batch-size']) : 500;
          if (!Number.isInteger(batch) || batch <= 0)
            throw new UsageError('--batch-size takes a positive whole number');
          const sample = values.sample === undefined ? undefined : Number(values.sample);
          if (sample !== undefined && (!Number.isInteger(sample) || sample <= 0))
            throw new UsageError('--sample takes a positive whole number');
          const workers = values.workers === undefined ? undefined : Number(values.workers);
          if (workers !== undefined && (!Number.isInteger(workers) || workers <= 0))
            throw new UsageError('--workers takes a positive whole number');
          if (workers !== undefined && sample !== undefined)
            throw new UsageError('--workers commits everything: it does not take --sample');
          // --workers: the plan's chunks N at a time, each in its own transaction on Odoo's workers (issue #11)
          report =
            workers === undefined
              ? await client.commit(id, batch, sample)
              : (await client.commitParallel(id, { batchSize: batch, workers })).report;
        } else if (command === 'rollback' && values['sample-only']) {
          report = await client.sampleRollback(id);
        } else if (command === 'rollback') {
          const choice = values['on-conflict'] ?? 'stop';
          if (!(rollbackChoices as readonly string[]).includes(choice))
            throw new UsageError('--on-conflict takes stop, keep or undo');
          report = await client.rollback(id, choice as RollbackChoice);
        } else report = await client.report(id);
        // the report command also shows Odoo's reconciliation of every uploaded file
        const files = command === 'report' && !json ? await client.reportFiles(id) : [];
        out(
          json
            ? JSON.stringify(report)
            : [formatReport(report), ...(files.length ? [formatFileReport(files)] : [])].join('\n'),
        );
        return command === 'commit' && report.failed.length > 0 ? 5 : 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`crm-migrate: ${e.message}\n${USAGE}`);
      return 2;
    }
    if (e instanceof InputError) {
      err(json ? JSON.stringify(e.toJSON()) : `crm-migrate: ${e.message}`);
      return 3;
    }
    if (e instanceof OdooError || e instanceof UploadBusyError) {
      err(json ? JSON.stringify({ error: 'odoo', message: e.message }) : `crm-migrate: Odoo: ${e.message}`);
      return 4;
    }
    err(`crm-migrate: ${(e as Error).message ?? String(e)}`);
    return 1;
  }
}

const decisionsFileSchema = z.union([
  decisionsSchema.transform((decisions) => ({ columns: {}, decisions })),
  z
    .object({
      columns: z.record(z.string().min(1), z.string().min(1)).default({}),
      decisions: decisionsSchema.default([]),
    })
    .strict(),
]);

/** `--column COLUMN=Header` options and a `--decisions FILE`: the admin's word on columns. */
async function namedColumns(
  options: string[],
  file: string | undefined,
): Promise<{ columns: Record<string, string>; decisions: Decision[] }> {
  const out: { columns: Record<string, string>; decisions: Decision[] } = { columns: {}, decisions: [] };
  if (file) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      throw new InputError({ file }, `not a JSON decisions file: ${(e as Error).message}`);
    }
    const parsed = decisionsFileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InputError({ file, field: issue?.path.join('.') }, issue?.message ?? 'not a decisions file');
    }
    Object.assign(out.columns, parsed.data.columns);
    out.decisions = parsed.data.decisions;
  }
  for (const option of options) {
    const at = option.indexOf('=');
    const column = option.slice(0, at).trim();
    const header = option
      .slice(at + 1)
      .trim()
      .replace(/^(["'])(.*)\1$/, '$2');
    if (at <= 0 || !/^([a-z][a-z0-9_]*\.)?[a-z][a-z0-9_]*$/.test(column) || header === '')
      throw new UsageError(`--column takes COLUMN="Header" (or OBJECT.COLUMN="Header"), got "${option}"`);
    out.columns[column] = header;
  }
  return out;
}

/** `stage --into ID`: the files staged into an existing migration; a committed one takes them as a
 *  delta round (a newer export), answered with its per-object delta line. */
async function stageInto(
  client: MigrationClient,
  into: string,
  source: string,
  reader: SourceReader,
  options: { skip: string[]; filesDir: string | null } & Pick<PlanOptions, 'columns' | 'decisions'>,
  json: boolean,
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<number> {
  const id = Number(into);
  if (!Number.isInteger(id) || id <= 0) throw new UsageError('--into takes a migration ID');
  const { report, staged } = await stageIntoMigration(client, id, source, reader, {
    ...options,
    askOnMappingPage: false,
  });
  if (json) out(JSON.stringify({ id, report, profile: staged.profile }));
  else {
    err(formatProfile(staged.profile));
    out(formatReport(report));
  }
  return 0;
}

/** The reader of `stage`: export files, or an extraction from an API source into a spool folder. */
function stageReader(
  sourceName: string,
  files: string[],
  credentialArgs: string[],
  spool: string | undefined,
  err: (s: string) => void,
): SourceReader {
  const source = findSource(sourceName);
  if (source?.input !== 'api') {
    if (files.length === 0) throw new UsageError('stage needs at least one export FILE');
    if (source?.uploadReader) {
      // an export that comes packed (a zip): unpacked into --spool DIR, else a temporary folder
      if (credentialArgs.length > 0)
        throw new UsageError(`--credential is for API sources; ${source.label} reads export files`);
      return source.uploadReader(
        files.map((p) => ({ name: basename(p), path: resolve(p) })),
        spool ? resolve(spool) : mkdtempSync(join(tmpdir(), 'crm-export-')),
      );
    }
    if (credentialArgs.length > 0 || spool)
      throw new UsageError(
        `--credential and --spool are for API sources; ${source?.label ?? sourceName} reads export files`,
      );
    return csvReader(files.map((p) => ({ name: basename(p), path: resolve(p) })));
  }
  if (files.length > 0)
    throw new UsageError(`${source.label} is read from its API: give --credential NAME=VALUE and --spool DIR, no FILE`);
  if (!spool)
    throw new UsageError(
      `stage --source ${sourceName} needs --spool DIR (the extraction's folder; run again with the same folder to resume)`,
    );
  const credentials: Record<string, string> = {};
  for (const field of source.credentials) {
    const env = process.env[`CRM_CREDENTIAL_${field.name.toUpperCase()}`];
    if (env !== undefined) credentials[field.name] = env;
  }
  for (const a of credentialArgs) {
    const at = a.indexOf('=');
    if (at <= 0) throw new UsageError(`--credential takes NAME=VALUE, got "${a.split('=')[0]}"`);
    credentials[a.slice(0, at)] = a.slice(at + 1);
  }
  return apiReader(sourceName, credentials, {
    dir: resolve(spool),
    onProgress: (p) =>
      err(
        `${p.object}: ${p.pages} page(s), ${p.rows} rows${p.fromSpool ? ' (from the spool)' : ''}${p.done ? ', done' : ''}${p.message ? `; ${p.message}` : ''}`,
      ),
  });
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${resolve(process.argv[1])}`).href;
if (isEntry || process.argv[1]?.endsWith('crm-migrate')) {
  void main(
    process.argv.slice(2),
    (s) => process.stdout.write(`${s}\n`),
    (s) => process.stderr.write(`${s}\n`),
  ).then((code) => {
    process.exitCode = code;
  });
}
