/**
 * The README's route table ("HTTP service") is generated from the OpenAPI document the routes'
 * schemas make (`GET /openapi.json`): `npm run schemas` rewrites it, test/unit/openapi.test.ts
 * fails when it differs, so the table cannot drift from the routes.
 */
import type { OpenAPIV3_1 } from 'openapi-types';
import { buildApp } from './app.js';
import { serverConfigFromEnv } from '../config.js';

export const ROUTES_BEGIN =
  '<!-- routes: generated from GET /openapi.json by `npm run schemas`; test/unit/openapi.test.ts checks it -->';
export const ROUTES_END = '<!-- /routes -->';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** `|` inside a Markdown table cell, code spans included */
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** `sample=N`, `onConflict=stop|keep|undo`: how a query parameter is written in the table */
function queryPart(parameter: OpenAPIV3_1.ParameterObject): string {
  const schema = (parameter.schema ?? {}) as OpenAPIV3_1.SchemaObject;
  const value = schema.enum ? schema.enum.join('|') : schema.type === 'integer' || schema.type === 'number' ? 'N' : '…';
  return `${parameter.name}=${value}`;
}

/** The Markdown table of every route of `doc`: route (method, path, query), auth, what. */
export function routeTable(doc: OpenAPIV3_1.Document): string {
  const rows = ['| route | auth | what |', '| --- | --- | --- |'];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item?.[method];
      if (!operation) continue;
      const query = (operation.parameters ?? []).filter(
        (p): p is OpenAPIV3_1.ParameterObject => 'in' in p && p.in === 'query',
      );
      const required = query.filter((p) => p.required).map(queryPart);
      const optional = query.filter((p) => !p.required).map(queryPart);
      const route =
        `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}${required.length ? `?${required.join('&')}` : ''}` +
        (optional.length ? `[${required.length ? '&' : '?'}${optional.join('&')}]` : '');
      const auth = operation.security?.length ? 'Bearer' : 'none';
      rows.push(`| \`${cell(route)}\` | ${auth} | ${cell(operation.description ?? '')} |`);
    }
  }
  return `${rows.join('\n')}\n`;
}

/** `readme` with the text between the markers replaced by `table` (an error when a marker is missing). */
export function withRouteTable(readme: string, table: string): string {
  const begin = readme.indexOf(ROUTES_BEGIN);
  const end = readme.indexOf(ROUTES_END);
  if (begin < 0 || end < begin)
    throw new Error(`the README has no route table markers (${ROUTES_BEGIN} … ${ROUTES_END})`);
  return `${readme.slice(0, begin + ROUTES_BEGIN.length)}\n${table}${readme.slice(end)}`;
}

/** The OpenAPI document of the bridge's routes (an app built without Odoo, never listening). */
export async function openApiDocument(): Promise<OpenAPIV3_1.Document> {
  const app = await buildApp({
    config: serverConfigFromEnv({ BRIDGE_TOKEN: 'openapi-document-only' }),
    migrations: null,
  });
  try {
    await app.ready();
    return app.swagger() as OpenAPIV3_1.Document;
  } finally {
    await app.close();
  }
}
