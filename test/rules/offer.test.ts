import { describe, expect, it } from 'vitest';
import type { AppFile, Person } from '../../src/model/repo.js';
import { AppOffer, capOf, pastCap } from '../../src/rules/offer.js';

/** What the grant flow may offer under an app's rules: per entitlement, per tier, per person. */

const zone = 'Europe/Berlin';
const at = Date.parse('2026-11-27T12:00:00Z');
const person = (id: string, attributes: Person['attributes'] = {}): Person =>
  ({ id, name: id, email: `${id}@example.com`, attributes }) as Person;
const ann = person('ann', { department: 'finance', employment: 'contractor' });
const ben = person('ben', { department: ['ops', 'finance'] });
const cid = person('cid');

const app = {
  name: 'Ledger',
  connector: { type: 'postgres' },
  entitlements: [
    { id: 'read', kind: 'role', role: 'r' },
    { id: 'post', kind: 'role', role: 'p', rule: { eligible: { attributes: { department: ['ops'] } } } },
    { id: 'audit', kind: 'role', role: 'a', rule: { eligible: { people: ['cid'] }, maxDuration: 'PT8H' } },
  ],
  licenses: [
    { id: 'basic', seats: 5 },
    {
      id: 'pro',
      seats: 1,
      rule: { maxDuration: 'P7D', eligible: { attributes: { employment: ['employee'] } } },
    },
  ],
  rule: { maxDuration: 'P90D', eligible: { attributes: { department: ['finance'] } } },
} as unknown as AppFile;

describe('what the grant flow offers under access rules', () => {
  const offer = new AppOffer('ledger', 'grants/ledger/_app.yaml', app, undefined);

  it('says per entitlement who may hold it, an entitlement’s rule over the app’s', () => {
    expect(offer.entitlement('read', 'ann', ann)).toBeUndefined();
    expect(offer.entitlement('read', 'cid', cid)).toBe('not eligible: for department finance');
    expect(offer.entitlement('post', 'ann', ann)).toBe('not eligible: for department ops');
    expect(offer.entitlement('post', 'ben', ben)).toBeUndefined();
    expect(offer.entitlement('audit', 'cid', cid)).toBeUndefined();
    expect(offer.entitlement('audit', 'ann', ann)).toBe('not eligible: for only cid');
  });

  it('closes an app to a person only when every entitlement and tier is closed to them', () => {
    expect(offer.closedTo('cid', cid)).toBeUndefined(); // audit is for cid
    const dee = person('dee', { department: 'legal' });
    expect(offer.closedTo('dee', dee)).toBe('not eligible: for department finance');
    expect(offer.closedTo('ann', ann, ['post'])).toBe('not eligible: for department ops');
    const none = new AppOffer(
      'x',
      'x',
      { ...app, rule: undefined, entitlements: [], licenses: [] } as unknown as AppFile,
      undefined,
    );
    expect(none.any).toBe(false);
    expect(none.closedTo('dee', dee)).toBeUndefined();
  });

  it('closes a tier to someone its rule does not name, or for a window longer than its cap', () => {
    const week = { from: at, to: at + 7 * 86_400_000 };
    expect(offer.tier('pro', 'ann', ann, week, zone)).toBe('not eligible: for employment employee');
    const eve = person('eve', { department: 'finance', employment: 'employee' });
    expect(offer.tier('pro', 'eve', eve, week, zone)).toBeUndefined();
    expect(offer.tier('pro', 'eve', eve, { from: at, to: week.to + 1 }, zone)).toBe(
      'the rule of ledger license pro allows at most P7D',
    );
    expect(offer.tier('pro', 'eve', eve, { from: at, to: undefined }, zone)).toBe(
      'the rule of ledger license pro allows at most P7D',
    );
    expect(offer.tier('basic', 'ann', ann, { from: at, to: undefined }, zone)).toBe(
      'the rule of ledger allows at most P90D',
    );
  });

  it('caps a schedule by the shortest rule of the entitlements, and by the longest tier still open', () => {
    const eve = person('eve', { department: 'finance', employment: 'employee' });
    // eve may hold pro (P7D) and basic (P90D): the schedule may last 90 days, and pro is then closed past 7.
    expect(offer.scheduleCap(['read'], 'eve', eve, at, zone)).toMatchObject({ duration: 'P90D' });
    expect(offer.scheduleCap(['read', 'audit'], 'eve', eve, at, zone)).toMatchObject({
      duration: 'PT8H',
      rule: 'the rule of ledger:audit',
      longest: at + 8 * 3_600_000,
    });
    const cap = capOf(offer.rulesOf({ permissions: ['read'] }), at, zone)!;
    expect(pastCap(cap, at + 91 * 86_400_000, zone)).toBe(
      'the rule of ledger allows at most P90D: the longest end allowed is 2027-02-25T13:00:00+01:00',
    );
    expect(pastCap(cap, undefined, zone)).toBe(
      'the rule of ledger allows at most P90D: give an end, at the latest 2027-02-25T13:00:00+01:00',
    );
    expect(pastCap(cap, at + 86_400_000, zone)).toBeUndefined();
  });
});
