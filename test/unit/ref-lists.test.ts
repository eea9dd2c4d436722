/**
 * A many2many filled by several rules of one object (Kartra's contact categories: tags and lists
 * split from their cells, plus the affiliate category of the lead source) is a list of keys even
 * when only the single-valued rule has a value: Odoo's staging refuses a lone key on a
 * many2many, which refused the whole upload of an export with such a contact.
 */
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { stageExports } from '../../bridge/src/stage-exports.js';

t.test('an affiliate contact without tags or lists gets its category as a list', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ref-lists-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'contacts.csv');
  await writeFile(
    path,
    'First Name,Last Name,Email,Source,Tags\nAnn,Lee,ann@example.com,affiliate-signup,\nBob,Ray,bob@example.com,affiliate-signup,vip\n',
  );
  const staged = await stageExports('kartra', csvReader([{ name: 'contacts.csv', path }]));
  const byEmail = (email: string) => staged.records.find((r) => r.model === 'res.partner' && r.values.email === email);
  t.same(
    byEmail('ann@example.com')?.refs.category_id,
    ['kartra:affiliate_category:affiliate'],
    'alone: a list of one key',
  );
  t.same(
    byEmail('bob@example.com')?.refs.category_id,
    ['kartra:tag:vip', 'kartra:affiliate_category:affiliate'],
    'with a tag: both, in one list',
  );
});
