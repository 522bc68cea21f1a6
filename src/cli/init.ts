import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { idFrom } from '../flow/import.js';
import { commitAll } from '../git/commit.js';
import { gitUser } from '../git/identity.js';
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
  const login =
    options.github ??
    (io.interactive && !options.yes && io.ask
      ? (await io.ask('Your GitHub login (pull requests know you by it)', undefined)).trim()
      : '');
  if (login !== '' && !/^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/.test(login))
    throw new UsageError(`"${login}" is not a GitHub login`);
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
  cpSync(join(packageRoot(), '.github', 'workflows'), join(root, '.github', 'workflows'), {
    recursive: true,
  });
  write(
    'package.json',
    `${JSON.stringify(
      {
        name: idFrom(root.split(/[\\/]/).pop() ?? 'access'),
        private: true,
        description: 'Who has access to what: grants as code, applied by iden',
        scripts: { validate: 'iden validate', plan: 'iden plan' },
        dependencies: { iden: idenVersion() },
      },
      null,
      2,
    )}\n`,
  );
  write('.gitignore', '.iden/\nnode_modules/\n');
  write('README.md', accessReadme(id));

  const first = await commitAll(root, 'An access repository, made by iden init');
  // Apply-time verification takes the first commit as it is, and every later one only through an approved pull request.
  appendFileSync(
    join(root, 'grants/_settings.yaml'),
    `policy:\n  # Apply grants only what came through an approved pull request after this commit.\n  verifyFrom: ${first}\n`,
  );
  await commitAll(root, `Verify what lands after ${first.slice(0, 12)}`);
  io.stdout(
    `Created an access repository in ${root}: ${id} is its Super Admin, dates are in ${timezone}.\nNext: add an app (grants/<app>/_app.yaml), then iden import --app <app> for the access it already holds; see README.md.\n`,
  );
  return EXIT.ok;
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

function accessReadme(admin: string): string {
  return `# Access

Who has access to which app, as files: \`grants/<app>/<person>.yaml\` gives one
person access to one app. [iden](https://www.npmjs.com/package/iden) checks the
files on every pull request and, after the merge, makes the apps hold exactly
what they say.

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

Write \`grants/<app>/_app.yaml\`: its connector (\`postgres\`, \`github\` or
\`scim\`), its entitlements and paid tiers, and its approvers (see iden's
README). Put the app's secret in the GitHub environment \`iden\`, under the
name its \`tokenEnv\` or \`urlEnv\` gives, and in the \`env\` of the steps that run
iden in \`.github/workflows/\`. Then \`npx iden import --app <app>\` writes a grant
file for everyone who already has access, for review in the first pull
request.

## Set up GitHub

Protect the default branch (require a pull request and the status check
\`iden/policy\`), create the environment \`iden\` limited to the default branch,
and set Actions' default permissions to read. The workflows in
\`.github/workflows/\` check pull requests, apply merges and reconcile every
15 minutes.
`;
}
