// `iden init`'s core: where the new access repository goes, the answers it
// is made from (asked through the questions port for what the flags left
// out), and the repository itself: settings with the first Super Admin, the
// people directory, the schemas for editors, the workflows, a package.json
// depending on a vendored copy of this iden, and a first commit.
import { execFile } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { OperatorError, UsageError } from '../errors.js';
import { commitAll } from '../git/commit.js';
import { gitConfig, gitUser } from '../git/identity.js';
import { runGit } from '../git/run.js';
import { isTimeZone } from '../model/time.js';
import { packageRoot } from '../util/package-root.js';
import { idFrom } from './import.js';
import { accessReadme } from './init-readme.js';
import { workflowFor } from './init-workflows.js';
import { packIden } from './pack.js';
import type { Questions } from './questions.js';

export interface InitOptions {
  timezone?: string;
  superAdmin?: string;
  name?: string;
  email?: string;
  github?: string;
  yes?: boolean;
  /** Make the repository inside another git repository's work tree all the same. */
  force?: boolean;
  /** Run `npm install` so that package-lock.json pins iden and its dependencies (default true). */
  install?: boolean;
  /** The default branch (default: git config init.defaultBranch, else main). */
  defaultBranch?: string;
}

/** Who the first Super Admin is and which zone bare dates are read in. */
export interface InitAnswers {
  timezone: string;
  name: string;
  email: string;
  id: string;
  /** The GitHub login pull requests know the Super Admin by. */
  login: string;
}

export interface Initialised {
  root: string;
  branch: string;
  /** The vendored tarball's file name, under vendor/. */
  tarball: string;
  /** Whether `npm install` ran and pinned iden in package-lock.json: true, skipped, or why it failed. */
  installed: true | 'skipped' | string;
  /** What the person should know (a GitHub id left out, and why). */
  notices: string[];
}

const ID = /^[a-z0-9][a-z0-9._-]*$/;
const EMAIL = /^[^@\s]+@[^@\s]+$/;

/** A YAML plain scalar when the text allows one, else a double-quoted string. */
const yamlText = (text: string) =>
  /^[A-Za-z][A-Za-z0-9 ._@+'-]*$/.test(text) && !/ $/.test(text) ? text : JSON.stringify(text);

/** The folder the repository goes in: new or empty, and not inside another repository unless forced. */
export async function initTarget(
  cwd: string,
  dir: string | undefined,
  force: boolean | undefined,
): Promise<string> {
  const root = resolve(cwd, dir ?? '.');
  if (existsSync(root)) {
    const present = readdirSync(root).filter((name) => name !== '.git');
    if (present.length > 0)
      throw new OperatorError(
        `${root} is not empty (${present.slice(0, 10).join(', ')}${present.length > 10 ? ', …' : ''}); iden init writes only into an empty or new folder, so nothing was changed`,
      );
  }
  const outer = await enclosingRepository(root);
  if (outer && !force)
    throw new OperatorError(
      `${root} is inside the git repository ${outer}; an access repository is a repository of its own, so nothing was changed (--force makes it there all the same)`,
    );
  return root;
}

/**
 * The answers: each flag as given, else asked (offering git's identity and the
 * system's zone), else, with no one to ask, the default or a usage error.
 */
export async function initAnswers(
  options: InitOptions,
  cwd: string,
  ask: Questions | undefined,
): Promise<InitAnswers> {
  const user = await gitUser(cwd);
  const answer = async (
    message: string,
    fallback: string | undefined,
    check: (v: string) => string | undefined,
  ) => {
    if (!ask) {
      if (fallback === undefined)
        throw new UsageError(`${message}: give it as a flag (see iden init --help)`);
      const problem = check(fallback);
      if (problem) throw new UsageError(problem);
      return fallback;
    }
    const given = await ask.input({
      message,
      ...(fallback !== undefined ? { default: fallback } : {}),
      validate: (v) => check(v.trim()) ?? true,
    });
    return given.trim();
  };
  const timezone = await answer(
    'Time zone for bare dates (IANA)',
    options.timezone ?? (Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'),
    (z) => (isTimeZone(z) ? undefined : `"${z}" is not an IANA time zone (such as Europe/Berlin or UTC)`),
  );
  const name = await answer('Your name (the first Super Admin)', options.name ?? user.name, (n) =>
    n.length > 0 && n.length <= 200 ? undefined : 'a name of 1 to 200 characters',
  );
  const email = await answer(
    'Your email',
    options.email ?? (user.email && EMAIL.test(user.email) ? user.email : undefined),
    (e) => (EMAIL.test(e) ? undefined : `"${e}" is not an email address`),
  );
  const id = await answer(
    'Your person id (the file name of your grants)',
    options.superAdmin ?? idFrom(email),
    (i) =>
      ID.test(i)
        ? undefined
        : `"${i}" is not an id: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit`,
  );
  // Pull requests know the Super Admin by this login: without it no approval of theirs counts
  // (and validate warns approver-without-login), so it has no made-up default.
  const login = await answer(
    'Your GitHub login (pull requests know you by it)',
    options.github ?? ((await gitConfig(cwd, 'github.user')) || undefined),
    (l) =>
      /^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/.test(l) ? undefined : `"${l}" is not a GitHub login (--github LOGIN)`,
  );
  return { timezone, name, email, id, login };
}

/** Writes the access repository into `root` and makes its first two commits. */
export async function createAccessRepository(
  root: string,
  answers: InitAnswers,
  options: InitOptions,
  context: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<Initialised> {
  const { timezone, name, email, id, login } = answers;
  const notices: string[] = [];
  const githubId = await accountId(login, context.env, notices);
  mkdirSync(join(root, 'grants'), { recursive: true });
  const write = (path: string, text: string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write(
    'grants/_settings.yaml',
    `# yaml-language-server: $schema=../schemas/settings.schema.json
timezone: ${timezone}
roles:
  # Super Admins grant directly and approve changes to settings, people and apps.
  # Name a second one soon: no one approves their own policy change.
  super-admin: [${id}]
  users-read-write: []
`,
  );
  write(
    'grants/_people.yaml',
    `# yaml-language-server: $schema=../schemas/people.schema.json
people:
  - id: ${id}
    name: ${yamlText(name)}
    email: ${email}
    accounts: { github: ${login} }
${githubId !== undefined ? `    githubId: ${githubId}\n` : ''}`,
  );
  cpSync(join(packageRoot(), 'schemas'), join(root, 'schemas'), { recursive: true });
  const branch =
    options.defaultBranch ??
    (await existingBranch(root)) ??
    ((await gitConfig(context.cwd, 'init.defaultBranch')) || 'main');
  const templates = join(packageRoot(), '.github', 'workflows');
  for (const file of readdirSync(templates).filter((n) => n.endsWith('.yml')))
    write(
      join('.github/workflows', file),
      workflowFor(readFileSync(join(templates, file), 'utf8'), { branch, secrets: [] }),
    );
  // iden itself, committed: `npm ci` in every clone and CI job resolves it inside the repository.
  const tarball = await packIden(packageRoot(), join(root, 'vendor'));
  const dependency = `file:${relative(root, tarball).split(/[\\/]/).join('/')}`;
  write(
    'package.json',
    `${JSON.stringify(
      {
        name: idFrom(root.split(/[\\/]/).pop() ?? 'access'),
        private: true,
        description: 'Who has access to what: grants as code, applied by iden',
        scripts: { validate: 'iden validate', plan: 'iden plan' },
        dependencies: { iden: dependency },
      },
      null,
      2,
    )}\n`,
  );
  write('.gitignore', '.iden/\nnode_modules/\n');
  write('README.md', accessReadme(id, basename(tarball)));

  const installed = options.install === false ? 'skipped' : await npmInstall(root, context.env);
  const first = await commitAll(root, 'An access repository, made by iden init', branch);
  // Apply-time verification takes the first commit as it is, and every later one only through an approved pull request.
  appendFileSync(
    join(root, 'grants/_settings.yaml'),
    `policy:\n  # Apply grants only what came through an approved pull request after this commit.\n  verifyFrom: ${first}\n`,
  );
  await commitAll(root, `Verify what lands after ${first.slice(0, 12)}`);
  return { root, branch, tarball: basename(tarball), installed, notices };
}

/** The top of the git repository whose work tree holds `dir`'s nearest existing folder, unless that is `dir` itself. */
async function enclosingRepository(dir: string): Promise<string | undefined> {
  let probe = dir;
  while (!existsSync(probe)) probe = dirname(probe);
  const top = await runGit(probe, ['rev-parse', '--show-toplevel'], [0, 128]).catch(() => undefined);
  if (top?.code !== 0) return undefined;
  const outer = top.stdout.trim();
  return existsSync(dir) && realpathSync(outer) === realpathSync(dir) ? undefined : outer;
}

/** The branch an existing (empty) repository in `dir` is on, if any. */
async function existingBranch(dir: string): Promise<string | undefined> {
  if (!existsSync(join(dir, '.git'))) return undefined;
  const head = await runGit(dir, ['symbolic-ref', '--short', 'HEAD'], [0, 1, 128]).catch(() => undefined);
  return head?.code === 0 ? head.stdout.trim() : undefined;
}

/** npm install in the new repository, as the user would: true, or why it failed. */
async function npmInstall(root: string, env: NodeJS.ProcessEnv): Promise<true | string> {
  try {
    await promisify(execFile)('npm', ['install', '--no-audit', '--no-fund'], {
      cwd: root,
      env: { ...process.env, ...env, npm_config_update_notifier: 'false' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return true;
  } catch (e) {
    const stderr = (e as { stderr?: string }).stderr ?? '';
    return (stderr.split('\n').find((l) => /ERR!/.test(l)) ?? (e as Error).message).trim();
  }
}

/**
 * GitHub's numeric id of a login, with GITHUB_TOKEN: written beside the login
 * so that, should the login be renamed or recycled, its new holder inherits
 * nothing. Without a token, or when GitHub cannot say, it is left out, and said.
 */
async function accountId(
  login: string,
  env: NodeJS.ProcessEnv,
  notices: string[],
): Promise<number | undefined> {
  if (!env.GITHUB_TOKEN) return undefined;
  const { repoContext, github } = await import('../github/client.js');
  const { octokit } = repoContext(env, 'none/none');
  try {
    const { data } = await github(`reading GitHub's id of ${login}`, () =>
      octokit.rest.users.getByUsername({ username: login, request: { signal: AbortSignal.timeout(30_000) } }),
    );
    return data.id;
  } catch (e) {
    notices.push(`githubId left out: ${(e as Error).message}`);
    return undefined;
  }
}
