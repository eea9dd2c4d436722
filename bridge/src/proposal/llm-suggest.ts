/**
 * Optional: an OpenAI-compatible chat endpoint (URL + key in Odoo's settings) suggests fields for
 * the columns the heuristics leave unmapped. The product works fully without it: any failure
 * (unreachable, slow, an answer that is not the JSON asked for) gives no suggestion, logged.
 * Only fields of the given candidate list are accepted from the answer.
 */
import { z } from 'zod';
import type { Logger } from 'pino';
import type { TargetField } from './field-catalog.js';

export const llmConfigSchema = z.object({
  url: z.url(),
  key: z.string().optional(),
  model: z.string().min(1).default('gpt-4o-mini'),
});
export type LlmConfig = z.infer<typeof llmConfigSchema>;

const chatAnswer = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string() }) })).min(1),
});
const suggestionList = z.object({
  mappings: z.array(z.object({ column: z.string(), field: z.string().nullable() })),
});

export interface LlmSuggestion {
  field: string;
  reason: string;
}

export async function llmSuggest(
  config: LlmConfig,
  columns: { column: string; samples: string[] }[],
  candidates: TargetField[],
  log?: Pick<Logger, 'warn'>,
  timeoutMs = 20_000,
): Promise<Map<string, LlmSuggestion>> {
  const out = new Map<string, LlmSuggestion>();
  if (columns.length === 0) return out;
  const allowed = new Map(candidates.filter((c) => !c.part).map((c) => [c.field, c]));
  const prompt = [
    'Map CSV columns of a CRM export to Odoo fields. Answer with JSON only: {"mappings":[{"column":"...","field":"<one of the fields or null>"}]}.',
    `Fields: ${[...allowed.values()].map((c) => `${c.field} (${c.label}, ${c.kind})`).join('; ')}`,
    'Columns with example values:',
    ...columns.map((c) => `- ${JSON.stringify(c.column)}: ${c.samples.map((s) => JSON.stringify(s)).join(', ')}`),
  ].join('\n');
  try {
    const res = await fetch(`${config.url.replace(/\/+$/, '')}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(config.key ? { authorization: `Bearer ${config.key}` } : {}) },
      body: JSON.stringify({
        model: config.model,
        temperature: 0,
        response_format: { type: 'json_object' },
        messages: [{ role: 'user', content: prompt }],
      }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const content = chatAnswer.parse(await res.json()).choices[0]?.message.content ?? '';
    const json: unknown = JSON.parse(content.replace(/^```(?:json)?\s*|\s*```$/g, ''));
    for (const m of suggestionList.parse(json).mappings) {
      if (m.field && allowed.has(m.field) && columns.some((c) => c.column === m.column)) {
        out.set(m.column, { field: m.field, reason: `suggested by ${config.model} (language model)` });
      }
    }
  } catch (err) {
    log?.warn(
      { err: (err as Error).message, url: config.url },
      'language-model suggestions unavailable; continuing without them',
    );
  }
  return out;
}
