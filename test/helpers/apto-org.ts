/**
 * A made-up Apto org for the Salesforce stand-in (test/helpers/salesforce-standin.ts): the package
 * objects and fields named as in shared/reference/sources.md §4.1 (namespace `McLabs2__` by
 * default; `McLabs__` or none to prove it is discovered), a company hierarchy given children
 * first plus a loop, contacts over several query batches, a deal chain through every stage, a
 * lost deal, a deal that starts at its Listing, tasks, a logged call and email, an event, an
 * Attachment and a ContentVersion shared with two records.
 */
import type { SalesforceOrg, SfField, SfObject, SfRecord } from './salesforce-standin.js';
import { csvOf, type ZipEntry } from './zip-writer.js';

export const JANE = 'jane.broker@apto-standin.example';
export const BOB = 'bob.unknown@apto-standin.example';

const f = (name: string, type = 'string', extra: Partial<SfField> = {}): SfField => ({
  name,
  label: name
    .replace(/^(McLabs2?__)/, '')
    .replace(/__c$/, '')
    .replace(/_/g, ' '),
  type,
  ...extra,
});

export const PDF = Buffer.concat([
  Buffer.from('%PDF-1.4\n% apto stand-in offering memorandum\n'),
  Buffer.alloc(300_000, 7),
  Buffer.from('\n%%EOF\n'),
]);
export const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

export function aptoOrg(options: { ns?: string; contacts?: number } = {}): SalesforceOrg {
  const ns = options.ns ?? 'McLabs2__';
  const users: SfRecord[] = [
    { Id: '005000000000001AAA', Email: JANE, Name: 'Jane Broker', IsActive: true },
    { Id: '005000000000002AAA', Email: BOB, Name: 'Bob Unknown', IsActive: true },
  ];
  const J = '005000000000001AAA';
  const accounts: SfRecord[] = [
    // children before parents, as an org may answer
    {
      Id: '001000000000003AAA',
      Name: 'Harbor West Retail',
      ParentId: '001000000000002AAA',
      BillingCity: 'Oakland',
      BillingCountry: 'US',
      OwnerId: J,
      CreatedDate: '2021-03-04T10:11:12.000+0000',
      [`${ns}Investor_Type__c`]: 'REIT',
      [`${ns}Square_Footage_Owned__c`]: 120000.5,
    },
    {
      Id: '001000000000002AAA',
      Name: 'Harbor West',
      ParentId: '001000000000001AAA',
      BillingCity: 'San Francisco',
      BillingCountry: 'US',
      OwnerId: J,
      CreatedDate: '2021-02-01T09:00:00.000+0000',
      [`${ns}Investor_Type__c`]: 'Private',
      [`${ns}Square_Footage_Owned__c`]: null,
    },
    {
      Id: '001000000000001AAA',
      Name: 'Harbor Holdings',
      ParentId: null,
      Phone: '+1 415 555 0100',
      Website: 'https://harbor.example',
      BillingCity: 'San Francisco',
      BillingCountry: 'US',
      OwnerId: J,
      CreatedDate: '2020-01-15T08:30:00.000+0000',
      [`${ns}Investor_Type__c`]: 'REIT',
      [`${ns}Square_Footage_Owned__c`]: 900000,
    },
    // a loop: Loop A → Loop B → Loop A
    {
      Id: '001000000000005AAA',
      Name: 'Loop B',
      ParentId: '001000000000004AAA',
      OwnerId: J,
      CreatedDate: '2022-01-01T00:00:00.000+0000',
    },
    {
      Id: '001000000000004AAA',
      Name: 'Loop A',
      ParentId: '001000000000005AAA',
      OwnerId: J,
      CreatedDate: '2022-01-01T00:00:00.000+0000',
    },
  ];
  const n = options.contacts ?? 12;
  const contacts: SfRecord[] = Array.from({ length: n }, (_, i) => ({
    Id: `003000000000${String(i + 1).padStart(3, '0')}AAA`,
    FirstName: `First${i + 1}`,
    LastName: `Last${i + 1}`,
    Email: `contact${i + 1}@apto-standin.example`,
    Title: i === 0 ? 'Managing Partner' : 'Analyst',
    Phone: null,
    AccountId: i % 3 === 0 ? '001000000000001AAA' : i % 3 === 1 ? '001000000000003AAA' : null,
    OwnerId: i === n - 1 ? '005000000000002AAA' : J,
    CreatedDate: `2023-0${(i % 9) + 1}-10T12:00:00.000+0000`,
    [`${ns}Contact_Type__c`]: i % 2 === 0 ? 'Investor' : 'Tenant',
  }));
  const C1 = contacts[0]?.Id as string;
  const stage = (name: string, label: string, prefix: string, fields: SfField[], records: SfRecord[]): SfObject => ({
    name: `${ns}${name}`,
    label,
    keyPrefix: prefix,
    custom: true,
    fields: [
      f('Id', 'id'),
      f('Name'),
      f('RecordTypeId', 'reference'),
      f('OwnerId', 'reference'),
      f('CreatedDate', 'datetime'),
      f('LastModifiedDate', 'datetime'),
      ...fields,
    ],
    records,
  });
  const proposals: SfRecord[] = [
    {
      Id: 'a0P000000000001AAA',
      Name: '100 Harbor Way – disposition',
      RecordTypeId: '012000000000001AAA',
      OwnerId: J,
      CreatedDate: '2024-01-10T15:04:05.000+0000',
      [`${ns}Client__c`]: C1,
      [`${ns}Client_Company__c`]: '001000000000001AAA',
      [`${ns}Status__c`]: 'Won',
      [`${ns}List_Probability__c`]: 40,
    },
    {
      Id: 'a0P000000000002AAA',
      Name: 'Pier 7 lease-up',
      RecordTypeId: '012000000000002AAA',
      OwnerId: J,
      CreatedDate: '2024-02-01T09:00:00.000+0000',
      [`${ns}Client__c`]: null,
      [`${ns}Client_Company__c`]: '001000000000002AAA',
      [`${ns}Status__c`]: 'Active',
      [`${ns}List_Probability__c`]: 20,
    },
    {
      Id: 'a0P000000000003AAA',
      Name: 'Dockside sale',
      RecordTypeId: '012000000000001AAA',
      OwnerId: J,
      CreatedDate: '2024-03-01T09:00:00.000+0000',
      [`${ns}Client__c`]: contacts[1]?.Id ?? null,
      [`${ns}Client_Company__c`]: null,
      [`${ns}Status__c`]: 'Won',
      [`${ns}List_Probability__c`]: 30,
    },
  ];
  const listings: SfRecord[] = [
    {
      Id: 'a0L000000000001AAA',
      Name: '100 Harbor Way',
      OwnerId: J,
      CreatedDate: '2024-02-01T10:00:00.000+0000',
      [`${ns}Proposal__c`]: 'a0P000000000001AAA',
      [`${ns}Asking_Price_Actual__c`]: 2500000,
      [`${ns}Status__c`]: 'Active',
      [`${ns}Probability__c`]: 60,
      [`${ns}Date_On_Market__c`]: '2024-02-05',
    },
    {
      Id: 'a0L000000000003AAA',
      Name: 'Dockside',
      OwnerId: J,
      CreatedDate: '2024-04-01T10:00:00.000+0000',
      [`${ns}Proposal__c`]: 'a0P000000000003AAA',
      [`${ns}Asking_Price_Actual__c`]: 900000,
      [`${ns}Status__c`]: 'Withdrawn',
      [`${ns}Probability__c`]: 10,
      [`${ns}Date_On_Market__c`]: null,
    },
    {
      Id: 'a0L000000000004AAA',
      Name: 'Warehouse 12 (no proposal)',
      OwnerId: J,
      CreatedDate: '2024-05-01T10:00:00.000+0000',
      [`${ns}Proposal__c`]: null,
      [`${ns}Asking_Price_Actual__c`]: 450000,
      [`${ns}Status__c`]: 'Active',
      [`${ns}Probability__c`]: 25,
      [`${ns}Date_On_Market__c`]: null,
    },
  ];
  const escrows: SfRecord[] = [
    {
      Id: 'a0E000000000001AAA',
      Name: 'Escrow 100 Harbor',
      OwnerId: J,
      CreatedDate: '2024-03-15T11:00:00.000+0000',
      [`${ns}Listing__c`]: 'a0L000000000001AAA',
      [`${ns}Proposal__c`]: 'a0P000000000001AAA',
      [`${ns}Contract_Price__c`]: 2400000,
      [`${ns}Close_of_Escrow__c`]: '2024-05-30',
      [`${ns}Status__c`]: 'Closed',
    },
  ];
  const sales: SfRecord[] = [
    {
      Id: 'a0S000000000001AAA',
      Name: 'Comp 100 Harbor',
      OwnerId: J,
      CreatedDate: '2024-06-01T16:00:00.000+0000',
      [`${ns}Escrow__c`]: 'a0E000000000001AAA',
      [`${ns}Listing__c`]: 'a0L000000000001AAA',
      [`${ns}Proposal__c`]: 'a0P000000000001AAA',
      [`${ns}Sale_Price__c`]: 2350000,
      [`${ns}Sale_Date__c`]: '2024-06-01',
    },
  ];
  const ref = (name: string, to: string) => f(`${ns}${name}`, 'reference', { referenceTo: [`${ns}${to}`] });
  const objects: SfObject[] = [
    {
      name: 'User',
      label: 'User',
      keyPrefix: '005',
      fields: ['Id', 'Email', 'Name', 'IsActive'].map((x) => f(x)),
      records: users,
    },
    {
      name: 'RecordType',
      label: 'Record Type',
      keyPrefix: '012',
      fields: ['Id', 'Name', 'SobjectType'].map((x) => f(x)),
      records: [
        { Id: '012000000000001AAA', Name: 'Investment Sales', SobjectType: `${ns}Proposal__c` },
        { Id: '012000000000002AAA', Name: 'Leasing', SobjectType: `${ns}Proposal__c` },
      ],
    },
    {
      name: 'Account',
      label: 'Company',
      keyPrefix: '001',
      fields: [
        f('Id', 'id'),
        f('Name'),
        f('ParentId', 'reference'),
        f('Phone', 'phone'),
        f('Website', 'url'),
        f('BillingCity'),
        f('BillingCountry'),
        f('BillingAddress', 'address'),
        f('OwnerId', 'reference'),
        f('CreatedDate', 'datetime'),
        f('Jigsaw'),
        f(`${ns}Investor_Type__c`, 'picklist', { picklist: ['REIT', 'Private', 'Institutional'] }),
        f(`${ns}Square_Footage_Owned__c`, 'double'),
      ],
      records: accounts,
    },
    {
      name: 'Contact',
      label: 'Contact',
      keyPrefix: '003',
      fields: [
        f('Id', 'id'),
        f('FirstName'),
        f('LastName'),
        f('Email', 'email'),
        f('Title'),
        f('Phone', 'phone'),
        f('AccountId', 'reference'),
        f('OwnerId', 'reference'),
        f('CreatedDate', 'datetime'),
        f(`${ns}Contact_Type__c`, 'picklist', { picklist: ['Investor', 'Tenant', 'Broker'] }),
      ],
      records: contacts,
    },
    stage(
      'Proposal__c',
      'Proposal',
      'a0P',
      [
        ref('Client__c', 'Contact'),
        f(`${ns}Client_Company__c`, 'reference', { referenceTo: ['Account'] }),
        f(`${ns}Status__c`, 'picklist', { picklist: ['Active', 'Won', 'Lost'] }),
        f(`${ns}List_Probability__c`, 'percent'),
      ],
      proposals,
    ),
    stage(
      'Listing__c',
      'Listing',
      'a0L',
      [
        ref('Proposal__c', 'Proposal__c'),
        f(`${ns}Asking_Price_Actual__c`, 'currency'),
        f(`${ns}Status__c`, 'picklist', { picklist: ['Active', 'Withdrawn', 'Sold'] }),
        f(`${ns}Probability__c`, 'percent'),
        f(`${ns}Date_On_Market__c`, 'date'),
      ],
      listings,
    ),
    stage(
      'Escrow__c',
      'Project',
      'a0E',
      [
        ref('Listing__c', 'Listing__c'),
        ref('Proposal__c', 'Proposal__c'),
        f(`${ns}Contract_Price__c`, 'currency'),
        f(`${ns}Close_of_Escrow__c`, 'date'),
        f(`${ns}Status__c`, 'picklist', { picklist: ['Open', 'Closed'] }),
      ],
      escrows,
    ),
    stage(
      'Sale__c',
      'Comp',
      'a0S',
      [
        ref('Escrow__c', 'Escrow__c'),
        ref('Listing__c', 'Listing__c'),
        ref('Proposal__c', 'Proposal__c'),
        f(`${ns}Sale_Price__c`, 'currency'),
        f(`${ns}Sale_Date__c`, 'date'),
      ],
      sales,
    ),
    {
      name: 'Task',
      label: 'Task',
      keyPrefix: '00T',
      fields: [
        'Id',
        'Subject',
        'Description',
        'ActivityDate',
        'Status',
        'Priority',
        'IsClosed',
        'TaskSubtype',
        'CallType',
        'CallDurationInSeconds',
        'CompletedDateTime',
        'WhoId',
        'WhatId',
        'OwnerId',
        'CreatedDate',
      ].map((x) => f(x)),
      records: [
        {
          Id: '00T000000000001AAA',
          Subject: 'Send the offering memorandum',
          Description: 'OM v2 with rent roll',
          ActivityDate: '2025-12-31',
          Status: 'Not Started',
          Priority: 'High',
          IsClosed: false,
          TaskSubtype: 'Task',
          CallType: null,
          CallDurationInSeconds: null,
          CompletedDateTime: null,
          WhoId: C1,
          WhatId: null,
          OwnerId: J,
          CreatedDate: '2024-06-02T08:00:00.000+0000',
        },
        {
          Id: '00T000000000002AAA',
          Subject: 'Call: pricing feedback',
          Description: 'Buyer wants 2.3M',
          ActivityDate: '2024-04-02',
          Status: 'Completed',
          Priority: 'Normal',
          IsClosed: true,
          TaskSubtype: 'Call',
          CallType: 'Outbound',
          CallDurationInSeconds: 420,
          CompletedDateTime: '2024-04-02T17:30:00.000+0000',
          WhoId: C1,
          WhatId: 'a0L000000000001AAA',
          OwnerId: J,
          CreatedDate: '2024-04-02T17:00:00.000+0000',
        },
        {
          Id: '00T000000000003AAA',
          Subject: 'Email: LOI received',
          Description: 'Please find the LOI attached.',
          ActivityDate: '2024-04-10',
          Status: 'Completed',
          Priority: 'Normal',
          IsClosed: true,
          TaskSubtype: 'Email',
          CallType: null,
          CallDurationInSeconds: null,
          CompletedDateTime: '2024-04-10T09:15:00.000+0000',
          WhoId: null,
          WhatId: '001000000000001AAA',
          OwnerId: J,
          CreatedDate: '2024-04-10T09:15:00.000+0000',
        },
      ],
    },
    {
      name: 'Event',
      label: 'Event',
      keyPrefix: '00U',
      fields: [
        'Id',
        'Subject',
        'Description',
        'Location',
        'StartDateTime',
        'EndDateTime',
        'IsAllDayEvent',
        'WhoId',
        'WhatId',
        'OwnerId',
        'CreatedDate',
      ].map((x) => f(x)),
      records: [
        {
          Id: '00U000000000001AAA',
          Subject: 'Property tour',
          Description: 'Walk the site',
          Location: '100 Harbor Way',
          StartDateTime: '2024-03-20T18:00:00.000+0000',
          EndDateTime: '2024-03-20T19:00:00.000+0000',
          IsAllDayEvent: false,
          WhoId: C1,
          WhatId: 'a0P000000000001AAA',
          OwnerId: J,
          CreatedDate: '2024-03-18T10:00:00.000+0000',
        },
      ],
    },
    {
      name: 'Attachment',
      label: 'Attachment',
      keyPrefix: '00P',
      fields: ['Id', 'ParentId', 'Name', 'ContentType', 'BodyLength', 'Description', 'OwnerId', 'CreatedDate'].map(
        (x) => f(x),
      ),
      records: [
        {
          Id: '00P000000000001AAA',
          ParentId: 'a0L000000000001AAA',
          Name: 'Offering Memorandum.pdf',
          ContentType: 'application/pdf',
          BodyLength: PDF.length,
          Description: 'OM',
          OwnerId: J,
          CreatedDate: '2024-02-02T10:00:00.000+0000',
        },
      ],
    },
    {
      name: 'ContentVersion',
      label: 'Content Version',
      keyPrefix: '068',
      fields: [
        'Id',
        'ContentDocumentId',
        'Title',
        'PathOnClient',
        'FileExtension',
        'FileType',
        'ContentSize',
        'Description',
        'OwnerId',
        'CreatedDate',
        'IsLatest',
      ].map((x) => f(x)),
      records: [
        {
          Id: '068000000000001AAA',
          ContentDocumentId: '069000000000001AAA',
          Title: 'Site photo',
          PathOnClient: 'site-photo.png',
          FileExtension: 'png',
          FileType: 'PNG',
          ContentSize: PNG.length,
          Description: null,
          OwnerId: J,
          CreatedDate: '2024-03-21T10:00:00.000+0000',
          IsLatest: true,
        },
      ],
    },
    {
      name: 'ContentDocumentLink',
      label: 'Content Document Link',
      keyPrefix: '06A',
      fields: ['Id', 'ContentDocumentId', 'LinkedEntityId'].map((x) => f(x)),
      records: [
        { Id: '06A000000000001AAA', ContentDocumentId: '069000000000001AAA', LinkedEntityId: '001000000000001AAA' },
        { Id: '06A000000000002AAA', ContentDocumentId: '069000000000001AAA', LinkedEntityId: C1 },
        { Id: '06A000000000003AAA', ContentDocumentId: '069000000000001AAA', LinkedEntityId: J },
      ],
    },
  ];
  return {
    objects,
    blobs: { '00P000000000001AAA': PDF, '068000000000001AAA': PNG },
    toolingRecords: {
      WorkflowRule: [
        { Id: '01Q000000000001AAA', Name: 'Notify broker on new listing', TableEnumOrId: `${ns}Listing__c` },
      ],
    },
  };
}

/** the same org as a Salesforce Data Export zip: one CSV per object (every field, API names as headers), Attachments/<Id>, ContentVersion/<Id> */
export function aptoExportEntries(ns = 'McLabs2__'): ZipEntry[] {
  const org = aptoOrg({ ns });
  const entries: ZipEntry[] = [];
  for (const o of org.objects) {
    const header = o.fields.filter((x) => x.type !== 'address').map((x) => x.name);
    entries.push({ name: `${o.name}.csv`, data: csvOf(o.records, header), deflate: true });
  }
  entries.push({ name: 'Attachments/', data: Buffer.alloc(0) });
  entries.push({ name: 'Attachments/00P000000000001AAA', data: PDF, deflate: true });
  entries.push({ name: 'ContentVersion/068000000000001AAA', data: PNG });
  return entries;
}
