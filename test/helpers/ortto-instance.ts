/**
 * A small Ortto instance for the stand-in (test/helpers/ortto-standin.ts), made from the documented
 * field ids (shared/reference/sources.md §3), never from a real customer: two accounts, six
 * people (one without an account), custom fields of every kind (text, integer, decimal ×1000,
 * date, single and multi select, an aggregate the API cannot give), tags, a feed per person with
 * a call, a meeting, a note and email events of one campaign (one person's feed spans two pages
 * of 40), a dynamic and a static audience, a campaign and a journey, a capture widget and a
 * knowledge-base article. Used by the unit, e2e and browser tests and by the demo.
 */
import type { OrttoAccountData, OrttoActivity } from './ortto-standin.js';

export const ORTTO_KEY = 'ortto-standin-key';
export const OWNER = 'rep@ortto-standin.example';

const date = (y: number, m: number, d: number) => ({ year: y, month: m, day: d, timezone: 'UTC' });

export function orttoInstance(): { people: Record<string, unknown>[]; data: OrttoAccountData } {
  const people: Record<string, unknown>[] = [
    {
      id: 'p-ada',
      'str::first': 'Ada',
      'str::last': 'Lovelace',
      'str::email': 'ada@analytical.example',
      'phn::phone': { c: '44', n: '2079460000' },
      'geo::city': { name: 'London' },
      'geo::country': { name: 'United Kingdom' },
      'str::postal': 'SW1A 1AA',
      'dtz::b': date(1815, 12, 10),
      'str::ei': 'EXT-1',
      'bol::p': true,
      'bol::sp': false,
      'idt::o': 'a-analytical',
      'str::owner': OWNER,
      tags: ['vip', 'newsletter'],
      'str:cm:job-title': 'Engineer',
      'int:cm:score': 42,
      'int:cm:lifetime-value': 1234500,
      'dtz:cm:renewal-date': date(2025, 1, 31),
      'str:cm:plan': 'Gold',
      'sst:cm:interests': ['Analytics', 'Events'],
      'str::lifecycle-stage': 'Customer',
    },
    {
      id: 'p-charles',
      'str::first': 'Charles',
      'str::last': 'Babbage',
      'str::email': 'charles@analytical.example',
      'geo::country': { name: 'United Kingdom' },
      'idt::o': 'a-analytical',
      'str::owner': OWNER,
      tags: ['newsletter'],
      'str:cm:plan': 'Silver',
      'int:cm:score': 7,
      'str::lifecycle-stage': 'Lead',
    },
    {
      id: 'p-grace',
      'str::first': 'Grace',
      'str::last': 'Hopper',
      'str::email': 'grace@difference.example',
      'geo::country': { name: 'United States' },
      'idt::o': 'a-difference',
      tags: [],
    },
    {
      id: 'p-alan',
      'str::first': 'Alan',
      'str::last': 'Turing',
      'str::email': 'alan@difference.example',
      'idt::o': 'a-difference',
      tags: ['vip'],
    },
    { id: 'p-edsger', 'str::first': 'Edsger', 'str::last': 'Dijkstra', 'str::email': 'edsger@solo.example', tags: [] },
    {
      id: 'p-barbara',
      'str::first': 'Barbara',
      'str::last': 'Liskov',
      'str::email': 'barbara@solo.example',
      tags: ['newsletter'],
    },
  ];
  const feed: OrttoActivity[] = [
    // newest first, as the feed pages it
    {
      activity_id: 'act:cm:meeting-booked',
      activity_name: 'Meeting booked',
      timestamp: '2024-03-05T14:00:00Z',
      fields: { 'str:cm:subject': 'Quarterly review', 'str:cm:location': 'Zoom', 'int:cm:duration': 45 },
    },
    {
      activity_id: 'act:cm:call-logged',
      activity_name: 'Call logged',
      timestamp: '2024-03-04T09:30:00Z',
      fields: { 'str:cm:subject': 'Intro call', 'str:cm:notes': 'Discussed pricing', 'str:cm:owner-email': OWNER },
    },
    {
      activity_id: 'act:cm:note-added',
      activity_name: 'Note added',
      timestamp: '2024-03-03T08:00:00Z',
      fields: { 'str:cm:note': 'Prefers email over phone' },
    },
    {
      activity_id: 'act::c',
      activity_name: 'Clicked email',
      timestamp: '2024-03-02T10:00:05Z',
      fields: { 'str::campaign_id': 'c-march', 'str::url': 'https://analytical.example/pricing' },
    },
    {
      activity_id: 'act::o',
      activity_name: 'Opened email',
      timestamp: '2024-03-02T10:00:00Z',
      fields: { 'str::campaign_id': 'c-march' },
    },
    {
      activity_id: 'act::s',
      activity_name: 'Sent email',
      timestamp: '2024-03-01T09:00:00Z',
      fields: { 'str::campaign_id': 'c-march' },
    },
    {
      activity_id: 'act:cm:webinar-attended',
      activity_name: 'Webinar attended',
      timestamp: '2024-02-28T17:15:30Z',
      fields: { 'str:cm:webinar': 'Engines 101' },
    },
  ];
  // Charles: 45 page views over two pages of 40, a minute apart, newest first
  const views: OrttoActivity[] = Array.from({ length: 45 }, (_, i) => ({
    activity_id: 'act::v',
    activity_name: 'Visited page',
    timestamp: new Date(Date.UTC(2024, 1, 1, 12, 45 - i, 0)).toISOString(),
    fields: { 'str::url': `https://analytical.example/p/${45 - i}` },
  }));
  return {
    people,
    data: {
      accounts: [
        {
          id: 'a-analytical',
          fields: {
            'str:o:name': 'Analytical Engines Ltd',
            'str:o:website': 'analytical.example',
            'str:o:industry': 'Computing',
            'int:o:employees': 12,
            'geo:o:country': { name: 'United Kingdom' },
            'geo:o:city': { name: 'London' },
            'int:o:contacts': 2,
            'str:o:owner': OWNER,
            'str:cm:tier': 'Enterprise',
          },
        },
        {
          id: 'a-difference',
          fields: {
            'str:o:name': 'Difference Co',
            'str:o:website': 'https://difference.example',
            'str:o:industry': 'Research',
            'int:o:employees': 3,
            'geo:o:country': { name: 'United States' },
            'int:o:contacts': 2,
            'str:cm:tier': 'Startup',
          },
        },
      ],
      personFields: [
        { id: 'str:cm:job-title', name: 'Job title', display_type: 'text' },
        { id: 'int:cm:score', name: 'Score', display_type: 'integer' },
        { id: 'int:cm:lifetime-value', name: 'Lifetime value', display_type: 'decimal' },
        { id: 'dtz:cm:renewal-date', name: 'Renewal date', display_type: 'date' },
        { id: 'str:cm:plan', name: 'Plan', display_type: 'single_select', values: ['Gold', 'Silver'] },
        {
          id: 'sst:cm:interests',
          name: 'Interests',
          display_type: 'multi_select',
          values: ['Analytics', 'Events', 'Hardware'],
        },
        { id: 'int:cm:orders-total', name: 'Orders total', display_type: 'aggregate' },
      ],
      accountFields: [{ id: 'str:cm:tier', name: 'Tier', display_type: 'text' }],
      tags: [
        { id: 1, instance_id: 'i1', name: 'vip', source: 'manual', count: 2 },
        { id: 2, instance_id: 'i1', name: 'newsletter', source: 'api', count: 3 },
      ],
      activities: { 'p-ada': feed, 'p-charles': views },
      audiences: [
        {
          id: 'aud-engaged',
          instance_id: 'i1',
          name: 'Engaged last 30 days',
          type: 'dynamic',
          filter: {
            $and: [
              { $has_any_value: { field_id: 'str::email' } },
              { $activity: { id: 'act::o', timeframe: 'last-30-days' } },
            ],
          },
          created: '2023-11-01T00:00:00Z',
          members: ['p-ada', 'p-charles', 'p-grace'],
        },
        {
          id: 'aud-conference',
          instance_id: 'i1',
          name: 'Conference 2024 list',
          type: 'static',
          filter: null,
          created: '2024-01-10T00:00:00Z',
          members: ['p-ada', 'p-alan'],
        },
      ],
      campaigns: [
        {
          id: 'c-march',
          name: 'March newsletter',
          type: 'email',
          state: 'sent',
          sent: 120,
          delivered: 118,
          opened: 60,
          clicked: 12,
          open_rate: 0.51,
          click_rate: 0.1,
        },
        {
          id: 'j-welcome',
          name: 'Welcome journey',
          type: 'journey',
          state: 'on',
          trigger: 'Person created',
          created_at: '2023-06-01T00:00:00Z',
          sent: 340,
          conversions: 41,
        },
      ],
      widgets: [
        {
          id: 'w-popup',
          name: 'Newsletter popup',
          type: 'popup',
          state: 'on',
          fields: [
            { label: 'Email', type: 'email', required: true },
            { label: 'First name', type: 'text' },
          ],
        },
      ],
      articles: [
        {
          id: 'kb-1',
          title: 'Getting started',
          category: 'Basics',
          state: 'published',
          updated_at: '2024-01-02',
          html: '<p>Welcome to the engines.</p><img src="x.png"><iframe src="https://video.example/1"></iframe>',
        },
      ],
    },
  };
}
