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
