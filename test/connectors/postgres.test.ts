import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectors } from '../../src/connectors/catalog.js';

const postgres = connectors.postgres!;

import {
  type AppSpec,
  type Change,
  ObserveError,
  type Session,
  type StepResult,
  TerminalError,
  TransientError,
} from '../../src/connectors/types.js';
import { seedEmbedded, startServer } from '../helpers/postgres.js';

const WEIRD = 'Robert"); DROP ROLE db_read; --';

function spec(connector: Record<string, unknown>): AppSpec {
  return {
    id: 'db',
    file: {
      name: 'Warehouse',
      connector: { type: 'postgres', ...connector },
      entitlements: [
        { id: 'readonly', kind: 'role', role: 'db_read' },
        { id: 'writer', kind: 'role', role: 'db_write' },
      ],
      licenses: [{ id: 'seat', seats: 5, role: 'db seat' }],
    },
  };
}

const change = (
  action: 'grant' | 'revoke',
  account: string,
  what: { entitlement?: string; license?: string },
): Change => ({
  action,
  app: 'db',
  user: account,
  account,
  reason: action === 'grant' ? 'new-grant' : 'removed',
  ...what,
});

/** Runs changes step by step and gives each change's outcome, in the order of `changes`. */
async function run(session: Session, changes: Change[]) {
  const results: StepResult[] = [];
  for (const step of session.steps(changes)) results.push(...(await step.run()));
  return changes.map((c) => results.find((r) => r.change === c)?.outcome);
}

const context = (repoRoot: string, env: NodeJS.ProcessEnv = {}) => ({ repoRoot, env, lockTimeoutMs: 5_000 });

const sorted = async (session: Session) =>
  (await session.observe()).map((h) => `${h.account} ${h.entitlement ?? `license:${h.license}`}`).sort();

/** The same behaviour is required of the embedded database and of a server reached through pg. */
function contract(
  name: string,
  open: () => Promise<{ session: Session; canLogin: (role: string) => Promise<boolean | undefined> }>,
) {
  describe(name, () => {
    let session: Session;
    let canLogin: (role: string) => Promise<boolean | undefined>;
    beforeAll(async () => {
      ({ session, canLogin } = await open());
    });
    afterAll(() => session.close());

    it('observes nothing in a fresh database, its group roles created', async () => {
      expect(await session.observe()).toEqual([]);
    });

    it('creates the account with the first grant and grants the roles, quoting every name', async () => {
      const changes = [
        change('grant', 'alice', { entitlement: 'readonly' }),
        change('grant', 'alice', { entitlement: 'writer' }),
        change('grant', 'alice', { license: 'seat' }),
        change('grant', WEIRD, { entitlement: 'readonly' }),
      ];
      expect(await run(session, changes)).toEqual(['granted', 'granted', 'granted', 'granted']);
      expect(await sorted(session)).toEqual(
        [`${WEIRD} readonly`, 'alice license:seat', 'alice readonly', 'alice writer'].sort(),
      );
      expect(await canLogin('alice')).toBe(true);
      expect(await canLogin(WEIRD)).toBe(true);
    });

    it('grants idempotently: granting what exists is unchanged', async () => {
      expect(await run(session, [change('grant', 'alice', { entitlement: 'readonly' })])).toEqual([
        'unchanged',
      ]);
    });

    it('revokes, and shuts the account (never drops it) when its last managed role goes', async () => {
      expect(await run(session, [change('revoke', 'alice', { entitlement: 'readonly' })])).toEqual([
        'revoked',
      ]);
      expect(await canLogin('alice')).toBe(true);
      const rest = [
        change('revoke', 'alice', { entitlement: 'writer' }),
        change('revoke', 'alice', { license: 'seat' }),
      ];
      expect(await run(session, rest)).toEqual(['revoked', 'revoked']);
      expect(await canLogin('alice')).toBe(false);
      expect(await run(session, rest)).toEqual(['unchanged', 'unchanged']);
    });

    it('lets a shut account back in with its next grant', async () => {
      expect(await run(session, [change('grant', 'alice', { entitlement: 'writer' })])).toEqual(['granted']);
      expect(await canLogin('alice')).toBe(true);
    });
  });
}

contract('postgres connector on embedded PGlite', async () => {
  const repo = mkdtempSync(join(tmpdir(), 'iden-pg-embedded-'));
  seedEmbedded(repo, 'db');
  const session = await postgres.open(spec({}), context(repo));
  // PGlite is one connection, in the session's thread: the test asks through the session's own database.
  const db = () =>
    (
      session as unknown as {
        connect: (
          create: boolean,
        ) => Promise<{ query: (sql: string, p: unknown[]) => Promise<{ rolcanlogin: boolean }[]> }>;
      }
    ).connect(true);
  const canLogin = async (role: string) =>
    (await (await db()).query('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [role]))[0]?.rolcanlogin;
  return { session, canLogin };
});

describe('postgres connector through pg, against a wire-protocol server', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer(join(mkdtempSync(join(tmpdir(), 'iden-pg-server-')), 'data'));
  });
  afterAll(() => server.stop());

  contract('the contract', async () => {
    const session = await postgres.open(
      spec({ urlEnv: 'DB_URL', createRoles: true }),
      context('/nonexistent', { DB_URL: server.url }),
    );
    const canLogin = async (role: string) =>
      (
        await server.db.query<{ rolcanlogin: boolean }>(
          'SELECT rolcanlogin FROM pg_roles WHERE rolname = $1',
          [role],
        )
      ).rows[0]?.rolcanlogin;
    return { session, canLogin };
  });

  it('reports a role granted by hand as held (the planner calls it drift)', async () => {
    await server.db.exec('CREATE ROLE mallory LOGIN; GRANT db_read TO mallory;');
    const session = await postgres.open(spec({ urlEnv: 'DB_URL' }), context('/x', { DB_URL: server.url }));
    try {
      expect(await session.observe()).toContainEqual({ account: 'mallory', entitlement: 'readonly' });
    } finally {
      await session.close();
    }
  });

  it('fails a grant to a group role that does not exist, terminally, when it may not create roles', async () => {
    const app = spec({ urlEnv: 'DB_URL' });
    app.file.entitlements.push({ id: 'ghost', kind: 'role', role: 'no_such_role' });
    const session = await postgres.open(app, context('/x', { DB_URL: server.url }));
    try {
      const [step] = session.steps([change('grant', 'bob', { entitlement: 'ghost' })]);
      await expect(step!.run()).rejects.toThrow(TerminalError);
      await expect(step!.run()).rejects.toThrow(/no_such_role does not exist/);
    } finally {
      await session.close();
    }
  });

  it('says which variable is missing, and cannot observe an unreachable server', async () => {
    expect(postgres.missingCredentials(spec({ urlEnv: 'DB_URL' }), {})).toBe('DB_URL is not set');
    await expect(
      postgres.open(spec({ url: 'postgres://postgres@127.0.0.1:1/postgres' }), context('/x')),
    ).rejects.toThrow(ObserveError);
  });
});

describe('postgres connector on an embedded database that already exists', () => {
  it('reopens the same data and keeps what was granted', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'iden-pg-reopen-'));
    const dir = seedEmbedded(repo, 'db');
    const first = await postgres.open(spec({}), context(repo));
    await run(first, [change('grant', 'carol', { entitlement: 'readonly' })]);
    await first.close();
    const db = await PGlite.create(dir);
    expect((await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', ['carol'])).rows).toHaveLength(1);
    await db.close();
  });
});
