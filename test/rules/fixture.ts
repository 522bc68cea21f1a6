import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitAll, git } from '../helpers/git.js';
import { baseRepo, type FileTree, writeTree } from '../helpers/repo.js';

/** The base repository with a payments app under access rules, people with attributes, and a conflict. */
export const rulesRepo: FileTree = {
  ...baseRepo,
  'grants/_settings.yaml': `${baseRepo['grants/_settings.yaml']}conflicts:
  - [payments:submit, payments:approve]
rules:
  privileged: { approvals: 2, maxDuration: P30D }
  emergencyWindow: PT24H
`,
  'grants/_people.yaml': `${baseRepo['grants/_people.yaml']}  - id: dave
    name: Dave Ito
    email: dave@example.com
    accounts: { github: dave-i }
    attributes: { department: finance, manager: carol }
  - id: erin
    name: Erin Blake
    email: erin@example.com
    accounts: { github: erin-b }
    attributes: { department: engineering, manager: carol }
  - id: frank
    name: Frank Ruiz
    email: frank@example.com
    accounts: { github: frank-r }
    attributes: { department: finance }
`,
  'grants/payments/_app.yaml': `name: Payments
connector:
  type: postgres
entitlements:
  - id: submit
    kind: role
    role: pay_submit
  - id: approve
    kind: role
    role: pay_approve
    rule:
      name: the payments owners
      privileged: true
      approvers: [frank, manager]
      directGrant: false
  - id: read
    kind: role
    role: pay_read
    rule:
      emergency: { maxDuration: PT4H, by: [super-admin, users-read-write] }
approvers: [carol]
rule:
  maxDuration: P90D
  eligible: { attributes: { department: [finance] } }
`,
};

export function rulesRepoWith(changes: FileTree): string {
  return writeTree({ ...rulesRepo, ...changes });
}

/**
 * The rules repository where two people hold payments' read: approve (the
 * payments owners, privileged) is for dave only, submit for frank only.
 */
export function changeRepo(more: FileTree = {}): { dir: string; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'iden-rules-change-'));
  const app = String(rulesRepo['grants/payments/_app.yaml'])
    .replace('      directGrant: false\n', '      directGrant: false\n      eligible: { people: [dave] }\n')
    .replace(
      '    role: pay_submit\n',
      '    role: pay_submit\n    rule: { eligible: { people: [frank] }, maxDuration: P7D }\n',
    );
  const dir = writeTree(
    {
      ...rulesRepo,
      '.gitignore': '.iden/\n',
      'grants/payments/_app.yaml': app,
      'grants/payments/dave.yaml': 'user: dave\napp: payments\npermissions: [read]\nend: 2027-01-20\n',
      'grants/payments/frank.yaml': 'user: frank\napp: payments\npermissions: [read]\nend: 2026-12-20\n',
      ...more,
    },
    join(root, 'work'),
  );
  commitAll(dir, 'access with rules');
  git(dir, ['config', 'user.name', 'Erin Blake']);
  git(dir, ['config', 'user.email', 'erin@example.com']);
  return { dir, root };
}
