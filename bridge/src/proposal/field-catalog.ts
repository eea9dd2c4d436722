/**
 * What the proposer knows about Odoo fields before it asks Odoo: the CRM fields an export's
 * columns usually land in, their type, and how people name them in several languages. Odoo's
 * own `fields_get` answer (labels, types, selection values) extends it at run time.
 */
export type FieldKind =
  | 'char'
  | 'text'
  | 'html'
  | 'email'
  | 'phone'
  | 'url'
  | 'date'
  | 'datetime'
  | 'float'
  | 'integer'
  | 'monetary'
  | 'boolean'
  | 'selection'
  | 'many2one'
  | 'many2many';

export interface TargetField {
  model: string;
  field: string;
  label: string;
  kind: FieldKind;
  /** names people give the column (any language); compared by meaning, not spelling */
  synonyms: string[];
  selection?: [string, string][];
  /** how the value lands: a transform of the mapping format, or a derived object */
  transform?: string;
  /** several columns joined into one field (first and last name → name) */
  part?: 'first' | 'last';
  /** known only by its label in Odoo (no synonyms): proposed only on a near-exact header */
  strict?: boolean;
  /** the values identify the record (a source id): they must be unique to fit */
  unique?: boolean;
}

const partner = (
  field: string,
  label: string,
  kind: FieldKind,
  synonyms: string[],
  transform?: string,
): TargetField => ({ model: 'res.partner', field, label, kind, synonyms, ...(transform ? { transform } : {}) });
const lead = (field: string, label: string, kind: FieldKind, synonyms: string[], transform?: string): TargetField => ({
  model: 'crm.lead',
  field,
  label,
  kind,
  synonyms,
  ...(transform ? { transform } : {}),
});

export const CATALOG: TargetField[] = [
  partner(
    'email',
    'Email',
    'email',
    [
      'email',
      'e-mail',
      'email address',
      'mail',
      'mail address',
      'courriel',
      'adresse e-mail',
      'adresse mail',
      'correo',
      'correo electronico',
      'e-mail-adresse',
      'posta elettronica',
      'emailadres',
    ],
    'email',
  ),
  {
    ...partner('name', 'Name (first part)', 'char', []),
    part: 'first',
    synonyms: [
      'first name',
      'firstname',
      'given name',
      'forename',
      'prenom',
      'prénom',
      'nombre',
      'vorname',
      'voornaam',
      'nome',
    ],
  },
  {
    ...partner('name', 'Name (last part)', 'char', []),
    part: 'last',
    synonyms: [
      'last name',
      'lastname',
      'surname',
      'family name',
      'nom de famille',
      'nom',
      'apellido',
      'apellidos',
      'nachname',
      'achternaam',
      'cognome',
    ],
  },
  partner('name', 'Name', 'char', [
    'name',
    'full name',
    'contact name',
    'contact',
    'nom complet',
    'nombre completo',
    'vollständiger name',
  ]),
  partner(
    'phone',
    'Phone',
    'phone',
    [
      'phone',
      'phone number',
      'telephone',
      'tel',
      'téléphone',
      'telefono',
      'teléfono',
      'telefon',
      'telefoonnummer',
      'work phone',
    ],
    'phone',
  ),
  partner(
    'mobile',
    'Mobile',
    'phone',
    ['mobile', 'mobile phone', 'cell', 'cell phone', 'portable', 'móvil', 'movil', 'handy', 'mobiel', 'cellulare'],
    'phone',
  ),
  partner('street', 'Street', 'char', [
    'street',
    'address',
    'street address',
    'address line 1',
    'adresse',
    'rue',
    'dirección',
    'direccion',
    'straße',
    'strasse',
    'indirizzo',
  ]),
  partner('street2', 'Street 2', 'char', ['street 2', 'address line 2', 'address 2', "complément d'adresse"]),
  partner('city', 'City', 'char', ['city', 'town', 'ville', 'ciudad', 'stadt', 'ort', 'plaats', 'città']),
  partner('zip', 'Zip', 'char', [
    'zip',
    'zip code',
    'postal code',
    'postcode',
    'code postal',
    'cp',
    'código postal',
    'plz',
    'postleitzahl',
    'cap',
  ]),
  partner('state_id', 'State', 'many2one', [
    'state',
    'province',
    'region',
    'county',
    'état',
    'bundesland',
    'provincia',
  ]),
  partner('country_id', 'Country', 'many2one', ['country', 'pays', 'país', 'pais', 'land', 'paese'], 'country'),
  partner(
    'website',
    'Website',
    'url',
    ['website', 'web site', 'url', 'homepage', 'site web', 'sitio web', 'webseite'],
    'url',
  ),
  partner('function', 'Job position', 'char', [
    'job title',
    'title',
    'position',
    'job position',
    'role',
    'fonction',
    'poste',
    'cargo',
    'puesto',
    'berufsbezeichnung',
  ]),
  partner('parent_id', 'Company', 'many2one', [
    'company',
    'company name',
    'organization',
    'organisation',
    'account',
    'account name',
    'société',
    'entreprise',
    'empresa',
    'firma',
    'unternehmen',
    'bedrijf',
    'azienda',
  ]),
  partner('category_id', 'Tags', 'many2many', [
    'tags',
    'tag',
    'labels',
    'étiquettes',
    'etiquetas',
    'schlagwörter',
    'segments',
  ]),
  partner(
    'comment',
    'Notes',
    'html',
    ['notes', 'note', 'comments', 'comment', 'description', 'remarques', 'notas', 'notizen', 'opmerkingen'],
    'multiline',
  ),
  partner('vat', 'Tax ID', 'char', [
    'vat',
    'vat number',
    'tax id',
    'tva',
    'numéro de tva',
    'nif',
    'cif',
    'ust-idnr',
    'btw',
  ]),
  partner('user_id', 'Salesperson', 'many2one', [
    'owner',
    'owner email',
    'account owner',
    'contact owner',
    'salesperson',
    'sales rep',
    'assigned to',
    'propriétaire',
    'commercial',
    'vendedor',
    'verantwortlich',
  ]),
  partner(
    'source_create_date',
    'Created in source',
    'datetime',
    [
      'created',
      'created at',
      'created on',
      'created date',
      'creation date',
      'date created',
      'date added',
      'signup date',
      'date joined',
      'créé le',
      'date de création',
      'fecha de creación',
      'fecha de alta',
      'erstellt am',
      'erstellungsdatum',
      'angelegt am',
      'anlagedatum',
      'erfasst am',
      'data di creazione',
      'aangemaakt op',
      'data de criação',
    ],
    'datetime',
  ),
  // the source's own record id: the partner's reference, and the staged record's source key
  {
    ...partner('ref', 'Reference (source id)', 'char', [
      'id',
      'record id',
      'contact id',
      'customer id',
      'customer number',
      'client id',
      'reference',
      'ref',
      'kundennummer',
      'kunden-nr',
      'kontakt-id',
      'numéro client',
      'identifiant',
      'id client',
      'número de cliente',
      'id de contacto',
      'klantnummer',
      'codice cliente',
    ]),
    unique: true,
  },
  lead('name', 'Opportunity', 'char', [
    'deal name',
    'deal',
    'opportunity',
    'opportunity name',
    'affaire',
    'oportunidad',
    'opportunité',
    'verkaufschance',
  ]),
  lead(
    'expected_revenue',
    'Expected revenue',
    'monetary',
    ['amount', 'deal value', 'value', 'expected revenue', 'revenue', 'montant', 'importe', 'betrag', 'valeur'],
    'number',
  ),
  lead(
    'date_deadline',
    'Expected closing',
    'date',
    ['close date', 'expected close date', 'closing date', 'date de clôture', 'fecha de cierre', 'abschlussdatum'],
    'date',
  ),
  lead('stage_id', 'Stage', 'many2one', ['stage', 'deal stage', 'pipeline stage', 'étape', 'etapa', 'phase', 'status']),
  lead(
    'probability',
    'Probability',
    'float',
    ['probability', 'win probability', 'probabilité', 'probabilidad', 'wahrscheinlichkeit'],
    'number',
  ),
];
