import { generateKeyPairSync } from 'node:crypto';
import type { Plan } from '../../src/reconcile/plan.js';
import { runCli } from './cli.js';
import { commitAll } from './git.js';
import { type Faults, GoogleServer } from './google-server.js';
import { type FileTree, NO_VERIFY, writeTree } from './repo.js';

export const NOW = '2026-11-27T12:00:00Z';
/** Waits shortened by injection: a Retry-After of a second is waited a few milliseconds. */
export const FAST = { attempts: 5, baseMs: 1, maxMs: 2 };
export const STARTER = '1010020027';
export const STANDARD = '1010020028';
export const SERVICE_ACCOUNT = 'iden@acme-iden.iam.gserviceaccount.com';

/**
 * A Workspace on loopback (acme.com: alice, bob, carol, dave, the admin; the
 * groups eng-oncall@ and design@; Business Starter and Standard with ten
 * licences each) and a service account key the token endpoint trusts.
 */
export async function google(faults: Faults = {}) {
  const server = new GoogleServer();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  server.serviceAccount = { email: SERVICE_ACCOUNT, publicKey };
  Object.assign(server.faults, faults);
  const w = server.workspace;
  for (const u of ['alice', 'bob', 'carol', 'dave', 'mallory', 'iden-admin']) w.addUser(`${u}@acme.com`);
  w.addGroup('eng-oncall@acme.com');
  w.addGroup('design@acme.com');
  w.addSku('Google-Apps', STARTER, 10);
  w.addSku('Google-Apps', STANDARD, 10);
  await server.start();
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const key = JSON.stringify({
    type: 'service_account',
    project_id: 'acme-iden',
    private_key_id: 'k1',
    private_key: pem,
    client_email: SERVICE_ACCOUNT,
    token_uri: 'https://oauth2.googleapis.com/token',
  });
  return { server, pem, env: { GOOGLE_WORKSPACE_CREDENTIALS: key } };
}

export function appYaml(server: GoogleServer, extra = '') {
  return `name: Google Workspace
connector:
  type: google-workspace
  adminEmail: iden-admin@acme.com
  customer: C0iden42
  tokenUri: ${server.urls.token}
  directoryUrl: ${server.urls.directory}
  licensingUrl: ${server.urls.licensing}
${extra}entitlements:
  - { id: eng-oncall, kind: group, group: eng-oncall@acme.com }
  - { id: eng-oncall-owner, kind: group, group: Eng-Oncall@acme.com, role: OWNER }
  - { id: design, kind: group, group: design@acme.com }
licenses:
  - { id: starter, seats: 5, productId: Google-Apps, skuId: "${STARTER}" }
  - { id: standard, seats: 5, productId: Google-Apps, skuId: "${STANDARD}" }
`;
}

export const PEOPLE = `people:
  - { id: alice, name: Alice, email: alice@acme.com }
  - { id: bob, name: Bob, email: Bob@acme.com }
  - { id: carol, name: Carol, email: carol@acme.com }
  - { id: dave, name: Dave, email: dave@acme.com }
  - { id: yan, name: Yan, email: yan@acme.com }
  - { id: zed, name: Zed, email: zed@gmail.com }
`;

/**
 * A new access repository of these files, committed: every repository these
 * tests plan and apply is made here, so what all of them need (settings)
 * is said once.
 */
export function newRepo(tree: FileTree, message: string): string {
  const dir = writeTree({ 'grants/_settings.yaml': NO_VERIFY, ...tree });
  commitAll(dir, message);
  return dir;
}

export function accessRepo(server: GoogleServer, grants: Record<string, string>, extra = '') {
  return newRepo(
    {
      'grants/_people.yaml': PEOPLE,
      'grants/gws/_app.yaml': appYaml(server, extra),
      ...Object.fromEntries(
        Object.entries(grants).map(([user, body]) => [
          `grants/gws/${user}.yaml`,
          `user: ${user}\napp: gws\n${body}`,
        ]),
      ),
    },
    'google workspace access',
  );
}

export const brief = (p: Plan) =>
  p.changes.map((c) => `${c.action} ${c.user} ${c.entitlement ?? c.license} ${c.reason}`);

export async function plan(dir: string, env: NodeJS.ProcessEnv, at = NOW): Promise<Plan> {
  const result = await runCli(['plan', '--repo', dir, '--format', 'json', '--at', at], { env, retry: FAST });
  return JSON.parse(result.stdout) as Plan;
}

export const apply = (dir: string, env: NodeJS.ProcessEnv, at = NOW, ...extra: string[]) =>
  runCli(['apply', '--repo', dir, '--at', at, '--yes', '--no-push', ...extra], { env, retry: FAST });
