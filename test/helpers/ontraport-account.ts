/**
 * A small Ontraport account for the stand-in of its REST API (test/helpers/ontraport-standin.ts),
 * in the API's own field names and encodings (shared/reference/sources.md §2.2): users (object 2)
 * whose ids contacts and deals name as `owner`; tags (14) whose ids contacts list in
 * `contact_cat` between `*`/`*`; contacts (0) with `bulk_mail` and `priority` as numbers, dates as
 * Unix seconds and 0 for "never", a custom field `f1420`; companies (150); deals (149) whose
 * `sales_stage` is a dropdown option id and `primary_contact` a contact id; tasks (1) with
 * their contact id, owner id, status number and Unix-time due/completion dates. The metadata says
 * which field is a timestamp or a dropdown (with its options) and names the custom field.
 */
import type { StandinOptions } from './ontraport-standin.js';

type Rec = Record<string, string | number | null>;
const BULK = [1, 2, 0, -2, -5];
const PRIORITY = [8, 9, 10, 0];

/** the pipeline's stages in their order (option ids ascending) */
export const STAGES: Record<string, string> = { 1: 'Prospect', 2: 'Proposal', 3: 'Closed Won', 4: 'Closed Lost' };

export function ontraportAccount(contacts: number): Required<Pick<StandinOptions, 'contacts' | 'objects' | 'meta'>> {
  const users: Rec[] = [
    { id: '1', firstname: 'Jane', lastname: 'Sales', email: 'jane.sales@example.com' },
    { id: '2', firstname: 'Olaf', lastname: 'Unknown', email: 'olaf.unknown@example.com' },
  ];
  const tags: Rec[] = [
    { tag_id: '11', tag_name: 'VIP', object_type_id: '0' },
    { tag_id: '12', tag_name: 'Newsletter', object_type_id: '0' },
  ];
  const people: Rec[] = Array.from({ length: contacts }, (_, i) => ({
    id: String(i + 1),
    owner: i % 10 === 9 ? '2' : '1',
    firstname: `First${i + 1}`,
    lastname: `Last${i + 1}`,
    email: `contact${i + 1}@op-standin.example`,
    company: i % 2 === 0 ? 'Orbital Standin Rockets' : '',
    office_phone: i === 0 ? '+1 805 555 0100' : null,
    city: 'Santa Barbara',
    state: 'CA',
    country: 'US',
    status: i % 2 === 0 ? '2' : '1',
    bulk_mail: BULK[i % BULK.length] as number,
    priority: PRIORITY[i % PRIORITY.length] as number,
    contact_cat: i % 3 === 0 ? '*/*11*/*12*/*' : i % 3 === 1 ? '*/*12*/*' : '',
    date: String(1700000000 + i * 3600),
    dla: i % 4 === 0 ? '0' : String(1710000000 + i * 60),
    dlm: String(1711000000 + i * 60),
    f1420: i % 2 === 0 ? 'Falcon' : 'Saturn',
    unique_id: `U${1000 + i}`,
    ip_addy: '203.0.113.7',
    n_lead_source: '0',
    ccType: '1',
    ccNumber: '1111',
    ccExpirationMonth: '12',
  }));
  const companies: Rec[] = [
    {
      id: '1',
      name: 'Orbital Standin Rockets',
      phone: '+1 805 555 0199',
      industry: 'Aerospace',
      employee_count: '120',
      city: 'Santa Barbara',
      state: 'CA',
      zipcode: '93101',
      country: 'US',
      owner: '1',
      date: '1690000000',
      dlm: '0',
    },
  ];
  const deals: Rec[] = [
    {
      id: '1',
      name: 'Rocket fuel contract',
      value: '25000',
      sales_stage: '2',
      expected_win_percent: '40',
      expected_close_date: '1735603200',
      actual_close_date: '0',
      primary_contact: '1',
      owner: '1',
      date: '1712000000',
      contact_cat: '',
    },
    {
      id: '2',
      name: 'Launch pad lease',
      value: '9000',
      sales_stage: '3',
      expected_win_percent: '100',
      expected_close_date: '1719705600',
      actual_close_date: '1719000000',
      primary_contact: '2',
      owner: '1',
      date: '1712100000',
      contact_cat: '',
    },
    {
      id: '3',
      name: 'Nose cone redesign',
      value: '4000',
      sales_stage: '4',
      expected_win_percent: '0',
      expected_close_date: '1719705600',
      actual_close_date: '1718000000',
      primary_contact: '3',
      owner: '1',
      date: '1712200000',
      contact_cat: '',
    },
  ];
  const tasks: Rec[] = [
    {
      id: '1',
      owner: '1',
      contact_id: '1',
      subject: 'Send the fuel quote',
      details: 'Two tanker loads',
      type: '0',
      date_assigned: '1712000000',
      date_due: '1735603200',
      date_complete: '0',
      status: '0',
    },
    {
      id: '2',
      owner: '1',
      contact_id: '2',
      subject: 'Call about the lease',
      details: '',
      type: '0',
      date_assigned: '1712100000',
      date_due: '1719705600',
      date_complete: '1719000000',
      status: '1',
    },
  ];
  const ts = { type: 'timestamp' };
  return {
    contacts: people,
    objects: { 0: people, 1: tasks, 2: users, 14: tags, 149: deals, 150: companies },
    meta: {
      0: {
        firstname: { alias: 'First Name', type: 'text' },
        lastname: { alias: 'Last Name', type: 'text' },
        email: { alias: 'Email', type: 'email' },
        owner: { alias: 'Owner', type: 'parent' },
        status: { alias: 'Sales Stage', type: 'drop', options: { 1: 'Lead', 2: 'Customer' } },
        bulk_mail: { alias: 'Bulk Email Status', type: 'check' },
        priority: { alias: 'Priority', type: 'drop' },
        contact_cat: { alias: 'Contact Tags', type: 'subscription' },
        date: { alias: 'Date Added', ...ts },
        dla: { alias: 'Date of Last Activity', ...ts },
        dlm: { alias: 'Date Modified', ...ts },
        f1420: { alias: 'Rocket Model', type: 'text' },
      },
      149: {
        name: { alias: 'Name', type: 'text' },
        sales_stage: { alias: 'Sales Stage', type: 'drop', options: STAGES },
        expected_close_date: { alias: 'Expected Close Date', ...ts },
        actual_close_date: { alias: 'Actual Close Date', ...ts },
        date: { alias: 'Date Added', ...ts },
        primary_contact: { alias: 'Primary Contact', type: 'parent' },
      },
      150: {
        name: { alias: 'Name', type: 'text' },
        date: { alias: 'Date Added', ...ts },
        dlm: { alias: 'Date Modified', ...ts },
      },
      1: {
        subject: { alias: 'Subject', type: 'text' },
        owner: { alias: 'Owner', type: 'parent' },
        contact_id: { alias: 'Contact', type: 'parent' },
        date_assigned: { alias: 'Date Assigned', ...ts },
        date_due: { alias: 'Date Due', ...ts },
        date_complete: { alias: 'Date Complete', ...ts },
      },
    },
  };
}
