// npm run bench postgres-apply: applying to a real PostgreSQL server and to the
// embedded database, beside the floor of the same statements sent in one
// transaction by the same server (issue 35).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../dist/test/helpers/pg-server.js';

const child = (script, ...args) =>
  JSON.parse(
    execFileSync(process.execPath, [join(import.meta.dirname, script), ...args], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop(),
  );
const median = (xs) => xs.slice().sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const rate = (n, ms) => `${Math.round(n / (ms / 1000)).toLocaleString('en')} changes/s`;
const verdict = (ok) => (ok ? 'met' : 'MISSED');

export async function postgresApplyBench() {
  const server = await startPostgres();
  try {
    // The floor's one transaction comments on every role it makes, a lock each till it ends: room for them.
    await server.sql('ALTER SYSTEM SET max_locks_per_transaction = 512');
    await server.restart();
    await server.sql('CREATE DATABASE bench');
    await server.sql('CREATE ROLE iden LOGIN CREATEROLE');
    for (const role of ['bench_e0', 'bench_e1']) {
      await server.sql(`CREATE ROLE ${role} NOLOGIN`);
      await server.sql(`GRANT ${role} TO iden WITH ADMIN OPTION`);
    }
    const url = server.url('iden', 'bench');
    const version = (await server.sql('SHOW server_version'))[0].server_version;
    /** Drops every person role a run made (memberships go with them). */
    const reset = async () => {
      const rows = await server.sql(
        "SELECT quote_ident(rolname) AS name FROM pg_roles WHERE rolname ~ '^(i|f)[0-9]+_|^person-'",
      );
      // A role dropped takes a lock till the end of its transaction: a few hundred a statement.
      for (let i = 0; i < rows.length; i += 500)
        await server.sql(
          `DROP ROLE ${rows
            .slice(i, i + 500)
            .map((r) => r.name)
            .join(', ')}`,
        );
    };
    const people = 10_000;
    console.log(
      `postgres-apply: a first apply of ${people.toLocaleString('en')} people x 2 roles (${(2 * people).toLocaleString('en')} memberships) to a real PostgreSQL ${version} on loopback`,
    );
    const pairs = [];
    for (let i = 0; i < 3; i++) {
      const a = child('postgres-apply-child.mjs', 'server', url, `i${i}_`, String(people), '2');
      await reset();
      const b = child('postgres-floor-child.mjs', 'server', url, `f${i}_`, String(people), '2');
      await reset();
      pairs.push({ a, b, ratio: b.ms / a.ms });
    }
    const ratio = median(pairs.map((p) => p.ratio));
    const { a, b } = pairs.find((p) => p.ratio === ratio);
    console.log(
      `  floor (the same CREATE ROLE, COMMENT and GRANT statements, ${b.statements.toLocaleString('en')}, as one string in one transaction): ${(b.ms / 1000).toFixed(2)} s, ${rate(b.changes, b.ms)}`,
    );
    console.log(
      `  iden apply (connector, ${a.failed} failed): ${(a.ms / 1000).toFixed(2)} s, ${rate(a.changes, a.ms)}; ${a.statements.toLocaleString('en')} statements in ${a.roundTrips.toLocaleString('en')} round trips; ${ratio.toFixed(2)}x the floor's rate (pairs ${pairs.map((p) => p.ratio.toFixed(2)).join(', ')}; target >= 0.50x): ${verdict(ratio >= 0.5)}`,
    );

    // The embedded database: the same changes, beside PGlite running the same string itself.
    const embeddedPeople = 5_000;
    const epairs = [];
    for (let i = 0; i < 3; i++) {
      const repo = mkdtempSync(join(tmpdir(), 'iden-bench-embedded-'));
      const floorDir = mkdtempSync(join(tmpdir(), 'iden-bench-pglite-'));
      try {
        const a = child('postgres-apply-child.mjs', 'embedded', repo, 'i_', String(embeddedPeople), '2');
        const b = child('postgres-floor-child.mjs', 'embedded', floorDir, 'f_', String(embeddedPeople), '2');
        epairs.push({ a, b, ratio: b.ms / a.ms });
      } finally {
        rmSync(repo, { recursive: true, force: true });
        rmSync(floorDir, { recursive: true, force: true });
      }
    }
    const eratio = median(epairs.map((p) => p.ratio));
    const e = epairs.find((p) => p.ratio === eratio);
    console.log(
      `  embedded (PGlite), ${embeddedPeople.toLocaleString('en')} people x 2 roles: floor (PGlite running the same string in one transaction, in one thread) ${(e.b.ms / 1000).toFixed(2)} s, ${rate(e.b.changes, e.b.ms)}; iden ${(e.a.ms / 1000).toFixed(2)} s, ${rate(e.a.changes, e.a.ms)} (${e.a.failed} failed); ${eratio.toFixed(2)}x (pairs ${epairs.map((p) => p.ratio.toFixed(2)).join(', ')}; target >= 0.50x): ${verdict(eratio >= 0.5)}`,
    );

    // The whole process: iden apply of a repository of 3,000 people x 2 roles, beside psql.
    const dir = wholeRepo(3_000);
    const env = { ...process.env, DB_URL: url };
    const script = join(dir, '..', 'floor.sql');
    const statements = [];
    for (let p = 0; p < 3_000; p++) {
      const account = `"person-${String(p).padStart(5, '0')}"`;
      statements.push(`CREATE ROLE ${account} LOGIN;`, `COMMENT ON ROLE ${account} IS 'managed by iden';`);
      for (const g of ['bench_e0', 'bench_e1']) statements.push(`GRANT ${g} TO ${account};`);
    }
    writeFileSync(script, `${statements.join('\n')}\n`);
    const wall = (f) => {
      const started = performance.now();
      const code = f();
      return { ms: performance.now() - started, code };
    };
    const whole = [];
    for (let i = 0; i < 3; i++) {
      rmSync(join(dir, '.iden'), { recursive: true, force: true });
      const a = wall(() => {
        try {
          execFileSync(
            process.execPath,
            [
              join(import.meta.dirname, '..', 'dist', 'src', 'cli', 'bin.js'),
              ...['apply', '--repo', dir, '--yes', '--no-push', '--at', '2026-11-27T12:00:00Z'],
            ],
            { env, stdio: ['ignore', 'ignore', 'pipe'] },
          );
          return 0;
        } catch (e) {
          return `${e.status}: ${String(e.stderr).slice(0, 300)}`;
        }
      });
      const granted = (
        await server.sql(
          "SELECT count(*)::int AS n FROM pg_auth_members am JOIN pg_roles m ON m.oid = am.member WHERE m.rolname LIKE 'person-%'",
          [],
          'bench',
        )
      )[0].n;
      await reset();
      const b = wall(() =>
        execFileSync('psql', ['-X', '-q', '-1', '-v', 'ON_ERROR_STOP=1', '-f', script, url], {
          stdio: 'ignore',
        }),
      );
      await reset();
      whole.push({ a: { ...a, granted }, b, ratio: b.ms / a.ms });
    }
    const wratio = median(whole.map((p) => p.ratio));
    const w = whole.find((p) => p.ratio === wratio);
    console.log(
      `  whole process, iden apply of a repository of 3,000 people x 2 roles: ${(w.a.ms / 1000).toFixed(2)} s (exit ${w.a.code}, ${w.a.granted} memberships made); floor: psql sending the same statements in one transaction ${(w.b.ms / 1000).toFixed(2)} s; ${wratio.toFixed(2)}x (pairs ${whole.map((p) => p.ratio.toFixed(2)).join(', ')})\n`,
    );
    rmSync(join(dir, '..'), { recursive: true, force: true });
  } finally {
    await server.stop();
  }
}

/** An access repository (a git repository) of `people` people, each granted both roles of one app on DB_URL. */
export function wholeRepo(people) {
  const root = mkdtempSync(join(tmpdir(), 'iden-bench-whole-'));
  const dir = join(root, 'repo');
  const ids = Array.from({ length: people }, (_, p) => `person-${String(p).padStart(5, '0')}`);
  mkdirSync(join(dir, 'grants', 'db'), { recursive: true });
  writeFileSync(join(dir, '.gitignore'), '.iden/\n');
  writeFileSync(join(dir, 'grants', '_settings.yaml'), 'timezone: UTC\npolicy: { verifyMerges: false }\n');
  writeFileSync(
    join(dir, 'grants', '_people.yaml'),
    `people:\n${ids.map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com }\n`).join('')}`,
  );
  writeFileSync(
    join(dir, 'grants', 'db', '_app.yaml'),
    'name: Bench\nconnector: { type: postgres, urlEnv: DB_URL }\nentitlements:\n  - { id: e0, kind: role, role: bench_e0 }\n  - { id: e1, kind: role, role: bench_e1 }\n',
  );
  for (const id of ids)
    writeFileSync(join(dir, 'grants', 'db', `${id}.yaml`), `user: ${id}\napp: db\npermissions: [e0, e1]\n`);
  const git = (...args) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-q', '-m', 'access');
  return dir;
}
