/**
 * Mapping proposals on exports whose headers are renamed, reordered or in another language,
 * against the targets a person would choose. Prints the precision and recall figures.
 */
import t from 'tap';
import { proposeMapping, similarity } from '../../bridge/src/proposal/propose.js';
import { loadSourceMapping } from '../../bridge/src/stage-exports.js';

type Case = { name: string; rows: Record<string, string>[]; expected: Record<string, string | null> };

const row = (o: Record<string, string>) => o;
const CASES: Case[] = [
  {
    name: 'English, renamed and reordered',
    rows: [
      row({
        'Mail address': 'ada@example.com',
        'Given Name': 'Ada',
        Surname: 'Lovelace',
        Organisation: 'Engines Ltd',
        Telephone: '+44 20 7946 0018',
        Town: 'London',
        'Post code': 'SW1Y 4JH',
        Nation: 'United Kingdom',
        Homepage: 'engines.example',
        'Favourite snack': 'scones',
      }),
      row({
        'Mail address': 'grace@navy.example',
        'Given Name': 'Grace',
        Surname: 'Hopper',
        Organisation: 'US Navy',
        Telephone: '(202) 555-0143',
        Town: 'Arlington',
        'Post code': '22201',
        Nation: 'USA',
        Homepage: 'https://navy.example',
        'Favourite snack': 'cake',
      }),
    ],
    expected: {
      'Mail address': 'res.partner.email',
      'Given Name': 'res.partner.name:first',
      Surname: 'res.partner.name:last',
      Organisation: 'res.partner.parent_id',
      Telephone: 'res.partner.phone',
      Town: 'res.partner.city',
      'Post code': 'res.partner.zip',
      Nation: 'res.partner.country_id',
      Homepage: 'res.partner.website',
      'Favourite snack': null,
    },
  },
  {
    name: 'French',
    rows: [
      row({
        Courriel: 'jean@exemple.fr',
        Prénom: 'Jean',
        Nom: 'Dupont',
        Société: 'Exemple SARL',
        Téléphone: '01 23 45 67 89',
        Ville: 'Paris',
        'Code postal': '75001',
        Pays: 'France',
        Fonction: 'Gérant',
        Remarques: 'client fidèle',
      }),
      row({
        Courriel: 'marie@exemple.fr',
        Prénom: 'Marie',
        Nom: 'Curie',
        Société: 'Radium SA',
        Téléphone: '01 98 76 54 32',
        Ville: 'Lyon',
        'Code postal': '69001',
        Pays: 'France',
        Fonction: 'Chercheuse',
        Remarques: '',
      }),
    ],
    expected: {
      Courriel: 'res.partner.email',
      Prénom: 'res.partner.name:first',
      Nom: 'res.partner.name:last',
      Société: 'res.partner.parent_id',
      Téléphone: 'res.partner.phone',
      Ville: 'res.partner.city',
      'Code postal': 'res.partner.zip',
      Pays: 'res.partner.country_id',
      Fonction: 'res.partner.function',
      Remarques: 'res.partner.comment',
    },
  },
  {
    name: 'German and Spanish mix, a column of emails under a vague name',
    rows: [
      row({
        Kontakt: 'hans@beispiel.de',
        Vorname: 'Hans',
        Nachname: 'Müller',
        Firma: 'Beispiel GmbH',
        Handy: '+49 151 23456789',
        Stadt: 'Berlin',
        PLZ: '10115',
        Land: 'Deutschland',
        'Fecha de creación': '2023-05-01',
      }),
      row({
        Kontakt: 'eva@beispiel.de',
        Vorname: 'Eva',
        Nachname: 'Schmidt',
        Firma: 'Muster AG',
        Handy: '+49 160 98765432',
        Stadt: 'München',
        PLZ: '80331',
        Land: 'Deutschland',
        'Fecha de creación': '2022-11-15',
      }),
    ],
    expected: {
      Kontakt: 'res.partner.email',
      Vorname: 'res.partner.name:first',
      Nachname: 'res.partner.name:last',
      Firma: 'res.partner.parent_id',
      Handy: 'res.partner.mobile',
      Stadt: 'res.partner.city',
      PLZ: 'res.partner.zip',
      Land: 'res.partner.country_id',
      'Fecha de creación': 'res.partner.source_create_date',
    },
  },
  {
    name: 'Deals',
    rows: [
      row({
        'Opportunity Name': 'Big deal',
        'Deal Value': '12,500.00',
        'Closing Date': '2024-09-30',
        'Pipeline Stage': 'Proposal',
        'Win Probability': '40',
      }),
      row({
        'Opportunity Name': 'Small deal',
        'Deal Value': '900',
        'Closing Date': '2024-10-30',
        'Pipeline Stage': 'Won',
        'Win Probability': '100',
      }),
    ],
    expected: {
      'Opportunity Name': 'crm.lead.name',
      'Deal Value': 'crm.lead.expected_revenue',
      'Closing Date': 'crm.lead.date_deadline',
      'Pipeline Stage': 'crm.lead.stage_id',
      'Win Probability': 'crm.lead.probability',
    },
  },
];

t.test('similarity compares by meaning, not spelling', async (t) => {
  t.equal(similarity('E-mail', 'email'), 1);
  t.ok(similarity('Work Email Address', 'email') >= 0.85);
  t.ok(similarity('Banana', 'email') < 0.3);
});

t.test('proposals on renamed / reordered / other-language headers', async (t) => {
  let proposed = 0;
  let correct = 0;
  let expectedMapped = 0;
  for (const c of CASES) {
    const header = Object.keys(c.rows[0] as Record<string, string>);
    const result = proposeMapping(header, c.rows);
    for (const p of result) {
      const want = c.expected[p.column];
      const got = p.field ? `${p.model}.${p.field}${p.part ? `:${p.part}` : ''}` : null;
      if (want) expectedMapped += 1;
      if (got) {
        proposed += 1;
        if (got === want) correct += 1;
      }
      t.equal(got, want ?? null, `${c.name}: "${p.column}" → ${got ?? 'new custom field'} (${p.reason})`);
      if (got) t.ok(p.confidence > 0 && p.confidence <= 1);
    }
  }
  const precision = correct / proposed;
  const recall = correct / expectedMapped;
  t.comment(
    `mapping proposal precision: ${(precision * 100).toFixed(1)}% (${correct}/${proposed}), recall ${(recall * 100).toFixed(1)}% (${correct}/${expectedMapped})`,
  );
  process.stdout.write(
    `# mapping proposal precision: ${(precision * 100).toFixed(1)}% (${correct}/${proposed}), recall ${(recall * 100).toFixed(1)}%\n`,
  );
  t.ok(precision >= 0.9, 'precision at least 90%');
});

t.test('a shipped mapping and a saved mapping win over guesses', async (t) => {
  const shipped = await loadSourceMapping('kartra');
  const [email, joined, odd] = proposeMapping(
    ['Lead Email', 'Date Joined', 'Odd'],
    [{ 'Lead Email': 'a@b.example', 'Date Joined': '2024-01-01', Odd: 'x' }],
    { shipped, saved: { Odd: { model: 'res.partner', field: 'x_odd' } } },
  );
  t.match(email, { model: 'res.partner', field: 'email', confidence: 1, reason: /shipped Kartra mapping/ });
  t.match(joined, { field: 'source_create_date', confidence: 1 });
  t.match(odd, { field: 'x_odd', confidence: 0.98, reason: /saved mapping/ });
});
