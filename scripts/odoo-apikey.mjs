#!/usr/bin/env node
// Print a new API key of Odoo 19 user LOGIN (made through res.users.apikeys, as in Preferences →
// Account Security → New API Key; valid one day). Usage: node scripts/odoo-apikey.mjs URL DB LOGIN PASSWORD
// Needs the TypeScript build (npx tsc). Used by scripts/test-all.sh to run Odoo 19's e2e over JSON-2.
import { createApiKey } from '../dist/test/helpers/odoo-apikey.js';

const [url, db, login, password] = process.argv.slice(2);
if (!password) {
  console.error('usage: node scripts/odoo-apikey.mjs URL DB LOGIN PASSWORD');
  process.exit(2);
}
process.stdout.write(`${await createApiKey(url, db, login, password)}\n`);
