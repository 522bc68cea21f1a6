// 10,000 people joining 50 directory groups through the ldap connector
// against a real OpenLDAP slapd on loopback (the one the tests start: mdb,
// memberOf, a 500-entry size limit), then a run in which 100 of them move to
// the next group (their old memberships, with no grant file history here, are
// drift, removed as the app sets prune: true). Prints JSON: LDAP requests per
// run and their minimum.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectors } from '../dist/src/connectors/catalog.js';
import { loadRepo } from '../dist/src/load/repo.js';
import { applyChanges } from '../dist/src/reconcile/apply.js';
import { closeSessions, preparePlan } from '../dist/src/reconcile/prepare.js';
import { ADMIN, person, SERVICE, SUFFIX, startSlapd } from '../dist/test/helpers/slapd.js';

const people = 10_000;
const groups = 50;
const pageSize = 500;
const slapd = await startSlapd();
const ids = Array.from({ length: people }, (_, i) => `p${String(i).padStart(5, '0')}`);
const names = Array.from({ length: groups }, (_, g) => `team-${String(g).padStart(2, '0')}`);
const placeholder = `cn=nobody,ou=groups,${SUFFIX}`;
const ldif = [
  ...ids.map((uid) => person(uid)),
  ...names.map((cn) => [
    `cn=${cn},ou=groups,${SUFFIX}`,
    { objectClass: 'groupOfNames', cn, member: placeholder },
  ]),
]
  .map(([dn, attributes]) => {
    const lines = Object.entries(attributes).flatMap(([k, v]) =>
      (Array.isArray(v) ? v : [v]).map((x) => `${k}: ${x}`),
    );
    return `dn: ${dn}\n${lines.join('\n')}\n`;
  })
  .join('\n');
execFileSync('ldapadd', ['-x', '-H', slapd.url, '-D', ADMIN.dn, '-w', ADMIN.password], {
  input: ldif,
  stdio: ['pipe', 'ignore', 'inherit'],
});

const dir = mkdtempSync(join(tmpdir(), 'iden-bench-ldap-'));
mkdirSync(join(dir, 'grants', 'dir'), { recursive: true });
writeFileSync(
  join(dir, 'grants/_people.yaml'),
  `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com }\n`).join('')}`,
);
writeFileSync(
  join(dir, 'grants/dir/_app.yaml'),
  `name: Directory\nconnector: { type: ldap, flavor: openldap, url: ${slapd.url}, baseDn: "${SUFFIX}", peopleBaseDn: "ou=people,${SUFFIX}", placeholderMember: "${placeholder}", pageSize: ${pageSize} }\nentitlements:\n${names.map((n) => `  - { id: ${n}, kind: group, name: ${n} }\n`).join('')}prune: true\n`,
);
/** Each person in one group, the groups filling evenly; `moved` people one group further on. */
function grants(moved) {
  for (const [i, id] of ids.entries()) {
    const group = (i + (i < moved ? 1 : 0)) % groups;
    writeFileSync(
      join(dir, 'grants/dir', `${id}.yaml`),
      `user: ${id}\napp: dir\npermissions: [${names[group]}]\n`,
    );
  }
}

async function run() {
  const started = performance.now();
  const prepared = await preparePlan({
    repo: await loadRepo(dir),
    at: Date.now(),
    strict: true,
    allowMassRemoval: true,
    env: { LDAP_BIND_DN: SERVICE.dn, LDAP_BIND_PASSWORD: SERVICE.password },
    registry: { ldap: connectors.ldap },
    lockTimeoutMs: 0,
  });
  const session = prepared.sessions.get('dir');
  const reads = session.requests;
  const results = await applyChanges(prepared.plan.changes, prepared.sessions);
  const requests = session.requests;
  await closeSessions(prepared.sessions);
  const touched = new Set(prepared.plan.changes.map((c) => c.entitlement)).size;
  const groupsOf = (action) =>
    new Set(prepared.plan.changes.filter((c) => c.action === action).map((c) => c.entitlement)).size;
  return {
    ms: performance.now() - started,
    changes: results.length,
    failed: results.filter((r) => r.outcome === 'failed').length,
    reads,
    writes: requests - reads,
    // A bind, one read per group, the people a page at a time; one modify per group with changes.
    minimumReads: 1 + groups + Math.ceil(people / pageSize),
    minimumWrites: touched,
    // What a write per group in each of apply's phases (grants, then removals) would have cost.
    phasedWrites: groupsOf('grant') + groupsOf('revoke'),
  };
}

grants(0);
const first = await run();
grants(100);
const moved = await run();
console.log(JSON.stringify({ people, groups, first, moved }));
await slapd.remove();
rmSync(dir, { recursive: true, force: true });
