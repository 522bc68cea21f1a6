import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/model/clock.js';
import { runCli, TEST_NOW } from '../helpers/cli.js';
import { commitAll, git } from '../helpers/git.js';
import { GithubPullServer } from '../helpers/github-server.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';

/**
 * A review world: an access repository with two embedded-PostgreSQL apps
 * (db approved by carol and bob, wh by dave), its bare remote standing for
 * GitHub's copy, the loopback GitHub server over that remote, and clones
 * that act as the people who run iden.
 */
export const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin'];

export const files = {
  '.gitignore': '.iden/\n',
  'grants/_settings.yaml': `timezone: UTC\nroles:\n  super-admin: [alice]\n${NO_VERIFY}`,
  'grants/_people.yaml': `people:\n${PEOPLE.map((id) => `  - { id: ${id}, name: ${id[0]!.toUpperCase()}${id.slice(1)}, email: ${id}@example.com, accounts: { github: ${id}-gh } }\n`).join('')}`,
  'grants/db/_app.yaml':
    'name: Warehouse\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: db_read }\n  - { id: writer, kind: role, role: db_write }\napprovers: [carol, bob]\n',
  'grants/wh/_app.yaml':
    'name: Lake\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: wh_read }\n  - { id: admin, kind: role, role: wh_admin }\napprovers: [dave]\n',
  'grants/db/alice.yaml': 'user: alice\napp: db\npermissions: [readonly]\nreason: On call, OPS-1\n',
  'grants/db/erin.yaml': 'user: erin\napp: db\npermissions: [writer]\nend: 2027-06-01\n',
  'grants/db/carol.yaml': 'user: carol\napp: db\npermissions: [readonly]\n',
  'grants/wh/alice.yaml': 'user: alice\napp: wh\npermissions: [readonly]\n',
  'grants/wh/bob.yaml': 'user: bob\napp: wh\npermissions: [readonly]\n',
  'grants/wh/erin.yaml': 'user: erin\napp: wh\npermissions: [readonly]\nend: 2026-12-05\n',
};

export interface World {
  remote: string;
  server: GithubPullServer;
  /** A clone acting as `person` (git config user.email is theirs). */
  clone(person: string): string;
  env: NodeJS.ProcessEnv;
  iden(args: string[], as: string, at?: string): ReturnType<typeof runCli>;
  /** The clock of the last iden run: how long its paced GitHub writes took, in virtual time. */
  clock: ManualClock;
  stop(): Promise<void>;
}

export async function world(tree: Record<string, string> = files): Promise<World> {
  const seed = writeTree(tree);
  commitAll(seed, 'access', '2026-10-01T10:00:00Z');
  const remote = mkdtempSync(join(tmpdir(), 'iden-remote-'));
  execFileSync('git', ['clone', '-q', '--bare', seed, remote]);
  const server = new GithubPullServer();
  server.remote = remote;
  server.tokens.set('alice-token', { login: 'alice-gh', kind: 'user' });
  await server.start();
  const env = { GITHUB_TOKEN: 'alice-token', GITHUB_REPOSITORY: 'acme/access', GITHUB_API_URL: server.url };
  const clones = new Map<string, string>();
  const clone = (person: string) => {
    const known = clones.get(person);
    if (known) return known;
    const dir = mkdtempSync(join(tmpdir(), `iden-${person}-`));
    execFileSync('git', ['clone', '-q', remote, dir]);
    git(dir, ['config', 'user.email', `${person}@example.com`]);
    git(dir, ['config', 'user.name', person]);
    clones.set(person, dir);
    return dir;
  };
  const w: World = {
    remote,
    server,
    clone,
    env,
    iden(args, as, at) {
      if (at) server.now = () => Date.parse(at);
      // Virtual time, as runCli's own: a paced write moves this clock on at once.
      w.clock = new ManualClock(at ? Date.parse(at) : TEST_NOW, { sleeps: 'advance' });
      return runCli([...args, '--repo', clone(as)], { env, clock: w.clock });
    },
    clock: new ManualClock(TEST_NOW),
    stop: () => server.stop(),
  };
  return w;
}
