/**
 * Header variants of the bundled Kartra sample export: the same rows under other headers
 * (renamed with `#` and suffix spellings, reordered, French, German, Spanish), written as new
 * CSV files. Columns the mapping does not know (custom fields) keep their header: they name the
 * custom field they become.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCsv, type CsvFile } from '../../bridge/src/csv/read-csv.js';

export type Variant = 'renamed' | 'reordered' | 'fr' | 'de' | 'es';
export const VARIANTS: Variant[] = ['renamed', 'reordered', 'fr', 'de', 'es'];

type Table = Record<string, Partial<Record<Exclude<Variant, 'reordered'>, string>>>;

/** canonical header → its spelling in each variant, per object file of the sample export */
export const HEADERS: Record<string, Table> = {
  contacts: {
    ID: { renamed: 'Contact #', fr: 'Identifiant', de: 'Kontakt-Nr.', es: 'ID de contacto' },
    'First Name': { renamed: 'Given Name', fr: 'Prénom', de: 'Vorname', es: 'Primer nombre' },
    'Middle Name': {
      renamed: 'Middle Name (optional)',
      fr: 'Deuxième prénom',
      de: 'Zweiter Vorname',
      es: 'Segundo nombre',
    },
    'Last Name': { renamed: 'Family Name', fr: 'Nom de famille', de: 'Nachname', es: 'Apellidos' },
    Email: { renamed: 'E-mail (primary)', fr: 'Courriel', de: 'E-Mail-Adresse', es: 'Correo electrónico' },
    'Phone Country Code': {
      renamed: 'Phone Country-Code',
      fr: 'Indicatif pays',
      de: 'Landesvorwahl',
      es: 'Prefijo telefónico del país',
    },
    Phone: { renamed: 'Phone #', fr: 'Téléphone', de: 'Telefonnummer', es: 'Teléfono' },
    Company: { renamed: 'Company / Organisation', fr: 'Société', de: 'Firma', es: 'Empresa' },
    Address: { renamed: 'Street Address 1', fr: 'Adresse', de: 'Straße', es: 'Dirección' },
    City: { renamed: 'Town', fr: 'Ville', de: 'Stadt', es: 'Ciudad' },
    State: { renamed: 'State / Province', fr: 'État/Région', de: 'Bundesland', es: 'Provincia' },
    Zip: { renamed: 'ZIP / Postal Code', fr: 'Code postal', de: 'PLZ', es: 'Código postal' },
    Country: { renamed: 'Country Name', fr: 'Pays', de: 'Land', es: 'País' },
    Website: { renamed: 'Web Site URL', fr: 'Site web', de: 'Webseite', es: 'Sitio web' },
    Tags: { renamed: 'Contact Tags', fr: 'Étiquettes', de: 'Schlagwörter', es: 'Etiquetas' },
    Lists: { renamed: 'Mailing Lists', fr: 'Listes', de: 'Listen', es: 'Listas' },
    'GDPR Status': { renamed: 'GDPR Consent Status', fr: 'Statut RGPD', de: 'DSGVO-Status', es: 'Estado RGPD' },
    'GDPR Status Date': {
      renamed: 'Date of GDPR Status',
      fr: 'Date du statut RGPD',
      de: 'DSGVO-Status Datum',
      es: 'Fecha estado RGPD',
    },
    'Date Joined': { renamed: 'Joined On', fr: "Date d'inscription", de: 'Beigetreten am', es: 'Fecha de alta' },
    Source: { renamed: 'Source Channel', fr: 'Origine', de: 'Quelle', es: 'Origen' },
    Score: { renamed: 'Lead Score (0-100)', fr: 'Score', de: 'Punktzahl', es: 'Puntuación' },
    Notes: { renamed: 'Comments', fr: 'Remarques', de: 'Notizen', es: 'Notas' },
    Owner: { renamed: 'Contact Owner', fr: 'Propriétaire', de: 'Verantwortlich', es: 'Propietario' },
    'Email Status': {
      renamed: 'Email Deliverability Status',
      fr: 'Statut e-mail',
      de: 'E-Mail-Status',
      es: 'Estado del correo',
    },
    'Last Activity': {
      renamed: 'Last Activity On',
      fr: 'Dernière activité',
      de: 'Letzte Aktivität',
      es: 'Última actividad',
    },
  },
  deals: {
    'Deal ID': { renamed: 'Deal #', fr: "N° d'affaire", de: 'Geschäfts-Nr.', es: 'Nº de oportunidad' },
    'Deal Name': {
      renamed: 'Opportunity Title',
      fr: "Nom de l'affaire",
      de: 'Name der Verkaufschance',
      es: 'Nombre de la oportunidad',
    },
    'Lead Email': {
      renamed: 'Customer Email',
      fr: 'E-mail du contact',
      de: 'Kontakt-E-Mail',
      es: 'Correo del contacto',
    },
    Pipeline: { renamed: 'Sales Pipeline', fr: 'Pipeline', de: 'Vertriebspipeline', es: 'Embudo' },
    Stage: { renamed: 'Stage Name', fr: 'Étape', de: 'Phase', es: 'Etapa' },
    'Stage Position': {
      renamed: 'Stage Order #',
      fr: "Position de l'étape",
      de: 'Position der Phase',
      es: 'Posición de la etapa',
    },
    Value: { renamed: 'Deal Value ($)', fr: 'Montant', de: 'Betrag', es: 'Importe' },
    'Expected Close Date': {
      renamed: 'Estimated Close Date',
      fr: 'Date de clôture prévue',
      de: 'Voraussichtliches Abschlussdatum',
      es: 'Fecha de cierre prevista',
    },
    Status: { renamed: 'Outcome Status', fr: 'Statut', de: 'Zustand', es: 'Estado' },
    Owner: { renamed: 'Deal Owner', fr: 'Propriétaire', de: 'Verantwortlicher', es: 'Propietario' },
    Created: { renamed: 'Created On', fr: 'Créé le', de: 'Erstellt am', es: 'Fecha de creación' },
    Notes: { renamed: 'Deal Notes', fr: 'Remarques', de: 'Notizen', es: 'Notas' },
  },
  appointments: {
    'Appointment ID': { renamed: 'Booking #', fr: 'N° de rendez-vous', de: 'Termin-Nr.', es: 'ID de la cita' },
    Calendar: { renamed: 'Calendar Title', fr: 'Calendrier', de: 'Kalender', es: 'Calendario' },
    'Appointment Name': {
      renamed: 'Meeting Title',
      fr: 'Titre du rendez-vous',
      de: 'Terminname',
      es: 'Título de la cita',
    },
    Start: { renamed: 'Starts At', fr: 'Début', de: 'Beginn', es: 'Inicio' },
    End: { renamed: 'Ends At', fr: 'Fin', de: 'Ende', es: 'Fin' },
    'Lead Email': {
      renamed: 'Attendee E-mail',
      fr: 'E-mail du participant',
      de: 'E-Mail des Teilnehmers',
      es: 'Correo del asistente',
    },
    Status: { renamed: 'Booking Status', fr: 'Statut', de: 'Zustand', es: 'Estado' },
    Location: { renamed: 'Meeting Location', fr: 'Lieu', de: 'Ort', es: 'Lugar' },
    Notes: { renamed: 'Meeting Notes', fr: 'Remarques', de: 'Notizen', es: 'Notas' },
    Owner: { renamed: 'Assigned Host', fr: 'Hôte', de: 'Gastgeber', es: 'Anfitrión' },
    'Booked On': { renamed: 'Booking Created', fr: 'Réservé le', de: 'Gebucht am', es: 'Reservado el' },
  },
  transactions: {
    'Transaction ID': {
      renamed: 'Transaction #',
      fr: 'N° de transaction',
      de: 'Transaktions-Nr.',
      es: 'ID de transacción',
    },
    Date: {
      renamed: 'Transaction Date/Time',
      fr: 'Date de la transaction',
      de: 'Transaktionsdatum',
      es: 'Fecha de la transacción',
    },
    Type: { renamed: 'Txn Type', fr: 'Type de transaction', de: 'Transaktionsart', es: 'Tipo de transacción' },
    'Lead Email': {
      renamed: 'Buyer E-mail Address',
      fr: "E-mail de l'acheteur",
      de: 'Käufer-E-Mail',
      es: 'Correo del comprador',
    },
    'Product Name': { renamed: 'Product Title', fr: 'Nom du produit', de: 'Produktname', es: 'Nombre del producto' },
    'Price Point': { renamed: 'Price Point Name', fr: 'Point de prix', de: 'Preispunkt', es: 'Punto de precio' },
    Amount: { renamed: 'Amount Paid', fr: 'Montant', de: 'Betrag', es: 'Importe' },
    Quantity: { renamed: 'Quantity Purchased', fr: 'Quantité', de: 'Menge', es: 'Cantidad' },
    'Payment Method': {
      renamed: 'Payment Processor',
      fr: 'Moyen de paiement',
      de: 'Zahlungsmethode',
      es: 'Método de pago',
    },
    Affiliate: { renamed: 'Affiliate Email', fr: 'Affilié', de: 'Partner', es: 'Afiliado' },
  },
  subscriptions: {
    'Subscription ID': { renamed: 'Subscription #', fr: "N° d'abonnement", de: 'Abo-Nr.', es: 'ID de suscripción' },
    'Lead Email': { renamed: 'Subscriber Email', fr: "E-mail de l'abonné", de: 'E-Mail', es: 'Correo del suscriptor' },
    'Product Name': { renamed: 'Product Title', fr: 'Nom du produit', de: 'Produktname', es: 'Nombre del producto' },
    'Price Point': { renamed: 'Price Point Name', fr: 'Point de prix', de: 'Preispunkt', es: 'Punto de precio' },
    Status: { renamed: 'Current Status', fr: 'Statut', de: 'Zustand', es: 'Estado' },
    'Start Date': { renamed: 'Started On', fr: 'Date de début', de: 'Startdatum', es: 'Fecha de inicio' },
    'End Date': { renamed: 'Ended On', fr: 'Date de fin', de: 'Enddatum', es: 'Fecha de fin' },
    'Recurring Period': {
      renamed: 'Billing Frequency',
      fr: 'Fréquence de facturation',
      de: 'Abrechnungsintervall',
      es: 'Periodo de facturación',
    },
    'Next Payment Date': {
      renamed: 'Next Payment On',
      fr: 'Date du prochain paiement',
      de: 'Nächste Zahlung am',
      es: 'Fecha del próximo pago',
    },
    Amount: { renamed: 'Recurring Amount', fr: 'Montant', de: 'Betrag', es: 'Importe' },
  },
  custom_fields: {
    'Field Identifier': {
      renamed: 'Field ID #',
      fr: 'Identifiant du champ',
      de: 'Feld-ID',
      es: 'Identificador del campo',
    },
    'Field Type': { renamed: 'Field Kind', fr: 'Type de champ', de: 'Feldtyp', es: 'Tipo de campo' },
    Options: { renamed: 'Allowed Values', fr: 'Valeurs possibles', de: 'Optionen', es: 'Opciones' },
    Label: { renamed: 'Display Label', fr: 'Libellé', de: 'Bezeichnung', es: 'Nombre visible' },
  },
};

/** The file's object table: "contacts_1.csv" → contacts. */
export function tableOf(fileName: string): Table {
  const name = fileName.replace(/(_\d+)?\.csv$/, '');
  const table = HEADERS[name];
  if (!table) throw new Error(`no header variants for ${fileName}`);
  return table;
}

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** `file` rewritten under the variant's headers (reordered: columns reversed) into `dir`. */
export async function writeVariant(
  file: CsvFile,
  variant: Variant,
  dir: string,
  rename?: (canonical: string) => string | undefined,
): Promise<CsvFile> {
  const table = tableOf(file.name);
  let header: string[] = [];
  const rows: Record<string, string>[] = [];
  for await (const { cells } of readCsv(file, (h) => {
    header = h.header;
  }))
    rows.push(cells);
  const order = variant === 'reordered' ? [...header].reverse() : header;
  const spelled = order.map((h) => rename?.(h) ?? (variant === 'reordered' ? h : (table[h]?.[variant] ?? h)));
  const lines = [spelled.map(csvCell).join(','), ...rows.map((r) => order.map((h) => csvCell(r[h] ?? '')).join(','))];
  mkdirSync(join(dir, variant), { recursive: true });
  const out = { name: file.name, path: join(dir, variant, file.name) };
  writeFileSync(out.path, `${lines.join('\r\n')}\r\n`, 'utf8');
  return out;
}

export async function writeVariants(files: CsvFile[], variant: Variant): Promise<CsvFile[]> {
  const dir = mkdtempSync(join(tmpdir(), `kartra-${variant}-`));
  return Promise.all(files.map((f) => writeVariant(f, variant, dir)));
}
