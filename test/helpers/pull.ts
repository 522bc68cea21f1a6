import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './cli.js';
import { git } from './git.js';
import { type FileTree, writeTree } from './repo.js';

export const AT = '2026-11-27T12:00:00Z';

/** The base branch: alice is Super Admin, bob Users Read/Write, carol approves db, dave and erin are nobody special. */
export const prBase: FileTree = {
  'grants/_settings.yaml': 'timezone: UTC\nroles:\n  super-admin: [alice]\n  users-read-write: [bob]\n',
  'grants/_people.yaml': `people:
  - { id: alice, name: Alice, email: alice@example.com, accounts: { github: alice-gh } }
  - { id: bob, name: Bob, email: bob@example.com, accounts: { github: bob-gh } }
  - { id: carol, name: Carol, email: carol@example.com, accounts: { github: carol-gh } }
  - { id: dave, name: Dave, email: dave@example.com, accounts: { github: dave-gh } }
  - { id: erin, name: Erin, email: erin@example.com, accounts: { github: erin-gh } }
`,
  'grants/db/_app.yaml':
    'name: DB\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: db_read }\n  - { id: writer, kind: role, role: db_write }\napprovers: [carol]\n',
  'grants/db/erin.yaml': 'user: erin\napp: db\npermissions: [readonly]\nend: 2027-03-01\n',
  'README.md': '# access\n',
};

export interface PullOptions {
  base?: FileTree;
  remove?: string[];
  /** Symbolic links to add: path to target. */
  links?: Record<string, string>;
}

/** A repository with the base on main and one pull-request branch `pr` making the changes; returns the head sha. */
export function pullRequest(changes: FileTree, options: PullOptions = {}): { dir: string; head: string } {
  const dir = writeTree(options.base ?? prBase);
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'base']);
  git(dir, ['checkout', '-q', '-b', 'pr']);
  writeTree(changes, dir);
  for (const path of options.remove ?? []) rmSync(join(dir, path));
  for (const [path, target] of Object.entries(options.links ?? {})) {
    rmSync(join(dir, path), { force: true });
    symlinkSync(target, join(dir, path));
  }
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '--allow-empty', '-m', 'change']);
  return { dir, head: git(dir, ['rev-parse', 'HEAD']).trim() };
}

export function reviewsFile(
  dir: string,
  list: { login: string; state?: string; commit: string; at?: string }[],
): string {
  const file = join(dir, '..', `reviews-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      list.map((r, i) => ({
        id: i + 1,
        user: { login: r.login },
        state: r.state ?? 'APPROVED',
        commit_id: r.commit,
        submitted_at: r.at ?? `2026-11-27T10:${String(i).padStart(2, '0')}:00Z`,
      })),
    ),
  );
  return file;
}

export interface Verdict {
  file: string;
  change: string;
  classification: string;
  ok: boolean;
  reason: string;
  reviews: { login: string; person?: string; state: string; counted: boolean; why: string }[];
  approvers: string[];
}

export interface Checked {
  code: number;
  ok: boolean;
  files: Verdict[];
  problems: string[];
  effect: unknown[];
  scheduled: unknown[];
  grants: Record<string, unknown>[];
  diagnostics: { file: string; code: string; message: string }[];
}

/** Runs check-pr on `pr` against `main` locally, as `author` (with more contributors and reviews). */
export async function checkLocal(
  dir: string,
  author: string,
  options: { reviews?: string; contributors?: string[] } = {},
): Promise<Checked> {
  const args = ['check-pr', '--repo', dir, '--base', 'main', '--head', 'pr', '--author', author];
  args.push('--format', 'json', '--at', AT);
  for (const c of options.contributors ?? []) args.push('--contributor', c);
  if (options.reviews) args.push('--reviews', options.reviews);
  const result = await runCli(args);
  if (!result.stdout) throw new Error(result.stderr);
  return { code: result.code, ...(JSON.parse(result.stdout) as Omit<Checked, 'code'>) };
}

export const brief = (c: Checked) => c.files.map((f) => `${f.file} ${f.classification} ${f.ok}`);
