/**
 * What a header says, word by word, whatever its language or spelling: "Deal #", "N° d'affaire",
 * "Geschäfts-Nr." and "deal_id" all say {deal, id}. Words are lower-cased, accents dropped,
 * camelCase and compounds split ("Erstellungsdatum" → created + date), then each is mapped to a
 * concept (English) through a small glossary of the words CRM exports use in English, French,
 * German, Spanish, Italian, Dutch and Portuguese. Filler words ("of", "de", "der", "am") go.
 */

/** word (accent-free, lower case) → concept(s), several joined by "+" ("vorname" → first+name) */
const GLOSSARY: Record<string, string> = {};

function add(concept: string, words: string): void {
  for (const w of words.split(',')) {
    const word = w.trim();
    if (word !== '') GLOSSARY[word] = concept;
  }
}

add(
  'id',
  'id,ids,#,no,nr,nro,num,number,numero,nummer,numer,identifier,identifiant,ident,identificador,kennung,key,uid,uuid,n,nb',
);
add(
  'name',
  'name,names,nom,nombre,nome,naam,title,titel,titre,titulo,titolo,bezeichnung,label,libelle,designation,subject,sujet,betreff,asunto,oggetto',
);
add('first', 'first,given,fore,primer,erster,premier');
add('first+name', 'forename,firstname,prenom,vorname,voornaam');
add('last', 'last,family,famille,familia,familie,derniere,dernier,letzte,letzter,ultima,ultimo');
add('last+name', 'surname,lastname,nachname,familienname,apellido,apellidos,achternaam,cognome,sobrenome');
add('middle', 'middle,segundo,deuxieme,second,zweiter,zweite');
add('email', 'email,emails,mail,courriel,correo,electronico,posta,elettronica,emailadres,emailadresse,mailadresse');
add(
  'phone',
  'phone,telephone,tel,telefon,telefono,telefoon,telefoonnummer,fon,mobile,mobil,movil,portable,cell,handy,telemovel',
);
add(
  'contact',
  'contact,contacts,kontakt,contacto,contatto,lead,leads,client,cliente,clientes,customer,kunde,kunden,klant,buyer,acheteur,kaufer,kaeufer,comprador,abonne,abonnee,suscriptor,subscriber,abonnent,acquirente,attendee,participant,teilnehmer,asistente,person,personne,persona',
);
add(
  'company',
  'company,societe,entreprise,firma,unternehmen,empresa,azienda,bedrijf,organization,organisation,organizacion,account',
);
add(
  'deal',
  'deal,deals,opportunity,opportunities,opportunite,affaire,affaires,oportunidad,opportunita,geschaft,geschaeft,geschaefts,geschafts,verkaufschance,chance,chancen,kans,negocio,trato',
);
add('pipeline', 'pipeline,pipe,funnel,entonnoir,embudo,tunnel,trichter,vertriebspipeline,canal');
add('stage', 'stage,stages,etape,etapa,phase,fase,stufe,step,schritt');
add('status', 'status,statut,estado,stato,zustand');
add('position', 'position,order,ordre,orden,ordine,reihenfolge,sequence,sequenz,rang,rank,posicion,positie,volgorde');
add(
  'value',
  'value,amount,montant,valeur,betrag,wert,importe,valor,valore,bedrag,total,summe,sum,somme,price,prix,preis,precio,prezzo,prijs,revenue,umsatz,ingresos,chiffre',
);
add(
  'expected',
  'expected,prevue,prevu,prevision,erwartet,erwartete,erwarteter,voraussichtlich,voraussichtliches,esperado,esperada,prevista,previsto,verwacht,estimated,estime',
);
add('close', 'close,closing,closed,cloture,fermeture,abschluss,cierre,chiusura,afsluiting,fechamento');
add('date', 'date,datum,fecha,data,day,jour,dia,time,heure,zeit,hora,when,datetime,timestamp');
add(
  'created',
  'created,creation,cree,creee,create,erstellt,erstellung,angelegt,anlage,erfasst,creado,creada,creacion,alta,creato,creazione,aangemaakt,criado,criacao,added,ajoute,ajout,hinzugefugt,joined,beigetreten,inscription,signup,registered,registriert,registro,booked,reserve,gebucht,reservado',
);
add(
  'owner',
  'owner,proprietaire,responsable,besitzer,inhaber,verantwortlich,verantwortlicher,propietario,proprietario,eigenaar,assigned,assignee,attribue,zugewiesen,asignado,rep,salesperson,seller,vendeur,vendedor,verkaufer,host,gastgeber,anfitrion,hote,commercial',
);
add(
  'notes',
  'notes,note,notiz,notizen,remarque,remarques,nota,notas,opmerking,opmerkingen,comment,comments,commentaire,commentaires,kommentar,comentario,comentarios,description,beschreibung,descripcion,descrizione,omschrijving,bemerkung',
);
add(
  'transaction',
  'transaction,transactions,transaktion,transaccion,transazione,transactie,payment,paiement,zahlung,pago,pagamento,betaling,purchase,achat,kauf,compra,acquisto',
);
add(
  'product',
  'product,products,produit,produits,produkt,produkte,producto,productos,prodotto,item,article,artikel,articulo,offer,offre,angebot,oferta',
);
add('quantity', 'quantity,qty,quantite,menge,anzahl,cantidad,quantita,aantal,stuck,units');
add(
  'method',
  'method,methode,methodo,metodo,moyen,medio,mode,processor,gateway,prestataire,anbieter,pasarela,provider',
);
add(
  'affiliate',
  'affiliate,affilie,affiliation,affiliate,afiliado,affiliato,partenaire,partner,referrer,parrain,werber',
);
add('type', 'type,typ,art,tipo,kind,sorte,soort,genre,categorie,category,kategorie,categoria');
add(
  'subscription',
  'subscription,subscriptions,abonnement,abonnements,abo,suscripcion,abbonamento,membership,adhesion,mitgliedschaft,recurring,recurrent,recurrente,wiederkehrend',
);
add('start', 'start,started,starts,begin,beginning,debut,beginn,anfang,inicio,comienzo,inizio,from,desde,von,ab');
add('end', 'end,ended,ends,ende,fin,final,fine,until,hasta,bis,expiry,expiration,ablauf');
add(
  'period',
  'period,periode,periodo,frequency,frequence,haufigkeit,haeufigkeit,frecuencia,frequenza,interval,intervalle,intervall,intervalo,cycle,zyklus,ciclo,billing,facturation,abrechnung,facturacion,rhythmus',
);
add('next', 'next,prochain,prochaine,nachste,naechste,nachster,proximo,proxima,siguiente,prossimo,volgende');
add(
  'appointment',
  'appointment,appointments,booking,bookings,rendezvous,rdv,termin,termine,cita,citas,appuntamento,afspraak,meeting,reunion,besprechung,reservation,reservierung,reserva',
);
add('calendar', 'calendar,calendrier,kalender,calendario,agenda');
add('location', 'location,lieu,ort,ubicacion,lugar,luogo,locatie,place,venue,adresse,address,direccion,indirizzo');
add('address', 'street,rue,strasse,calle,via,straat');
add('city', 'city,town,ville,stadt,ciudad,citta,plaats');
add('zip', 'zip,postal,postcode,plz,postleitzahl,cp,cap,postcode');
add('country', 'country,pays,land,pais,paese');
add('job', 'job,function,fonction,funktion,puesto,cargo,beruf,funzione,functie');
add('industry', 'industry,industrie,branche,secteur,sector,settore,sektor');
add(
  'employees',
  'employees,employee,mitarbeiter,mitarbeitende,employes,salaries,effectif,empleados,dipendenti,medewerkers,headcount',
);
add('region', 'region,province,provinz,provincia,bundesland,county,departement,state,etat');
add('website', 'website,site,web,url,homepage,webseite,sitio,sito');
add('tags', 'tags,tag,etiquette,etiquettes,etiqueta,etiquetas,schlagwort,schlagworter,labels,segment,segments');
add('lists', 'lists,list,liste,listes,lista,listas,listen');
add('source', 'source,herkunft,quelle,origen,origine,fuente,bron,channel');
add('score', 'score,punktzahl,puntuacion,punteggio,scoring,rating');
add('last_activity', 'activity,activite,aktivitat,aktivitaet,actividad,attivita,opened,ouvert,geoffnet');
add('gdpr', 'gdpr,rgpd,dsgvo,consent,consentement,einwilligung,consentimiento');
add('blacklisted', 'blacklisted,blacklist,blocked,bloque,gesperrt,bloqueado,optout,unsubscribed,desabonne');
add('field', 'field,champ,feld,campo,veld');
add('options', 'options,option,optionen,opciones,opzioni,values,valeurs,werte,valores,choices,choix');
add('phone+code', 'calling,dial,indicatif,vorwahl,prefijo,prefisso');
add('country+phone+code', 'landesvorwahl');
add('point', 'point,punkt,punto,niveau,tier');
add('code', 'code,codigo,codice,kode');
add('won', 'won,gagne,gewonnen,ganado,vinto');

/** words that say nothing about the column */
const FILLER = new Set([
  'of',
  'the',
  'a',
  'an',
  'in',
  'on',
  'at',
  'for',
  'by',
  'to',
  'is',
  'de',
  'du',
  'des',
  'la',
  'le',
  'les',
  'l',
  'd',
  'et',
  'und',
  'y',
  'e',
  'and',
  'der',
  'die',
  'das',
  'dem',
  'den',
  'des',
  'am',
  'im',
  'vom',
  'zum',
  'zur',
  'el',
  'los',
  'las',
  'del',
  'al',
  'en',
  'il',
  'lo',
  'di',
  'da',
  'het',
  'van',
  'op',
  'current',
  'actuel',
  'actuelle',
  'aktuell',
  'aktueller',
  'aktuelle',
  'actual',
  'attuale',
  'huidige',
  'current',
  'optional',
  'opt',
  'in',
  'eur',
  'usd',
  'utc',
  'gmt',
  'x',
]);

/** German/Dutch compounds: the longest known word at the end ("Erstellungsdatum" → erstellungs + datum) */
const COMPOUND_TAILS = [
  'punkt',
  'datum',
  'name',
  'nummer',
  'adresse',
  'betrag',
  'wert',
  'status',
  'typ',
  'art',
  'phase',
  'stufe',
  'preis',
  'menge',
  'termin',
  'ort',
  'zeit',
  'mail',
  'nr',
  'id',
  'methode',
  'anbieter',
  'periode',
  'intervall',
  'naam',
  'datum',
];

/** "Erstellungs" → "erstellung", "Geschäfts" → "geschaft": the linking -s of German compounds */
function stem(word: string): string[] {
  const out = [word];
  if (word.endsWith('s') && word.length > 4) out.push(word.slice(0, -1));
  return out;
}

function conceptOf(word: string): string | undefined {
  for (const w of stem(word)) {
    const c = GLOSSARY[w];
    if (c) return c;
  }
  return undefined;
}

/** The words of a header: camelCase and separators split, accents dropped, "#" kept as a word. */
export function headerWords(header: string): string[] {
  return [...wordsOf(header)];
}

/** A pure function of a header, remembered: every rule of a mapping compares itself with every header. */
function remembered(compute: (header: string) => string[]): (header: string) => string[] {
  const cache = new Map<string, string[]>();
  return (header) => {
    let v = cache.get(header);
    if (v === undefined) {
      v = compute(header);
      if (cache.size > 50_000) cache.clear();
      cache.set(header, v);
    }
    return v;
  };
}

const wordsOf = remembered((header) => splitWords(header));

function splitWords(header: string): string[] {
  const spaced = header
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .toLowerCase()
    .replace(/n[°º]/g, ' # ')
    .replace(/#/g, ' # ')
    .replace(/e-mail/g, 'email')
    .replace(/rendez-vous/g, 'rendezvous');
  return spaced.split(/[^a-z0-9#]+/).filter((w) => w !== '');
}

/** The concepts a header names, in order, without repeats (unknown words are kept as they are). */
export function headerConcepts(header: string): string[] {
  return [...conceptsMemo(header)];
}

const conceptsMemo = remembered((header) => conceptsOf(header));

function conceptsOf(header: string): string[] {
  const out: string[] = [];
  const push = (c: string) => {
    if (!out.includes(c)) out.push(c);
  };
  for (const word of headerWords(header)) {
    if (FILLER.has(word)) continue;
    const known = conceptOf(word);
    if (known) {
      known.split('+').forEach(push);
      continue;
    }
    const tail = COMPOUND_TAILS.find((t) => word.length > t.length + 2 && word.endsWith(t));
    if (tail) {
      const head = word.slice(0, -tail.length);
      (conceptOf(head) ?? head).split('+').forEach(push);
      (conceptOf(tail) ?? tail).split('+').forEach(push);
      continue;
    }
    push(word);
  }
  return out;
}

/**
 * How well a header says what a column spelling says (0..1): the share of the spelling's
 * concepts the header names (most weight) and the share of the header's concepts the spelling
 * names. "Stage (current)" ~ "Stage": 1; "Stage Name" ~ "Stage": 0.85; "Status" ~ "State": 0.
 */
export function conceptSimilarity(header: string, spelling: string): number {
  const h = headerConcepts(header);
  const s = headerConcepts(spelling);
  if (h.length === 0 || s.length === 0) return 0;
  const common = s.filter((c) => h.includes(c)).length;
  if (common === 0) return 0;
  return 0.7 * (common / s.length) + 0.3 * (common / h.length);
}

/** Words that tell a header's language (accent-free, lower case); English is the default. */
const LANGUAGE_WORDS: Record<string, string[]> = {
  fr: [
    'prenom',
    'nom',
    'courriel',
    'telephone',
    'societe',
    'ville',
    'pays',
    'adresse',
    'cree',
    'creee',
    'creation',
    'de',
    'du',
    'le',
    'la',
    'des',
    'etiquettes',
    'entreprise',
    'montant',
    'affaire',
    'etape',
    'statut',
    'proprietaire',
    'remarques',
    'fidele',
    'couleur',
    'preferee',
    'mise',
    'jour',
    'modifie',
  ],
  de: [
    'vorname',
    'nachname',
    'firma',
    'stadt',
    'strasse',
    'plz',
    'land',
    'erstellt',
    'am',
    'erstellungsdatum',
    'angelegt',
    'telefon',
    'telefonnummer',
    'der',
    'die',
    'das',
    'und',
    'geandert',
    'aktualisiert',
    'schlagworter',
    'betrag',
    'notizen',
    'kunden',
    'kundennummer',
    'geburtsdatum',
    'anrede',
    'ort',
  ],
  es: [
    'nombre',
    'apellido',
    'apellidos',
    'correo',
    'ciudad',
    'empresa',
    'pais',
    'fecha',
    'creacion',
    'alta',
    'del',
    'el',
    'los',
    'las',
    'telefono',
    'direccion',
    'etiquetas',
    'importe',
    'notas',
    'propietario',
    'estado',
    'movil',
  ],
  it: [
    'cognome',
    'citta',
    'azienda',
    'paese',
    'indirizzo',
    'creato',
    'il',
    'della',
    'telefono',
    'cellulare',
    'data',
    'creazione',
  ],
  nl: [
    'voornaam',
    'achternaam',
    'bedrijf',
    'plaats',
    'aangemaakt',
    'op',
    'het',
    'van',
    'telefoonnummer',
    'emailadres',
    'mobiel',
  ],
  pt: ['sobrenome', 'cidade', 'empresa', 'criado', 'em', 'data', 'criacao', 'telemovel', 'morada'],
};

/**
 * The language most of the headers are written in (fr, de, es, it, nl, pt), or null for English
 * or no clear answer. Words several languages share count for each.
 */
export function headerLanguage(headers: string[]): string | null {
  const score = new Map<string, number>();
  for (const header of headers) {
    const words = new Set(headerWords(header));
    for (const [language, list] of Object.entries(LANGUAGE_WORDS)) {
      if (list.some((w) => words.has(w))) score.set(language, (score.get(language) ?? 0) + 1);
    }
  }
  const ranked = [...score.entries()].sort((a, b) => b[1] - a[1]);
  const [first, second] = ranked;
  if (!first || first[1] < 2 || (second && second[1] === first[1])) return null;
  return first[0];
}

/** The share of the header's words (fillers aside) the glossary knows; 1: its meaning is certain. */
export function understoodShare(header: string): number {
  const words = headerWords(header).filter((w) => !FILLER.has(w));
  if (words.length === 0) return 0;
  return words.filter((w) => conceptOf(w) !== undefined || /^\d+$/.test(w)).length / words.length;
}

/** Every word of the header (fillers aside) is one the glossary knows: its meaning is certain. */
export function understood(header: string): boolean {
  return understoodShare(header) === 1;
}
