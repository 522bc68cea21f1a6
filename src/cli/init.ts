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
import { idFrom } from '../flow/import.js';
import { workflowFor } from '../flow/init-workflows.js';
import { packIden } from '../flow/pack.js';
import { commitAll } from '../git/commit.js';
import { gitConfig, gitUser } from '../git/identity.js';
import { runGit } from '../git/run.js';
import { isTimeZone } from '../model/time.js';
import { idenVersion, packageRoot } from '../util/package-root.js';
import { EXIT, type Io, UsageError } from './io.js';

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

const ID = /^[a-z0-9][a-z0-9._-]*$/;
const EMAIL = /^[^@\s]+@[^@\s]+$/;

/** A YAML plain scalar when the text allows one, else a double-quoted string. */
const yamlText = (text: string) =>
  /^[A-Za-z][A-Za-z0-9 ._@+'-]*$/.test(text) && !/ $/.test(text) ? text : JSON.stringify(text);

/**
 * `iden init [DIR]`: a new access repository that passes `iden validate`:
 * settings with the first Super Admin, the people directory, the schemas for
 * editors, the workflows, a package.json depending on this iden, .gitignore,
 * a README for the people who will use it, and a first commit.
 */
export async function runInit(dir: string | undefined, options: InitOptions, io: Io): Promise<number> {
  const root = resolve(io.cwd, dir ?? '.');
  if (existsSync(root)) {
    const present = readdirSync(root).filter((name) => name !== '.git');
    if (present.length > 0) {
      io.stderr(
        `iden: ${root} is not empty (${present.slice(0, 10).join(', ')}${present.length > 10 ? ', …' : ''}); iden init writes only into an empty or new folder, so nothing was changed\n`,
      );
      return EXIT.failed;
    }
  }
  const outer = await enclosingRepository(root);
  if (outer && !options.force) {
    io.stderr(
      `iden: ${root} is inside the git repository ${outer}; an access repository is a repository of its own, so nothing was changed (--force makes it there all the same)\n`,
    );
    return EXIT.failed;
  }

  const user = await gitUser(io.cwd);
  const defaults = { ...user, email: user.email && EMAIL.test(user.email) ? user.email : undefined };
  const systemZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const ask = async (
    question: string,
    fallback: string | undefined,
    check: (v: string) => string | undefined,
  ) => {
    for (;;) {
      if (!io.interactive || options.yes || !io.ask) {
        if (fallback === undefined)
          throw new UsageError(`${question}: give it as a flag (see iden init --help)`);
        const problem = check(fallback);
        if (problem) throw new UsageError(problem);
        return fallback;
      }
      const answer = (await io.ask(question, fallback)).trim() || fallback || '';
      const problem = check(answer);
      if (!problem) return answer;
      io.stderr(`${problem}\n`);
    }
  };
  const timezone = await ask('Time zone for bare dates (IANA)', options.timezone ?? systemZone, (z) =>
    isTimeZone(z) ? undefined : `"${z}" is not an IANA time zone (such as Europe/Berlin or UTC)`,
  );
  const name = await ask('Your name (the first Super Admin)', options.name ?? defaults.name, (n) =>
    n.length > 0 && n.length <= 200 ? undefined : 'a name of 1 to 200 characters',
  );
  const email = await ask('Your email', options.email ?? defaults.email, (e) =>
    EMAIL.test(e) ? undefined : `"${e}" is not an email address`,
  );
  const id = await ask(
    'Your person id (the file name of your grants)',
    options.superAdmin ?? idFrom(email),
    (i) =>
      ID.test(i)
        ? undefined
        : `"${i}" is not an id: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit`,
  );
  // Pull requests know the Super Admin by this login: without it no approval of theirs counts
  // (and validate warns approver-without-login), so it has no made-up default.
  const login = await ask(
    'Your GitHub login (pull requests know you by it)',
    options.github ?? ((await gitConfig(io.cwd, 'github.user')) || undefined),
    (l) =>
      /^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/.test(l) ? undefined : `"${l}" is not a GitHub login (--github LOGIN)`,
  );
  const githubId = login ? await accountId(login, io) : undefined;

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
${login ? `    accounts: { github: ${login} }\n` : ''}${githubId !== undefined ? `    githubId: ${githubId}\n` : ''}`,
  );
  cpSync(join(packageRoot(), 'schemas'), join(root, 'schemas'), { recursive: true });
  const branch =
    options.defaultBranch ??
    (await existingBranch(root)) ??
    ((await gitConfig(io.cwd, 'init.defaultBranch')) || 'main');
  const templates = join(packageRoot(), '.github', 'workflows');
  for (const name of readdirSync(templates).filter((n) => n.endsWith('.yml')))
    write(
      join('.github/workflows', name),
      workflowFor(readFileSync(join(templates, name), 'utf8'), { branch, secrets: [] }),
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

  const installed = options.install === false ? undefined : await npmInstall(root, io);
  const first = await commitAll(root, 'An access repository, made by iden init', branch);
  // Apply-time verification takes the first commit as it is, and every later one only through an approved pull request.
  appendFileSync(
    join(root, 'grants/_settings.yaml'),
    `policy:\n  # Apply grants only what came through an approved pull request after this commit.\n  verifyFrom: ${first}\n`,
  );
  await commitAll(root, `Verify what lands after ${first.slice(0, 12)}`);
  io.stdout(
    `Created an access repository in ${root} on branch ${branch}: ${id} is its Super Admin, dates are in ${timezone}, iden ${idenVersion()} is vendor/${basename(tarball)}.\nNext: add an app (grants/<app>/_app.yaml), then iden import --app <app> for the access it already holds; see README.md.\n`,
  );
  if (installed === undefined) {
    io.stdout('Then run npm install and commit package-lock.json: CI installs with npm ci.\n');
    return EXIT.ok;
  }
  if (installed !== true) {
    io.stderr(
      `iden: npm install failed, so package-lock.json is missing and CI's npm ci would fail: ${installed}\nRun npm install in ${root} and commit package-lock.json.\n`,
    );
    return EXIT.failed;
  }
  return EXIT.ok;
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
async function npmInstall(root: string, io: Io): Promise<true | string> {
  try {
    await promisify(execFile)('npm', ['install', '--no-audit', '--no-fund'], {
      cwd: root,
      env: { ...process.env, ...io.env, npm_config_update_notifier: 'false' },
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
async function accountId(login: string, io: Io): Promise<number | undefined> {
  if (!io.env.GITHUB_TOKEN) return undefined;
  const { repoContext, github } = await import('../github/client.js');
  const { octokit } = repoContext(io.env, 'none/none');
  try {
    const { data } = await github(`reading GitHub's id of ${login}`, () =>
      octokit.rest.users.getByUsername({ username: login, request: { signal: AbortSignal.timeout(30_000) } }),
    );
    return data.id;
  } catch (e) {
    io.stderr(`notice: githubId left out: ${(e as Error).message}\n`);
    return undefined;
  }
}

function accessReadme(admin: string, tarball: string): string {
  return `# Access

Who has access to which app, as files: \`grants/<app>/<person>.yaml\` gives one
person access to one app. iden (\`vendor/${tarball}\`; after \`npm ci\`, its guide
is \`node_modules/iden/README.md\` and its reference \`node_modules/iden/docs/\`)
checks the files on every pull request and, after the merge, makes the apps
hold exactly what they say.

## Grant access

\`npx iden grant\` asks which app, whom (search by name or email), which
permissions, which license tier (with the seats left) and when, then writes the
file, checks it, commits it on a branch of its own and, with \`GITHUB_TOKEN\`
set, opens the pull request and asks the approvers to review. \`npx iden
change\`, \`npx iden revoke\` and \`npx iden offboard\` do the same for existing
access. Or by hand:

1. Add the person to \`grants/_people.yaml\` (id, name, email, and
   \`accounts: { github: <login> }\` for GitHub and for approving pull requests).
2. Write \`grants/<app>/<person>.yaml\`:

   \`\`\`yaml
   user: <person>
   app: <app>
   permissions: [<entitlement>]
   end: 2027-06-30        # optional; start: too
   reason: Why they need it
   \`\`\`

3. \`npx iden validate\`, then open a pull request. A Super Admin or a Users
   Read/Write admin (\`grants/_settings.yaml\`) grants directly; anyone else's
   request needs the approval of the app's approver or a Super Admin. Every
   other change (settings, people, apps, workflows) needs a Super Admin who did
   not write it. The Super Admin today is ${admin}.

## Add an app

Write \`grants/<app>/_app.yaml\`: its connector (\`postgres\`, \`github\`,
\`scim\`, \`ldap\`, \`okta\`, \`google-workspace\`, \`entra\` or
\`aws-identity-center\`), its entitlements and paid tiers, and its approvers
(iden's README has the smallest file for each). Put the app's secret in the
GitHub environment \`iden\`, under the name its settings give (\`tokenEnv\`,
\`urlEnv\`, …), and in the \`env\` of the iden step of \`iden-apply.yml\` and
\`iden-reconcile.yml\`. Then \`npx iden import --app <app>\` writes a grant
file for everyone who already has access, for review in the first pull
request.

A \`postgres\` app with no \`url\` or \`urlEnv\` is an embedded database under
\`.iden/\` of the clone it runs in: for trying iden out only, since every CI job
starts with an empty one.

## Upgrade iden

Replace \`vendor/${tarball}\` with the new tarball, point \`package.json\` at it,
run \`npm install\`, and open a pull request: a Super Admin approves it.

## Set up GitHub

Protect the default branch (require a pull request and the status check
\`iden/policy\`), create the environment \`iden\` limited to the default branch,
and set Actions' default permissions to read. The workflows in
\`.github/workflows/\` check pull requests, apply merges and reconcile every
15 minutes.
`;
}
