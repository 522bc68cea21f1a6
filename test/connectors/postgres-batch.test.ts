import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectors } from '../../src/connectors/catalog.js';
import {
  type AppSpec,
  type Change,
  type ConnectorContext,
  type Session,
  TransientError,
} from '../../src/connectors/types.js';
import { applyChanges } from '../../src/reconcile/apply.js';
import { FAST, prepareDatabase } from '../helpers/pg-repo.js';
import { type PostgresServer, startPostgres } from '../helpers/pg-server.js';
import { seedEmbedded } from '../helpers/postgres.js';

const postgres = connectors.postgres!;

function spec(connector: Record<string, unknown>, extra: { id: string; role: string }[] = []): AppSpec {
  return {
    id: 'db',
    file: {
      name: 'Warehouse',
      connector: { type: 'postgres', concurrency: 1, ...connector },
      entitlements: [
        { id: 'readonly', kind: 'role', role: 'b_read' },
        { id: 'writer', kind: 'role', role: 'b_write' },
        ...extra.map((e) => ({ ...e, kind: 'role' as const })),
      ],
    },
  };
}

const grant = (account: string, entitlement = 'readonly'): Change => ({
  action: 'grant',
  app: 'db',
  user: account,
  account,
  entitlement,
  reason: 'new-grant',
});
const revoke = (account: string, entitlement = 'readonly'): Change => ({
  ...grant(account, entitlement),
  action: 'revoke',
  reason: 'removed',
});

const context = (repoRoot: string): ConnectorContext => ({ repoRoot, env: {}, lockTimeoutMs: 5_000 });

/** Every change's outcome (and error), as apply reports it: keyed by the change itself. */
async function apply(session: Session, changes: Change[]) {
  const results = await applyChanges(changes, new Map([['db', session]]), { retry: FAST });
  return results.map((r) => `${r.account} ${r.entitlement} ${r.outcome}${r.error ? `: ${r.error}` : ''}`);
}

/** A batch of people, each given both roles; `bad` fails when its role is created (a reserved name). */
function people(n: number, prefix: string): Change[] {
  return Array.from({ length: n }, (_, i) => [
    grant(`${prefix}${i}`, 'readonly'),
    grant(`${prefix}${i}`, 'writer'),
  ]).flat();
}

/** The same batch behaviour is required of the embedded database and of a real server. */
function batchContract(name: string, open: () => Promise<{ session: Session; close?: () => Promise<void> }>) {
  describe(name, () => {
    let session: Session;
    let close: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      ({ session, close } = await open());
      await session.observe();
    });
    afterAll(async () => {
      await session.close();
      await close?.();
    });

    it('changes many accounts in one step, each change with its own outcome', async () => {
      const changes = [...people(3, 'many-'), grant('many-0', 'readonly')];
      // concurrency 1: one step carries every account of a direction.
      expect(session.steps(changes).length).toBe(1);
      expect(await apply(session, changes)).toEqual([
        'many-0 readonly granted',
        'many-0 writer granted',
        'many-1 readonly granted',
        'many-1 writer granted',
        'many-2 readonly granted',
        'many-2 writer granted',
        'many-0 readonly unchanged',
      ]);
      expect(await apply(session, [grant('many-1', 'writer'), grant('many-3', 'writer')])).toEqual([
        'many-1 writer unchanged',
        'many-3 writer granted',
      ]);
    });

    it('fails only the change whose statement the database refuses; the rest of the batch applies', async () => {
      // "public" is a name PostgreSQL reserves: its CREATE ROLE fails inside the batch's string of statements.
      const changes = [...people(2, 'mixed-'), grant('public', 'writer'), ...people(2, 'later-')];
      expect(session.steps(changes).length).toBe(1);
      const outcomes = await apply(session, changes);
      expect(outcomes.filter((o) => !o.startsWith('public'))).toEqual([
        'mixed-0 readonly granted',
        'mixed-0 writer granted',
        'mixed-1 readonly granted',
        'mixed-1 writer granted',
        'later-0 readonly granted',
        'later-0 writer granted',
        'later-1 readonly granted',
        'later-1 writer granted',
      ]);
      expect(outcomes.find((o) => o.startsWith('public'))).toMatch(
        /^public writer failed: granting roles to public: role name "public" is reserved \(SQLSTATE 42939\)$/,
      );
      const held = (await session.observe()).map((h) => `${h.account} ${h.entitlement}`);
      expect(held).toEqual(expect.arrayContaining(['later-1 writer', 'mixed-0 readonly']));
      expect(held.some((h) => h.startsWith('public'))).toBe(false);
    });

    it('revokes in batches, and shuts only the logins with nothing left', async () => {
      const changes = [revoke('many-0', 'readonly'), revoke('many-0', 'writer'), revoke('many-1', 'writer')];
      expect(await apply(session, changes)).toEqual([
        'many-0 readonly revoked',
        'many-0 writer revoked',
        'many-1 writer revoked',
      ]);
      const held = (await session.observe()).map(
        (h) => `${h.account} ${h.entitlement}${h.disabled ? ' shut' : ''}`,
      );
      expect(held.filter((h) => h.startsWith('many-0'))).toEqual([]);
      expect(held).toContain('many-1 readonly');
      expect(await apply(session, changes)).toEqual([
        'many-0 readonly unchanged',
        'many-0 writer unchanged',
        'many-1 writer unchanged',
      ]);
    });
  });
}

batchContract('batches on the embedded database (PGlite)', async () => {
  const repo = mkdtempSync(join(tmpdir(), 'iden-pg-batch-'));
  seedEmbedded(repo, 'db');
  return { session: await postgres.open(spec({}), context(repo)) };
});

describe('batches on a real PostgreSQL server', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
    await prepareDatabase(server, 'batch', ['b_read', 'b_write']);
  }, 60_000);
  afterAll(() => server?.stop());
  const url = () => server.url('iden', 'batch');

  batchContract('the contract', async () => ({
    session: await postgres.open(spec({ url: url() }), context('/x')),
  }));

  it('fails only the changes of a group role dropped by hand mid-run; the rest of the batch applies', async () => {
    await server.sql('CREATE ROLE b_audit NOLOGIN');
    await server.sql('GRANT b_audit TO iden WITH ADMIN OPTION');
    const session = await postgres.open(
      spec({ url: url() }, [{ id: 'audit', role: 'b_audit' }]),
      context('/x'),
    );
    try {
      await session.observe();
      await server.sql('DROP ROLE b_audit');
      const changes = [
        ...people(2, 'adm-'),
        grant('adm-x', 'audit'),
        grant('adm-x', 'readonly'),
        ...people(1, 'adm-z'),
      ];
      expect(session.steps(changes).length).toBe(1);
      const outcomes = await apply(session, changes);
      expect(outcomes.filter((o) => !o.startsWith('adm-x'))).toEqual([
        'adm-0 readonly granted',
        'adm-0 writer granted',
        'adm-1 readonly granted',
        'adm-1 writer granted',
        'adm-z0 readonly granted',
        'adm-z0 writer granted',
      ]);
      // The account's changes go together: none of them is made.
      expect(outcomes.filter((o) => o.startsWith('adm-x'))).toEqual([
        'adm-x audit failed: group role b_audit does not exist in the database; create it or set createRoles: true',
        'adm-x readonly failed: group role b_audit does not exist in the database; create it or set createRoles: true',
      ]);
      expect(await server.sql("SELECT 1 FROM pg_roles WHERE rolname = 'adm-x'")).toEqual([]);
    } finally {
      await session.close();
    }
  });

  it("fails a name someone else is creating (a conflict) after its retries, keeping the batch's other accounts", async () => {
    const session = await postgres.open(spec({ url: url(), lockTimeoutMs: 300 }), context('/x'));
    const dba = new pg.Client({ connectionString: server.url('postgres', 'batch') });
    await dba.connect();
    try {
      await dba.query('BEGIN');
      await dba.query('CREATE ROLE "clash" LOGIN');
      const changes = [...people(2, 'clash-'), grant('clash', 'writer')];
      expect(await apply(session, changes)).toEqual([
        'clash-0 readonly granted',
        'clash-0 writer granted',
        'clash-1 readonly granted',
        'clash-1 writer granted',
        expect.stringMatching(
          /^clash writer failed: granting roles to clash: canceling statement due to lock timeout \(SQLSTATE 55P03\).*\(after 3 attempts\)$/,
        ),
      ]);
      await dba.query('COMMIT');
      // Now a login made by hand: iden gives it its roles, never its comment.
      expect(await apply(session, [grant('clash', 'writer')])).toEqual(['clash writer granted']);
      const [note] = await server.sql<{ note: string | null }>(
        "SELECT shobj_description(oid, 'pg_authid') AS note FROM pg_roles WHERE rolname = 'clash'",
      );
      expect(note?.note).toBeNull();
    } finally {
      await dba.end();
      await session.close();
    }
  });

  it('tries a batch again whole when its connection is lost mid-batch: nothing of it was committed', async () => {
    const session = await postgres.open(spec({ url: url(), lockTimeoutMs: 20_000 }), context('/x'));
    const dba = new pg.Client({ connectionString: server.url('postgres', 'batch') });
    await dba.connect();
    try {
      await dba.query('BEGIN');
      await dba.query('CREATE ROLE "lost-2" LOGIN');
      const changes = [...people(2, 'lost-'), grant('lost-2'), ...people(1, 'lost-z')];
      const [step] = session.steps(changes);
      const running = step!.run().then(
        () => undefined,
        (e: unknown) => e,
      );
      // The batch waits on the uncommitted role; its connection is then terminated.
      await vi.waitFor(
        async () => {
          const [row] = await server.sql<{ pid: number }>(
            "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'iden%' AND wait_event_type = 'Lock'",
          );
          expect(row).toBeDefined();
          await server.sql('SELECT pg_terminate_backend($1)', [row!.pid]);
        },
        { timeout: 10_000, interval: 50 },
      );
      const error = await running;
      expect(error).toBeInstanceOf(TransientError);
      expect((error as Error).message).toMatch(/^granting roles to 4 accounts: terminating connection/);
      expect(step!.settled?.()).toEqual([]);
      expect(await server.sql("SELECT rolname FROM pg_roles WHERE rolname LIKE 'lost-%'")).toEqual([]);
      await dba.query('ROLLBACK');
      expect((await step!.run()).map((r) => `${r.change.account} ${r.outcome}`)).toEqual([
        'lost-0 granted',
        'lost-0 granted',
        'lost-1 granted',
        'lost-1 granted',
        'lost-2 granted',
        'lost-z0 granted',
        'lost-z0 granted',
      ]);
    } finally {
      await dba.end().catch(() => undefined);
      await session.close();
    }
  });
});
