import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parse } from 'yaml';
import { packageRoot } from '../src/util/package-root.js';
import { runCli } from './helpers/cli.js';
import { commitAll } from './helpers/git.js';
import { startLockfileRegistry } from './helpers/npm-registry.js';

const run = promisify(execFile);
const root = packageRoot();
/** A proxy nobody listens on: anything that tries the network fails at once. */
const NO_NETWORK = 'http://127.0.0.1:9';

interface Step {
  run?: string;
  uses?: string;
  env?: Record<string, string>;
}

/**
 * A new team's first day as the README tells it, outside this checkout: the
 * package packed, `iden init` run from it elsewhere with npx, installed from a
 * local package cache with the network cut off (npm offline, every proxy a dead
 * loopback port), validated, a clean clone installed as CI installs it, an
 * embedded app applied, and the generated workflows' commands run.
 */
describe("a new team's first day", () => {
  it('goes from the tarball to a repository that validates, applies and passes its own workflows', async () => {
    const work = mkdtempSync(join(tmpdir(), 'iden-first-day-'));
    // The packages `npm ci` of this checkout pinned, served on loopback from the npm cache it filled.
    const userCache = execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim();
    const registry = await startLockfileRegistry(join(root, 'package-lock.json'), userCache);
    onTestFinished(registry.stop);
    const cache = join(work, 'npm-cache');
    cpSync(join(userCache, '_cacache'), join(cache, '_cacache'), { recursive: true });
    const home = join(work, 'home');
    mkdirSync(home);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      // A machine of its own: no git identity, no npm configuration or cache of the developer's.
      HOME: home,
      // A copy of the cache npm ci filled: its tarballs are found by their integrity, not fetched again.
      npm_config_cache: cache,
      npm_config_registry: `${registry.url}/`,
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
      // What the loopback registry said once holds for the whole test.
      npm_config_prefer_offline: 'true',
      // Anything else that tries the network fails at once.
      http_proxy: NO_NETWORK,
      https_proxy: NO_NETWORK,
      HTTP_PROXY: NO_NETWORK,
      HTTPS_PROXY: NO_NETWORK,
      NO_PROXY: '127.0.0.1',
      npm_config_noproxy: '127.0.0.1',
    };
    const sh = async (cwd: string, command: string, extra: NodeJS.ProcessEnv = {}) => {
      try {
        return await run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', command], {
          cwd,
          env: { ...env, ...extra },
          maxBuffer: 64 * 1024 * 1024,
        });
      } catch (e) {
        const failed = e as { stdout: string; stderr: string; code: number };
        throw new Error(`${command} (in ${cwd}) exited ${failed.code}:\n${failed.stdout}\n${failed.stderr}`);
      }
    };

    // 1. The package, as `npm run pack` makes it (the build is npm test's own).
    const tarball = (await sh(work, `node ${join(root, 'scripts/pack.mjs')} .`)).stdout.trim();
    const files = (await sh(work, `tar tzf ${tarball}`)).stdout.split('\n');
    expect(files).toContain('package/LICENSE');
    expect(files).toContain('package/src/connectors/postgres/README.md');
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    const manifest = JSON.parse((await sh(work, `tar xzf ${tarball} -O package/package.json`)).stdout);
    expect(manifest.scripts).toBeUndefined();
    expect(manifest.devDependencies).toBeUndefined();

    // 2. Init, from the tarball, with the README's command.
    const made = await sh(
      work,
      `npx --yes --package ./${tarball.split('/').pop()} iden init acme-access --yes --github alice-m --name 'Alice Martin' --email alice@example.com --timezone Europe/Berlin`,
    );
    expect(made.stdout).toContain('Created an access repository in');
    // What npm needed from a registry it asked the loopback one for: nothing reached the network.
    expect(registry.requests).toContain('pg');
    const repo = join(work, 'acme-access');
    const tracked = (await sh(repo, 'git ls-files')).stdout.split('\n');
    expect(tracked).toEqual(expect.arrayContaining(['package-lock.json', 'vendor/iden-0.1.0.tgz']));
    expect((await sh(repo, 'git status --porcelain')).stdout).toBe('');
    expect((await sh(repo, "git log --format='%an <%ae>'")).stdout).toBe(
      'iden <iden@iden.invalid>\niden <iden@iden.invalid>\n',
    );
    const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8'));
    expect(lock.packages['node_modules/iden'].resolved).toBe('file:vendor/iden-0.1.0.tgz');
    const valid = await sh(repo, 'npx --no-install iden validate --format json');
    expect(JSON.parse(valid.stdout)).toEqual({ ok: true, diagnostics: [] });

    // 3. A clean clone, installed as the workflows install; a first app (embedded) and a first grant.
    await sh(work, 'git clone -q acme-access clone');
    const clone = join(work, 'clone');
    await sh(clone, 'npm ci --ignore-scripts');
    mkdirSync(join(clone, 'grants/analytics'));
    writeFileSync(
      join(clone, 'grants/analytics/_app.yaml'),
      'name: Analytics\nconnector: { type: postgres }\nentitlements:\n  - { id: readonly, kind: role, role: analytics_read }\napprovers: [alice]\n',
    );
    writeFileSync(
      join(clone, 'grants/analytics/alice.yaml'),
      'user: alice\napp: analytics\npermissions: [readonly]\nreason: The first grant\n',
    );
    // No GitHub in this test: verification opted out, as a repository without GitHub does.
    writeFileSync(
      join(clone, 'grants/_settings.yaml'),
      `${readFileSync(join(clone, 'grants/_settings.yaml'), 'utf8')}  verifyMerges: false\n`,
    );
    await sh(
      clone,
      "git add -A && git -c user.name=Alice -c user.email=alice@example.com commit -qm 'The first app'",
    );

    // 4. The generated workflows' commands, in CI's environment.
    const output = join(work, 'github-output');
    writeFileSync(output, '');
    const ci = { CI: 'true', GITHUB_OUTPUT: output };
    const steps = (workflow: string, job: string): Step[] =>
      parse(readFileSync(join(clone, '.github/workflows', workflow), 'utf8')).jobs[job].steps;
    const stepEnv = (step: Step, matrix: Record<string, string>) =>
      Object.fromEntries(
        Object.entries(step.env ?? {}).flatMap(([name, value]) => {
          const m = /^\$\{\{ matrix\.(\w+) \}\}$/.exec(value);
          if (m) return [[name, matrix[m[1]!]!]];
          return /\$\{\{/.test(value) ? [] : [[name, value]];
        }),
      );
    let installed = false;
    const results: string[] = [];
    for (const [workflow, job, matrix] of [
      ['iden-apply.yml', 'apply', {}],
      ['iden-reconcile.yml', 'apps', {}],
      ['iden-reconcile.yml', 'reconcile', { app: 'analytics' }],
      ['iden-report.yml', 'build', {}],
    ] as const) {
      for (const step of steps(workflow, job)) {
        if (!step.run) continue;
        if (step.run.startsWith('npm ci')) {
          if (installed) continue;
          installed = true;
        }
        const out = await sh(clone, step.run, { ...ci, ...stepEnv(step, matrix) });
        results.push(out.stdout + out.stderr);
      }
    }
    const all = results.join('\n');
    expect(all).toContain('Applied: 1 granted');
    expect(all).toContain(
      'notice: analytics: an embedded PostgreSQL in .iden/pglite/analytics of this clone, for trying iden out: every CI job starts with an empty one (set url or urlEnv for a server)',
    );
    expect(readFileSync(output, 'utf8')).toBe('apps=["analytics"]\n');
    expect(existsSync(join(clone, 'site/index.html'))).toBe(true);
    const status = await sh(clone, 'npx --no-install iden status --format json');
    expect(JSON.parse(status.stdout).apps).toEqual([
      expect.objectContaining({ app: 'analytics', state: 'in-sync' }),
    ]);
  }, 600_000);

  it('is told, in CI, that an embedded PostgreSQL lives and dies with the clone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iden-embedded-ci-'));
    cpSync(join(root, 'grants'), join(dir, 'grants'), { recursive: true });
    writeFileSync(join(dir, '.gitignore'), '.iden/\n');
    commitAll(dir, 'example');
    const notice =
      'notice: analytics: an embedded PostgreSQL in .iden/pglite/analytics of this clone, for trying iden out: every CI job starts with an empty one (set url or urlEnv for a server)\n';
    const inCi = await runCli(['plan', '--repo', dir], { env: { CI: 'true' } });
    expect(inCi.stderr).toContain(notice);
    const onALaptop = await runCli(['plan', '--repo', dir], { env: { CI: 'false' } });
    expect(onALaptop.stderr).not.toContain('embedded PostgreSQL');
  });
});
