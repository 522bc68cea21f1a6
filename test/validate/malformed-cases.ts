import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { FileTree } from '../helpers/repo.js';

export interface Case {
  name: string;
  changes: FileTree;
  expected: { file: string; line: number; column: number; code: string; message?: RegExp };
  setup?: (dir: string) => void;
}

const grant = (body: string) => body;

/** Each case is a whole access repository, the valid base with one thing broken. */
export const cases: Case[] = [
  {
    name: 'a misspelt permission',
    changes: {
      'grants/db/alice.yaml': grant('user: alice\napp: db\npermissions:\n  - readonly\n  - writr\n'),
    },
    expected: {
      file: 'grants/db/alice.yaml',
      line: 5,
      column: 5,
      code: 'unknown-permission',
      message: /did you mean "writer"/,
    },
  },
  {
    name: 'an unknown user',
    changes: { 'grants/db/dave.yaml': 'user: dave\napp: db\npermissions: [readonly]\n' },
    expected: { file: 'grants/db/dave.yaml', line: 1, column: 7, code: 'unknown-user' },
  },
  {
    name: 'an app that differs from the folder',
    changes: { 'grants/db/alice.yaml': 'user: alice\napp: gh\npermissions: [readonly]\n' },
    expected: { file: 'grants/db/alice.yaml', line: 2, column: 6, code: 'app-mismatch' },
  },
  {
    name: 'a user that differs from the file name',
    changes: { 'grants/db/carol.yaml': 'user: bob\napp: db\npermissions: [readonly]\n' },
    expected: { file: 'grants/db/carol.yaml', line: 1, column: 7, code: 'user-mismatch' },
  },
  {
    name: 'a second grant for the same user and app',
    changes: { 'grants/db/carol.yaml': 'user: alice\napp: db\npermissions: [readonly]\n' },
    expected: {
      file: 'grants/db/carol.yaml',
      line: 1,
      column: 7,
      code: 'duplicate-grant',
      message: /edit that file/,
    },
  },
  {
    name: 'an unknown license tier',
    changes: { 'grants/gh/bob.yaml': 'user: bob\napp: gh\npermissions: [engineering]\nlicense: sseat\n' },
    expected: {
      file: 'grants/gh/bob.yaml',
      line: 4,
      column: 10,
      code: 'unknown-license',
      message: /did you mean "seat"/,
    },
  },
  {
    name: 'a licensed app without a license',
    changes: { 'grants/gh/bob.yaml': 'user: bob\napp: gh\npermissions: [engineering]\n' },
    expected: { file: 'grants/gh/bob.yaml', line: 1, column: 1, code: 'license-required' },
  },
  {
    name: 'a license for an app without tiers',
    changes: { 'grants/db/alice.yaml': 'user: alice\napp: db\npermissions: [readonly]\nlicense: seat\n' },
    expected: { file: 'grants/db/alice.yaml', line: 4, column: 1, code: 'license-not-offered' },
  },
  {
    name: 'a grant that gives nothing',
    changes: { 'grants/db/alice.yaml': 'user: alice\napp: db\npermissions: []\n' },
    expected: { file: 'grants/db/alice.yaml', line: 1, column: 1, code: 'grants-nothing' },
  },
  {
    name: 'an impossible date',
    changes: { 'grants/db/alice.yaml': 'user: alice\napp: db\npermissions: [readonly]\nstart: 2026-02-30\n' },
    expected: { file: 'grants/db/alice.yaml', line: 4, column: 8, code: 'invalid-date' },
  },
  {
    name: 'a date-time without an offset',
    changes: {
      'grants/db/alice.yaml': 'user: alice\napp: db\npermissions: [readonly]\nend: 2027-01-01T10:00\n',
    },
    expected: { file: 'grants/db/alice.yaml', line: 4, column: 6, code: 'invalid-field', message: /offset/ },
  },
  {
    name: 'an end before the start',
    changes: {
      'grants/db/alice.yaml':
        'user: alice\napp: db\npermissions: [readonly]\nstart: 2027-02-01\nend: 2027-01-01\n',
    },
    expected: { file: 'grants/db/alice.yaml', line: 5, column: 6, code: 'end-before-start' },
  },
  {
    name: 'an end equal to the start',
    changes: {
      'grants/db/alice.yaml':
        'user: alice\napp: db\npermissions: [readonly]\nstart: 2027-02-01\nend: 2027-02-01\n',
    },
    expected: { file: 'grants/db/alice.yaml', line: 5, column: 6, code: 'end-before-start' },
  },
  {
    name: 'a timezone that does not exist',
    changes: { 'grants/_settings.yaml': 'timezone: Europe/Atlantis\n' },
    expected: { file: 'grants/_settings.yaml', line: 1, column: 11, code: 'invalid-timezone' },
  },
  {
    name: 'more seats taken than the tier has',
    changes: {
      'grants/gh/alice.yaml': 'user: alice\napp: gh\npermissions: [engineering]\nlicense: seat\n',
      'grants/gh/carol.yaml':
        'user: carol\napp: gh\npermissions: [engineering]\nlicense: seat\nstart: 2027-01-15\n',
    },
    expected: {
      file: 'grants/gh/carol.yaml',
      line: 4,
      column: 10,
      code: 'seats-exceeded',
      message: /from 2027-01-15 3 grants/,
    },
  },
  {
    name: 'a duplicate person id',
    changes: {
      'grants/_people.yaml':
        'people:\n  - id: alice\n    name: A\n    email: a@example.com\n  - id: alice\n    name: B\n    email: b@example.com\n  - id: bob\n    name: Bob\n    email: bob@example.com\n  - id: carol\n    name: C\n    email: c@example.com\n',
    },
    expected: { file: 'grants/_people.yaml', line: 5, column: 9, code: 'duplicate-id' },
  },
  {
    name: 'a duplicate email',
    changes: {
      'grants/_people.yaml':
        'people:\n  - id: alice\n    name: A\n    email: a@example.com\n  - id: bob\n    name: B\n    email: A@example.com\n  - id: carol\n    name: C\n    email: c@example.com\n',
    },
    expected: { file: 'grants/_people.yaml', line: 7, column: 12, code: 'duplicate-email' },
  },
  {
    name: 'accounts naming an app that does not exist',
    changes: {
      'grants/_people.yaml':
        'people:\n  - id: alice\n    name: A\n    email: a@example.com\n    accounts:\n      dbb: alice\n  - id: bob\n    name: B\n    email: b@example.com\n  - id: carol\n    name: C\n    email: c@example.com\n',
    },
    expected: {
      file: 'grants/_people.yaml',
      line: 6,
      column: 7,
      code: 'unknown-app',
      message: /did you mean "db"/,
    },
  },
  {
    name: 'an approver who is nobody',
    changes: {
      'grants/db/_app.yaml':
        'name: W\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: r }\n  - { id: writer, kind: role, role: w }\napprovers: [carol, zoe]\n',
    },
    expected: { file: 'grants/db/_app.yaml', line: 6, column: 20, code: 'unknown-person' },
  },
  {
    name: 'a role member who is nobody',
    changes: { 'grants/_settings.yaml': 'roles:\n  super-admin:\n    - alice\n    - mallory\n' },
    expected: { file: 'grants/_settings.yaml', line: 4, column: 7, code: 'unknown-person' },
  },
  {
    name: 'a duplicate entitlement id',
    changes: {
      'grants/db/_app.yaml':
        'name: W\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: r }\n  - { id: writer, kind: role, role: w }\n  - { id: readonly, kind: role, role: r2 }\n',
    },
    expected: { file: 'grants/db/_app.yaml', line: 6, column: 11, code: 'duplicate-id' },
  },
  {
    name: 'an unknown connector type',
    changes: {
      'grants/db/_app.yaml':
        'name: W\nconnector:\n  type: postgress\nentitlements:\n  - { id: readonly, kind: role, role: r }\n  - { id: writer, kind: role, role: w }\n',
    },
    expected: {
      file: 'grants/db/_app.yaml',
      line: 3,
      column: 9,
      code: 'unknown-connector',
      message: /did you mean "postgres"/,
    },
  },
  {
    name: 'negative seats',
    changes: {
      'grants/gh/_app.yaml':
        'name: G\nconnector: { type: github, org: acme }\nentitlements:\n  - { id: engineering, kind: group, team: e }\nlicenses:\n  - id: seat\n    seats: -1\n',
    },
    expected: { file: 'grants/gh/_app.yaml', line: 7, column: 12, code: 'negative-seats' },
  },
  {
    name: 'a connector entitlement missing its mapping',
    changes: {
      'grants/gh/_app.yaml':
        'name: G\nconnector: { type: github, org: acme }\nentitlements:\n  - id: engineering\n    kind: group\nlicenses:\n  - { id: seat, seats: 2 }\n',
    },
    expected: { file: 'grants/gh/_app.yaml', line: 4, column: 5, code: 'missing-field', message: /"team"/ },
  },
  {
    name: 'an unknown field in a grant',
    changes: { 'grants/db/alice.yaml': 'user: alice\napp: db\npermisions: [readonly]\n' },
    expected: {
      file: 'grants/db/alice.yaml',
      line: 3,
      column: 1,
      code: 'unknown-field',
      message: /did you mean "permissions"/,
    },
  },
  {
    name: 'a grant missing its user',
    changes: { 'grants/db/alice.yaml': 'app: db\npermissions: [readonly]\n' },
    expected: { file: 'grants/db/alice.yaml', line: 1, column: 1, code: 'missing-field' },
  },
  {
    name: 'permissions given as text',
    changes: { 'grants/db/alice.yaml': 'user: alice\napp: db\npermissions: readonly\n' },
    expected: {
      file: 'grants/db/alice.yaml',
      line: 3,
      column: 14,
      code: 'invalid-field',
      message: /must be a list/,
    },
  },
  {
    name: 'duplicate keys',
    changes: { 'grants/db/alice.yaml': 'user: alice\napp: db\npermissions: [readonly]\napp: db\n' },
    expected: { file: 'grants/db/alice.yaml', line: 4, column: 1, code: 'duplicate-key' },
  },
  {
    name: 'tabs for indentation',
    changes: { 'grants/db/alice.yaml': 'user: alice\napp: db\npermissions:\n\t- readonly\n' },
    expected: { file: 'grants/db/alice.yaml', line: 4, column: 1, code: 'yaml-syntax', message: /spaces/ },
  },
  {
    name: 'two YAML documents',
    changes: { 'grants/db/alice.yaml': 'user: alice\napp: db\npermissions: [readonly]\n---\nuser: bob\n' },
    expected: { file: 'grants/db/alice.yaml', line: 4, column: 1, code: 'multiple-documents' },
  },
  {
    name: 'a list at the top level',
    changes: { 'grants/db/alice.yaml': '- user: alice\n' },
    expected: { file: 'grants/db/alice.yaml', line: 1, column: 1, code: 'not-a-mapping' },
  },
  {
    name: 'an empty grant file',
    changes: { 'grants/db/alice.yaml': '# nothing here\n' },
    expected: { file: 'grants/db/alice.yaml', line: 1, column: 1, code: 'empty-file' },
  },
  {
    name: 'a billion-laughs alias bomb',
    changes: {
      'grants/db/alice.yaml': `user: alice\napp: db\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n`,
    },
    expected: { file: 'grants/db/alice.yaml', line: 5, column: 36, code: 'too-many-aliases' },
  },
  {
    name: 'a __proto__ key',
    changes: {
      'grants/_people.yaml':
        'people:\n  - id: alice\n    name: A\n    email: a@example.com\n    accounts:\n      __proto__: { polluted: true }\n  - id: bob\n    name: B\n    email: b@example.com\n  - id: carol\n    name: C\n    email: c@example.com\n',
    },
    expected: { file: 'grants/_people.yaml', line: 6, column: 7, code: 'forbidden-key' },
  },
  {
    name: 'a grant file over 64 KiB',
    changes: {
      'grants/db/alice.yaml': `user: alice\napp: db\npermissions: [readonly]\nreason: ${'x'.repeat(70_000)}\n`,
    },
    expected: { file: 'grants/db/alice.yaml', line: 1, column: 1, code: 'file-too-large' },
  },
  {
    name: 'bytes that are not UTF-8',
    changes: {
      'grants/db/alice.yaml': Buffer.concat([
        Buffer.from('user: alice\napp: db\nreason: caf'),
        Buffer.from([0xe9]),
        Buffer.from('\n'),
      ]),
    },
    expected: { file: 'grants/db/alice.yaml', line: 3, column: 12, code: 'not-utf8' },
  },
  {
    name: 'a symlink out of the repository',
    changes: {},
    setup: (dir) => symlinkSync('/etc/hostname', join(dir, 'grants/db/carol.yaml')),
    expected: { file: 'grants/db/carol.yaml', line: 1, column: 1, code: 'symlink-outside-repo' },
  },
  {
    name: 'a folder inside an app folder',
    changes: {},
    setup: (dir) => mkdirSync(join(dir, 'grants/db/archive')),
    expected: { file: 'grants/db/archive', line: 1, column: 1, code: 'misplaced-file' },
  },
  {
    name: 'a grant directly in grants/',
    changes: { 'grants/alice.yaml': 'user: alice\napp: db\n' },
    expected: { file: 'grants/alice.yaml', line: 1, column: 1, code: 'misplaced-file' },
  },
  {
    name: 'an app folder without _app.yaml',
    changes: { 'grants/jira/alice.yaml': 'user: alice\napp: jira\npermissions: [x]\n' },
    expected: { file: 'grants/jira', line: 1, column: 1, code: 'missing-app-file' },
  },
  {
    name: 'a grant file name that is not an id',
    changes: { 'grants/db/Carol.yaml': 'user: carol\napp: db\npermissions: [readonly]\n' },
    expected: { file: 'grants/db/Carol.yaml', line: 1, column: 1, code: 'bad-file-name' },
  },
  {
    name: 'a .yml grant file',
    changes: { 'grants/db/carol.yml': 'user: carol\napp: db\npermissions: [readonly]\n' },
    expected: {
      file: 'grants/db/carol.yml',
      line: 1,
      column: 1,
      code: 'bad-file-name',
      message: /carol\.yaml/,
    },
  },
  {
    name: 'no _people.yaml',
    changes: { 'grants/_people.yaml': null },
    expected: { file: 'grants/_people.yaml', line: 1, column: 1, code: 'missing-people-file' },
  },
  {
    name: 'a GitHub grant for someone with no GitHub login',
    changes: {
      'grants/gh/carol.yaml': 'user: carol\napp: gh\npermissions: [engineering]\nlicense: seat\n',
      'grants/_people.yaml':
        'people:\n  - { id: alice, name: A, email: a@example.com }\n  - { id: bob, name: B, email: b@example.com, accounts: { gh: bob-o } }\n  - { id: carol, name: C, email: c@example.com }\n',
    },
    expected: {
      file: 'grants/gh/carol.yaml',
      line: 1,
      column: 7,
      code: 'missing-account',
      message: /accounts: \{ github: <their GitHub login> \} \(or gh: for a login used only here\)/,
    },
  },
  {
    name: 'an id with capitals',
    changes: { 'grants/db/alice.yaml': 'user: Alice\napp: db\npermissions: [readonly]\n' },
    expected: {
      file: 'grants/db/alice.yaml',
      line: 1,
      column: 7,
      code: 'invalid-field',
      message: /lowercase/,
    },
  },
  {
    name: 'an entitlement kind that does not exist',
    changes: {
      'grants/db/_app.yaml':
        'name: W\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: rol, role: r }\n  - { id: writer, kind: role, role: w }\n',
    },
    expected: {
      file: 'grants/db/_app.yaml',
      line: 4,
      column: 27,
      code: 'invalid-field',
      message: /did you mean "role"/,
    },
  },
  {
    name: 'a PostgreSQL role name over 63 bytes',
    changes: {
      'grants/db/_app.yaml': `name: W\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: db_read }\n  - id: writer\n    kind: role\n    role: ${'é'.repeat(40)}\n`,
    },
    expected: {
      file: 'grants/db/_app.yaml',
      line: 7,
      column: 11,
      code: 'name-too-long',
      message: /is 80 bytes in UTF-8; PostgreSQL cuts names at 63 bytes/,
    },
  },
  {
    name: 'an account over 63 bytes',
    changes: {
      'grants/_people.yaml': `people:\n  - { id: alice, name: A, email: a@example.com, accounts: { db: ${'a'.repeat(64)} } }\n  - { id: bob, name: B, email: b@example.com, accounts: { gh: bob-o } }\n  - { id: carol, name: C, email: c@example.com, accounts: { gh: carol } }\n`,
    },
    expected: {
      file: 'grants/db/alice.yaml',
      line: 1,
      column: 7,
      code: 'name-too-long',
      message: /64 bytes/,
    },
  },
  {
    name: "an account that is one of the app's roles",
    changes: {
      'grants/_people.yaml':
        'people:\n  - { id: alice, name: A, email: a@example.com, accounts: { db: db_read } }\n  - { id: bob, name: B, email: b@example.com, accounts: { gh: bob-o } }\n  - { id: carol, name: C, email: c@example.com, accounts: { gh: carol } }\n',
    },
    expected: {
      file: 'grants/db/alice.yaml',
      line: 1,
      column: 7,
      code: 'account-is-role',
      message: /would give every member of that role the access/,
    },
  },
];
