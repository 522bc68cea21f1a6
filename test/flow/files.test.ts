import { describe, expect, it } from 'vitest';
import { removeFromList, removePersonText } from '../../src/flow/files.js';

const people = `# yaml-language-server: $schema=../schemas/people.schema.json
people:
  # The founders.
  - id: alice
    name: Alice Martin
    email: alice@example.com
    accounts: {github: alice-m}     # no padding, a comment
  - id: bob
    name: 'Bob Okafor'
    email: "bob@example.com"
    accounts:
      github: bobokafor

  # Contractors, until March.
  - { id: carol, name: Carol Nguyen, email: carol@example.com }
  - id: dave
    name: Dave
    email: dave@example.com
`;

describe("offboard --remove-person's edits", () => {
  it("cut the person's entry out and leave every other byte as it was", () => {
    expect(removePersonText(people, 'bob')).toBe(people.replace(/ {2}- id: bob\n(?: {4}.*\n)*/, ''));
    expect(removePersonText(people, 'carol')).toBe(
      people.replace('  - { id: carol, name: Carol Nguyen, email: carol@example.com }\n', ''),
    );
    expect(removePersonText(people, 'dave')).toBe(people.replace(/ {2}- id: dave\n(?: {4}.*\n)*/, ''));
    expect(removePersonText(people, 'alice')).toBe(
      people.replace(
        '  - id: alice\n    name: Alice Martin\n    email: alice@example.com\n    accounts: {github: alice-m}     # no padding, a comment\n',
        '',
      ),
    );
    expect(removePersonText(people, 'nobody')).toBeUndefined();
  });

  it('take a name out of flow and block lists alone', () => {
    const settings =
      'timezone: Europe/Berlin   # where we are\nroles:\n  super-admin: [alice,  bob, carol]\n  users-read-write:\n    - bob\n    - dave    # ops\n';
    expect(removeFromList(settings, ['roles', 'super-admin'], 'bob')).toBe(
      settings.replace('alice,  bob, carol', 'alice,  carol'),
    );
    expect(removeFromList(settings, ['roles', 'super-admin'], 'carol')).toBe(
      settings.replace('alice,  bob, carol', 'alice,  bob'),
    );
    expect(removeFromList(settings, ['roles', 'super-admin'], 'alice')).toBe(
      settings.replace('alice,  bob, carol', 'bob, carol'),
    );
    expect(removeFromList(settings, ['roles', 'users-read-write'], 'bob')).toBe(
      settings.replace('    - bob\n', ''),
    );
    expect(removeFromList('approvers: [carol]\n', ['approvers'], 'carol')).toBe('approvers: []\n');
  });
});
