#!/usr/bin/env node
// Ruff (the Python linter) without Python: its WebAssembly build from npm (@astral-sh/ruff-wasm-nodejs),
// because PyPI is not reachable on the build machines and Debian bookworm has no ruff package.
//
//   node scripts/ruff.mjs [--fix] [--statistics] [PATH...]
//
// Reads the ruff configuration at the repository root (ruff.toml, .ruff.toml, or [tool.ruff] of
// pyproject.toml), checks every .py file under PATH (default: odoo_addon/), prints
// `file:line:col: CODE message` for each finding and exits 1 when there is any (2 on a usage or
// configuration error). --statistics adds a count per file and rule. --fix applies ruff's own fixes
// for the rules listed in SAFE_FIXES (those ruff itself treats as safe), then reports what is left.
//
// What the wasm build cannot do, compared with the ruff binary: it sees one file's text at a time, with
// no path. So this script applies `lint.per-file-ignores` itself (patterns: `*`, `**`, `?`, matched on
// the path from the repository root and on the file name, as ruff does), and refuses the other
// path-based settings (exclude, include, src, ...) rather than silently ignoring them.
// `# noqa: CODE` comments work as usual.
import { readFileSync, writeFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { parse as parseToml } from 'smol-toml';

const require = createRequire(import.meta.url);
const { Workspace, PositionEncoding } = require('@astral-sh/ruff-wasm-nodejs');

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_PATHS = ['odoo_addon'];
// ruff's fixes that do not change behaviour (ruff marks them "safe"); others are reported, not applied
const SAFE_FIXES =
  /^(W291|W292|W293|W391|E703|F541|F632|I001|UP0(04|06|07|08|09|10|15|18|24|25|32|34|35|39)|B009|B010|B033|C4\d\d)$/;
// keys the wasm build cannot honour because it never sees a path
const PATH_KEYS = [
  'exclude',
  'extend-exclude',
  'include',
  'extend-include',
  'extend-per-file-ignores',
  'src',
  'namespace-packages',
  'force-exclude',
  'respect-gitignore',
  'extend',
];

function fail(message) {
  console.error(`ruff.mjs: ${message}`);
  process.exit(2);
}

function loadConfig() {
  for (const name of ['ruff.toml', '.ruff.toml']) {
    const file = join(ROOT, name);
    if (existsSync(file)) return { file: name, settings: parseToml(readFileSync(file, 'utf8')) };
  }
  const pyproject = join(ROOT, 'pyproject.toml');
  if (existsSync(pyproject)) {
    const ruff = parseToml(readFileSync(pyproject, 'utf8')).tool?.ruff;
    if (ruff) return { file: 'pyproject.toml [tool.ruff]', settings: ruff };
  }
  fail('no ruff configuration (ruff.toml, .ruff.toml or [tool.ruff] in pyproject.toml) at the repository root');
}

function checkKeys(settings, where) {
  for (const key of PATH_KEYS) {
    if (key in settings)
      fail(
        `${where}${key} is path-based, which the wasm build cannot apply; use a # noqa: CODE comment on the line instead`,
      );
  }
  if (settings.lint && typeof settings.lint === 'object') checkKeys(settings.lint, `${where}lint.`);
}

function globToRegExp(glob) {
  let re = '';
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

// [pattern, codes] pairs of lint.per-file-ignores; a code ignores itself and every code it prefixes
function perFileIgnores(settings) {
  const table = settings.lint?.['per-file-ignores'] ?? {};
  if (settings.lint) delete settings.lint['per-file-ignores'];
  if ('per-file-ignores' in settings) fail('write per-file-ignores under [lint]');
  return Object.entries(table).map(([pattern, codes]) => [globToRegExp(pattern), codes]);
}

function ignoredFor(rel, ignores) {
  const name = rel.split('/').pop();
  return ignores.filter(([re]) => re.test(rel) || re.test(name)).flatMap(([, codes]) => codes);
}

function pythonFiles(path) {
  const full = resolve(ROOT, path);
  if (!existsSync(resolve(full))) fail(`no such file or directory: ${path}`);
  if (statSync(full).isFile()) return full.endsWith('.py') ? [full] : [];
  const out = [];
  for (const entry of readdirSync(full, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === '__pycache__' || entry.name === 'node_modules') continue;
    out.push(...pythonFiles(join(full, entry.name)));
  }
  return out.sort();
}

// rows and columns are 1-based, columns in UTF-16 code units (the encoding asked for), like JS strings
function offsetOf(lineStarts, location) {
  return lineStarts[location.row - 1] + location.column - 1;
}

function applyFixes(text, diagnostics) {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i += 1) if (text[i] === '\n') lineStarts.push(i + 1);
  lineStarts.push(text.length + 1); // a fix may end on the line after the last one
  const edits = [];
  for (const d of diagnostics) {
    if (!d.fix || !d.code || !SAFE_FIXES.test(d.code)) continue;
    const own = d.fix.edits.map((e) => ({
      start: offsetOf(lineStarts, e.location),
      end: Math.min(offsetOf(lineStarts, e.end_location), text.length),
      content: e.content ?? '',
    }));
    // a fix is all or nothing: skip it when it overlaps one already taken (the next pass gets it)
    if (own.some((e) => edits.some((t) => e.start < t.end && t.start < e.end))) continue;
    edits.push(...own);
  }
  if (edits.length === 0) return text;
  edits.sort((a, b) => b.start - a.start);
  let out = text;
  for (const e of edits) out = out.slice(0, e.start) + e.content + out.slice(e.end);
  return out;
}

const args = process.argv.slice(2);
const fix = args.includes('--fix');
const statistics = args.includes('--statistics');
const unknown = args.filter((a) => a.startsWith('-') && a !== '--fix' && a !== '--statistics');
if (unknown.length)
  fail(`unknown option ${unknown.join(' ')} (usage: node scripts/ruff.mjs [--fix] [--statistics] [PATH...])`);
const paths = args.filter((a) => !a.startsWith('-'));

const { file: configFile, settings } = loadConfig();
checkKeys(settings, '');
const ignores = perFileIgnores(settings);
let workspace;
try {
  workspace = new Workspace(settings, PositionEncoding.Utf16);
} catch (error) {
  fail(`${configFile}: ${error?.message ?? error}`);
}

const files = (paths.length ? paths : DEFAULT_PATHS).flatMap(pythonFiles);
let findings = 0;
let fixed = 0;
const perFileRule = new Map();
const filesWithFindings = new Set();
for (const file of files) {
  const rel = relative(ROOT, file);
  const ignored = ignoredFor(rel, ignores);
  const check = (source) => workspace.check(source).filter((d) => !ignored.some((c) => (d.code ?? '').startsWith(c)));
  let text = readFileSync(file, 'utf8');
  let diagnostics = check(text);
  if (fix) {
    const original = text;
    for (let pass = 0; pass < 10; pass += 1) {
      const next = applyFixes(text, diagnostics);
      if (next === text) break;
      text = next;
      diagnostics = check(text);
    }
    if (text !== original) {
      writeFileSync(file, text);
      fixed += 1;
    }
  }
  for (const d of diagnostics) {
    const code = d.code ?? 'syntax-error';
    console.log(`${rel}:${d.start_location.row}:${d.start_location.column}: ${code} ${d.message}`);
    findings += 1;
    filesWithFindings.add(rel);
    const key = `${rel} ${code}`;
    perFileRule.set(key, (perFileRule.get(key) ?? 0) + 1);
  }
}
if (statistics && perFileRule.size) {
  console.log('\nfindings per file and rule:');
  for (const [key, n] of [...perFileRule].sort()) console.log(`  ${String(n).padStart(4)}  ${key}`);
}
const fixedNote = fix ? `, ${fixed} file(s) fixed` : '';
console.log(
  `ruff ${Workspace.version()} (wasm, ${configFile}): ${findings} finding(s) in ${filesWithFindings.size} of ${files.length} file(s)${fixedNote}`,
);
process.exit(findings ? 1 : 0);
