import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/package-root.js';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';
import { seedEmbedded } from '../helpers/postgres.js';
import { writeTree } from '../helpers/repo.js';

/** Berlin time; a tier of two seats that three grants share over time, across the change to summer time. */
function seatsRepo(): string {
  const dir = writeTree({
    'grants/_settings.yaml': 'timezone: Europe/Berlin\n',
    'grants/_people.yaml': `people:
  - { id: ana, name: Ana, email: ana@example.com }
  - { id: ben, name: Ben, email: Ben@Example.com }
  - { id: cy, name: Cy, email: cy@example.com }
  - { id: dee, name: Dee, email: dee@example.com }
`,
    'grants/db/_app.yaml':
      'name: DB\nconnector: { type: postgres }\nentitlements:\n  - { id: read, kind: role, role: db_read }\nlicenses:\n  - { id: pro, seats: 2, role: db_pro }\n',
    // ana holds a seat until the day summer time starts; ben's starts then; cy's runs on.
    'grants/db/ana.yaml': 'user: ana\napp: db\npermissions: [read]\nlicense: pro\nend: 2027-03-28\n',
    'grants/db/ben.yaml':
      'user: ben\napp: db\npermissions: [read]\nlicense: pro\nstart: 2027-03-28\nend: 2027-04-10\n',
    'grants/db/cy.yaml': 'user: cy\napp: db\npermissions: [read]\nlicense: pro\n',
    // dee's grant ended already: in no view.
    'grants/db/dee.yaml': 'user: dee\napp: db\npermissions: [read]\nend: 2027-01-01\n',
  });
  commitAll(dir, 'db');
  return dir;
}

async function json<T>(args: string[]): Promise<T> {
  const result = await runCli([...args, '--format', 'json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}

describe('iden access', () => {
  it('lists active and scheduled grants with names and emails, and the seats with when one frees up', async () => {
    const dir = seatsRepo();
    const view = await json<{ at: string; access: unknown[]; seats: unknown[] }>([
      'access',
      '--repo',
      dir,
      '--at',
      '2027-03-01',
    ]);
    expect(view.at).toBe('2027-02-28T23:00:00.000Z');
    expect(view.access).toEqual([
      {
        user: 'ana',
        name: 'Ana',
        email: 'ana@example.com',
        app: 'db',
        permissions: ['read'],
        license: 'pro',
        end: '2027-03-27T23:00:00.000Z',
        status: 'active',
        file: 'grants/db/ana.yaml',
      },
      {
        user: 'ben',
        name: 'Ben',
        email: 'Ben@Example.com',
        app: 'db',
        permissions: ['read'],
        license: 'pro',
        // Midnight in Berlin on the day summer time starts is still 23:00 UTC the day before.
        start: '2027-03-27T23:00:00.000Z',
        end: '2027-04-09T22:00:00.000Z',
        status: 'scheduled',
        file: 'grants/db/ben.yaml',
      },
      {
        user: 'cy',
        name: 'Cy',
        email: 'cy@example.com',
        app: 'db',
        permissions: ['read'],
        license: 'pro',
        status: 'active',
        file: 'grants/db/cy.yaml',
      },
    ]);
    // Full (ana and cy): the seat ana frees is taken by ben at the same instant, so the next free one is when ben's ends.
    expect(view.seats).toEqual([
      { app: 'db', tier: 'pro', seats: 2, used: 2, free: 0, nextFree: '2027-04-09T22:00:00.000Z' },
    ]);
    const byEmail = await json<{ access: { user: string }[] }>([
      'access',
      '--repo',
      dir,
      '--at',
      '2027-03-01',
      '--user',
      'ben@example.com',
    ]);
    expect(byEmail.access.map((r) => r.user)).toEqual(['ben']);
    const csv = await runCli(['access', '--repo', dir, '--at', '2027-03-01', '--format', 'csv']);
    expect(csv.stdout.split('\n')[0]).toBe('"user","name","app","access","status","start","end"');
  });

  it('says, with --observed, what an embedded PostgreSQL really holds, and the drift', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iden-access-'));
    cpSync(join(packageRoot(), 'grants'), join(dir, 'grants'), { recursive: true });
    writeFileSync(join(dir, '.gitignore'), '.iden/\n');
    commitAll(dir, 'example');
    seedEmbedded(dir, 'analytics');
    expect((await runCli(['apply', '--repo', dir, '--at', '2026-11-27', '--yes', '--no-push'])).code).toBe(0);
    const db = await PGlite.create(join(dir, '.iden', 'pglite', 'analytics'));
    await db.exec('REVOKE analytics_write FROM alice; GRANT analytics_write TO carol;');
    await db.close();
    const view = await json<{
      access: { user: string; app: string; observed?: string }[];
      drift: { user: string; entitlement: string }[];
      skipped: { app: string }[];
    }>(['access', '--repo', dir, '--at', '2026-11-27', '--app', 'analytics', '--observed']);
    expect(view.access.map((r) => `${r.user} ${r.observed ?? '-'}`)).toEqual([
      'alice missing',
      'bob in-sync',
      'carol in-sync',
      'dave -',
      'erin -',
    ]);
    expect(view.drift.map((d) => `${d.user} ${d.entitlement}`)).toEqual(['carol writer']);
    expect(view.skipped).toEqual([]);
  });
});

describe('iden upcoming', () => {
  it('lists starts and ends within the window, in time order, across daylight saving', async () => {
    const dir = seatsRepo();
    const view = await json<{ from: string; to: string; events: unknown[] }>([
      'upcoming',
      '--repo',
      dir,
      '--at',
      '2027-03-27',
      '--within',
      '2w',
    ]);
    expect(view.from).toBe('2027-03-26T23:00:00.000Z');
    expect(view.to).toBe('2027-04-09T23:00:00.000Z');
    expect(view.events).toEqual([
      {
        kind: 'end',
        at: '2027-03-27T23:00:00.000Z',
        user: 'ana',
        app: 'db',
        permissions: ['read'],
        license: 'pro',
        file: 'grants/db/ana.yaml',
      },
      {
        kind: 'start',
        at: '2027-03-27T23:00:00.000Z',
        user: 'ben',
        app: 'db',
        permissions: ['read'],
        license: 'pro',
        file: 'grants/db/ben.yaml',
      },
      {
        kind: 'end',
        at: '2027-04-09T22:00:00.000Z',
        user: 'ben',
        app: 'db',
        permissions: ['read'],
        license: 'pro',
        file: 'grants/db/ben.yaml',
      },
    ]);
    const text = await runCli(['upcoming', '--repo', dir, '--at', '2027-03-27', '--within', '2w']);
    expect(text.stdout).toMatch(/^2027-03-28\n {2}time +kind/);
    expect(text.stdout).toContain('\n2027-04-10\n');
    expect((await runCli(['upcoming', '--repo', dir, '--within', 'soon'])).code).toBe(2);
  });
});
