import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export type FileTree = Record<string, string | Buffer | null>;

/**
 * The settings line of repositories whose tests are not about apply-time
 * verification: they have no GitHub to verify merges against, as the
 * example has none, so they say so, as the example does.
 */
export const NO_VERIFY = 'policy: { verifyMerges: false }\n';

/** A small valid access repository; tests change a file or two of it. */
export const baseRepo: FileTree = {
  'grants/_settings.yaml': `timezone: Europe/Berlin
roles:
  super-admin: [alice]
  users-read-write: [bob]
limits:
  maxRemovals: 10
  maxRemovalShare: 0.5
${NO_VERIFY}`,
  'grants/_people.yaml': `people:
  - id: alice
    name: Alice Martin
    email: alice@example.com
    accounts: { github: alice-m }
  - id: bob
    name: Bob Okafor
    email: bob@example.com
    accounts: { github: bob-o }
  - id: carol
    name: Carol Nguyen
    email: carol@example.com
    accounts: { github: Carol-N }
`,
  'grants/db/_app.yaml': `name: Warehouse
connector:
  type: postgres
entitlements:
  - id: readonly
    kind: role
    role: db_read
  - id: writer
    kind: role
    role: db_write
approvers: [carol]
`,
  'grants/gh/_app.yaml': `name: GitHub
connector:
  type: github
  org: acme
entitlements:
  - id: engineering
    kind: group
    team: engineering
licenses:
  - id: seat
    seats: 2
approvers: [carol]
`,
  'grants/db/alice.yaml': `user: alice
app: db
permissions: [readonly, writer]
`,
  'grants/gh/bob.yaml': `user: bob
app: gh
permissions: [engineering]
license: seat
start: 2026-12-01
end: 2027-03-01
`,
};

/** Writes a file tree into a new temporary folder; a null value leaves that file out. */
export function writeTree(tree: FileTree, dir = mkdtempSync(join(tmpdir(), 'iden-test-'))): string {
  for (const [path, content] of Object.entries(tree)) {
    if (content === null) continue;
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return dir;
}

export function repoWith(changes: FileTree): string {
  return writeTree({ ...baseRepo, ...changes });
}
