import { execFileSync } from 'node:child_process';
import type { Plan } from '../../src/reconcile/plan.js';
import { runCli } from './cli.js';
import { commitAll } from './git.js';
import { NO_VERIFY, writeTree } from './repo.js';

export const NOW = '2026-11-27T12:00:00Z';
export const FAST = { attempts: 3, baseMs: 1, maxMs: 2 };

/** People in _people.yaml whose ids are their uids (and sAMAccountNames). */
export function peopleYaml(ids: string[]): string {
  return `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com }\n`).join('')}`;
}

/** An access repository with one directory app `dir`, committed. */
export function ldapRepo(options: {
  people: string[];
  connector: string;
  entitlements: string[];
  grants: Record<string, string[]>;
  extra?: string;
}): string {
  const dir = writeTree({
    'grants/_settings.yaml': NO_VERIFY,
    'grants/_people.yaml': peopleYaml(options.people),
    'grants/dir/_app.yaml': `name: Directory\nconnector: { type: ldap, ${options.connector} }\nentitlements:\n${options.entitlements.map((e) => `  - ${e}\n`).join('')}${options.extra ?? ''}`,
    ...grantFiles(options.grants),
  });
  commitAll(dir, 'directory access');
  return dir;
}

export function grantFiles(grants: Record<string, string[]>, app = 'dir'): Record<string, string> {
  return Object.fromEntries(
    Object.entries(grants).map(([user, permissions]) => [
      `grants/${app}/${user}.yaml`,
      `user: ${user}\napp: ${app}\npermissions: [${permissions.join(', ')}]\n`,
    ]),
  );
}

/** Changes the repository: files written (null: deleted), then committed. */
export function change(dir: string, files: Record<string, string | null>, message = 'change'): void {
  for (const [path, text] of Object.entries(files))
    if (text === null) execFileSync('git', ['rm', '-q', path], { cwd: dir });
  writeTree(Object.fromEntries(Object.entries(files).filter(([, t]) => t !== null)), dir);
  commitAll(dir, message);
}

export async function plan(dir: string, env: NodeJS.ProcessEnv, at = NOW) {
  const result = await runCli(['plan', '--repo', dir, '--format', 'json', '--at', at], { env, retry: FAST });
  return { ...result, plan: JSON.parse(result.stdout) as Plan };
}

export const apply = (dir: string, env: NodeJS.ProcessEnv, at = NOW) =>
  runCli(['apply', '--repo', dir, '--at', at, '--yes', '--no-push'], { env, retry: FAST });

/** `action user entitlement reason`, one line per change. */
export const brief = (p: Plan) =>
  p.changes.map((c) => `${c.action} ${c.user} ${c.entitlement ?? c.license} ${c.reason}`);
