// iden init [DIR]: a new access repository that passes `iden validate`, made
// from the flags and, on a terminal, answers to what they left out.
import type { Command } from 'commander';
import type { InitOptions } from '../flow/init.js';
import { paint } from '../report/paint.js';
import { idenVersion } from '../util/package-root.js';
import { colourOn, EXIT, type Io } from './io.js';

export function initCommand(cli: Command, io: Io, done: (code: number) => void): void {
  cli
    .command('init')
    .description('start a new access repository in an empty or new folder')
    .argument('[dir]', 'the folder (default: the current one)')
    .option('--timezone <zone>', "the IANA time zone bare dates are read in (default: this system's)")
    .option('--super-admin <id>', 'your person id, the first Super Admin (default: from your email)')
    .option('--name <name>', 'your name (default: git config user.name)')
    .option('--email <email>', 'your email (default: git config user.email)')
    .option('--github <login>', 'your GitHub login, by which pull requests know you')
    .option('--yes', 'ask nothing: take the flags and the defaults')
    .option('--force', 'make it inside another git repository all the same')
    .option('--no-install', 'skip npm install (then run it and commit package-lock.json)')
    .option(
      '--default-branch <name>',
      'the default branch (default: git config init.defaultBranch, else main)',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ iden init acme-access                          # asks for what it needs
  $ iden init acme-access --yes --github octocat   # git's name and email, this system's zone`,
    )
    .action(async (dir: string | undefined, options: InitOptions) => done(await runInit(dir, options, io)));
}

/** Makes the repository and says what was made and what to do next. */
export async function runInit(dir: string | undefined, options: InitOptions, io: Io): Promise<number> {
  const { initTarget, initAnswers, createAccessRepository } = await import('../flow/init.js');
  const root = await initTarget(io.cwd, dir, options.force);
  const ask = options.yes || !io.interactive ? undefined : await io.questions(false);
  const answers = await initAnswers(options, io.cwd, ask);
  const made = await createAccessRepository(root, answers, options, { cwd: io.cwd, env: io.env });
  for (const notice of made.notices) io.stderr(`notice: ${notice}\n`);
  const hue = paint(colourOn(io));
  io.stdout(
    `${hue('green', 'Created')} an access repository in ${root} on branch ${made.branch}: ${answers.id} is its Super Admin, dates are in ${answers.timezone}, iden ${idenVersion()} is vendor/${made.tarball}.\nNext: add an app (grants/<app>/_app.yaml), then iden import --app <app> for the access it already holds; see README.md.\n`,
  );
  if (made.installed === 'skipped') {
    io.stdout('Then run npm install and commit package-lock.json: CI installs with npm ci.\n');
    return EXIT.ok;
  }
  if (made.installed !== true) {
    io.stderr(
      `iden: npm install failed, so package-lock.json is missing and CI's npm ci would fail: ${made.installed}\nRun npm install in ${root} and commit package-lock.json.\n`,
    );
    return EXIT.failed;
  }
  return EXIT.ok;
}
