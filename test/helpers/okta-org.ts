// What the okta connector's tests share: an Okta test org on a running clock, its access repository, the CLI.
import type { Plan } from '../../src/reconcile/plan.js';
import { runCli, TEST_NOW } from './cli.js';
import { commitAll } from './git.js';
import { OktaServer } from './okta-server.js';
import { NO_VERIFY, writeTree } from './repo.js';
import { RunningClock } from './running-clock.js';

export const NOW = '2026-11-27T12:00:00Z';
/** Waits shortened by injection: the run's own retry waits a few milliseconds; rate-limit waits pass on the clock. */
export const FAST = { attempts: 5, baseMs: 1, maxMs: 2 };
export const TOKEN = 'okta-test-token';

/** An org: alice, bob (whose Okta login is not his email), carol and mallory; bob is in salesforce-users, mallory in engineering by hand. */
export async function org() {
  const clock = new RunningClock(TEST_NOW);
  const server = new OktaServer(clock);
  for (const login of ['alice@example.com', 'bob@example.com', 'carol@example.com', 'mallory@example.com'])
    server.addUser(login);
  const sales = server.addGroup('salesforce-users');
  const eng = server.addGroup('engineering');
  sales.members.push(server.user('bob@example.com').id);
  eng.members.push(server.user('mallory@example.com').id);
  const sf = server.addApp('Salesforce');
  await server.start();
  return { clock, server, sales, eng, sf };
}

export type Org = Awaited<ReturnType<typeof org>>;

export function okta(o: Org, extra = '') {
  return `name: Okta
connector: { type: okta, orgUrl: '${o.server.url}', timeoutMs: 2000 }
entitlements:
  - { id: sales, kind: group, group: salesforce-users }
  - { id: eng, kind: group, groupId: ${o.eng.id} }
  - { id: sf-user, kind: app, app: Salesforce, profile: { role: User } }
  - { id: sf-admin, kind: app, appId: ${o.sf.id}, profile: { role: Admin } }
${extra}`;
}

export const PEOPLE = `people:
  - { id: alice, name: Alice, email: alice@example.com }
  - { id: bob, name: Bob, email: robert@example.com, accounts: { okta: bob@example.com } }
  - { id: carol, name: Carol, email: Carol@Example.com }
  - { id: dan, name: Dan, email: dan@example.com }
  - { id: mallory, name: Mallory, email: mallory@example.com }
`;

export function accessRepo(o: Org, grants: Record<string, string>, app = '') {
  const dir = writeTree({
    'grants/_settings.yaml': NO_VERIFY,
    'grants/_people.yaml': PEOPLE,
    'grants/okta/_app.yaml': okta(o, app),
    ...Object.fromEntries(
      Object.entries(grants).map(([user, text]) => [
        `grants/okta/${user}.yaml`,
        `user: ${user}\napp: okta\n${text}`,
      ]),
    ),
  });
  commitAll(dir, 'access');
  return dir;
}

export const env = { OKTA_API_TOKEN: TOKEN };
export const brief = (p: Plan) =>
  p.changes.map((c) => `${c.action} ${c.user} ${c.entitlement ?? c.license} ${c.reason}`);

export function cli(o: Org, args: string[], environment: NodeJS.ProcessEnv = env) {
  return runCli(args, { env: environment, retry: FAST, clock: o.clock });
}
export async function plan(o: Org, dir: string, at = NOW): Promise<Plan> {
  const result = await cli(o, ['plan', '--repo', dir, '--format', 'json', '--at', at]);
  if (!result.stdout) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as Plan;
}
export const apply = (o: Org, dir: string, at = NOW, extra: string[] = []) =>
  cli(o, ['apply', '--repo', dir, '--at', at, '--yes', '--no-push', ...extra]);
export const writes = (server: OktaServer) => server.requests.filter((r) => !r.startsWith('GET'));

/** An org with `count` people to add to the group `crowd`, and their grants. */
export async function crowd(count: number, app = '') {
  const o = await org();
  const group = o.server.addGroup('crowd');
  const ids = Array.from({ length: count }, (_, i) => `c${String(i).padStart(3, '0')}`);
  for (const id of ids) o.server.addUser(`${id}@example.com`);
  const dir = writeTree({
    'grants/_settings.yaml': NO_VERIFY,
    'grants/_people.yaml': `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com }\n`).join('')}`,
    'grants/okta/_app.yaml': `name: Okta\nconnector: { type: okta, orgUrl: '${o.server.url}', timeoutMs: 300 }\nentitlements:\n  - { id: crowd, kind: group, group: crowd }\n${app}`,
    ...Object.fromEntries(
      ids.map((id) => [`grants/okta/${id}.yaml`, `user: ${id}\napp: okta\npermissions: [crowd]\n`]),
    ),
  });
  commitAll(dir, `${count} people`);
  return { ...o, group, dir };
}
