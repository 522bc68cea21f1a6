import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { GithubPullServer } from '../helpers/github-server.js';
import { AT, pullRequest } from '../helpers/pull.js';
import { rulesRepo } from './fixture.js';

/** Access rules through check-pr --pr against the loopback GitHub, with its reviews and the comment it posts. */

interface RuleVerdict {
  rule: string;
  needed: number;
  counted: string[];
  met: boolean;
  why: string;
}
interface Result {
  ok: boolean;
  files: {
    file: string;
    ok: boolean;
    reason: string;
    emergency?: boolean;
    privileged?: boolean;
    rules?: RuleVerdict[];
  }[];
  preview?: { summary: string; grants: { file: string; code: string; severity: string }[] };
}

async function checkOnGithub(
  changes: Record<string, string>,
  author: string,
  approvers: string[],
  base = rulesRepo,
): Promise<{ result: Result; code: number; comment: string }> {
  const { dir, head } = pullRequest(changes, { base });
  const server = new GithubPullServer();
  await server.start();
  try {
    const env = {
      GITHUB_TOKEN: 't',
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: 'acme/access',
      GITHUB_API_URL: server.url,
    };
    const baseSha = (await import('../helpers/git.js')).git(dir, ['rev-parse', 'main']).trim();
    server.pulls.set(7, {
      number: 7,
      author,
      head,
      base: baseSha,
      reviews: approvers.map((login, i) => ({
        login,
        state: 'APPROVED',
        commit: head,
        at: `2026-11-27T10:0${i}:00Z`,
      })),
      commits: [{ sha: head, author, committer: author }],
    });
    const json = await runCli(['check-pr', '--repo', dir, '--pr', '7', '--format', 'json', '--at', AT], {
      env,
    });
    const md = await runCli(['check-pr', '--repo', dir, '--pr', '7', '--comment', '--at', AT], { env });
    expect(server.errors).toEqual([]);
    return {
      result: JSON.parse(json.stdout) as Result,
      code: json.code,
      comment: server.comments.at(-1)?.body ?? md.stdout,
    };
  } finally {
    await server.stop();
  }
}

const approve = {
  'grants/payments/dave.yaml': 'user: dave\napp: payments\npermissions: [approve]\nend: 2026-12-20\n',
};

describe('access rules in check-pr', () => {
  it('counts approvals per rule, the grantee’s manager included, and names who is still needed', async () => {
    const one = await checkOnGithub(approve, 'dave-i', ['Carol-N']);
    expect(one.code).toBe(1);
    expect(one.result.files[0]).toMatchObject({ ok: false, privileged: true });
    expect(one.result.files[0]!.reason).toBe(
      'the payments owners: needs 1 more approval from the payments owners (frank)',
    );
    const two = await checkOnGithub(approve, 'dave-i', ['Carol-N', 'frank-r']);
    expect(two.code).toBe(0);
    expect(two.result.files[0]!.rules).toEqual([
      {
        rule: 'the payments owners',
        needed: 2,
        counted: ['carol', 'frank'],
        met: true,
        why: 'approved by carol, frank (2 needed)',
      },
    ]);
    expect(two.comment).toContain('#### Access rules');
    expect(two.comment).toContain(
      '| grants/payments/dave\\.yaml | the payments owners | 2/2 (carol, frank) | ✅ |',
    );
    expect(two.comment).toContain('🔒 privileged');
  });

  it('does not count an approver the rule does not name, even a Super Admin', async () => {
    const { result } = await checkOnGithub(approve, 'dave-i', ['alice-m', 'frank-r']);
    expect(result.files[0]!.reason).toContain('needs 1 more approval from the payments owners (carol)');
  });

  it('asks approvals of an admin’s direct grant under directGrant: false', async () => {
    const { result, code } = await checkOnGithub(approve, 'bob-o', []);
    expect(code).toBe(1);
    expect(result.files[0]!.reason).toBe(
      'a direct grant, but the payments owners: needs 2 more approvals from the payments owners (frank, carol) (directGrant: false: even an admin’s grant needs it)',
    );
  });

  it('lets an admin’s direct grant through where the rule allows it, with the rule shown', async () => {
    const { result, code } = await checkOnGithub(
      { 'grants/payments/dave.yaml': 'user: dave\napp: payments\npermissions: [submit]\nend: 2027-01-20\n' },
      'bob-o',
      [],
    );
    expect(code).toBe(0);
    expect(result.files[0]!.rules).toEqual([
      { rule: 'the rule of payments', needed: 0, counted: [], met: true, why: 'a direct grant by an admin' },
    ]);
  });

  it('needs a Super Admin’s approval for an exception to a conflict', async () => {
    const excepted = {
      'grants/payments/frank.yaml':
        'user: frank\napp: payments\npermissions: [submit, approve]\nend: 2026-12-20\nexception: { reason: "Only one on call, FIN-88", end: 2026-12-20 }\n',
    };
    const without = await checkOnGithub(excepted, 'dave-i', ['Carol-N', 'erin-b']);
    expect(without.result.files[0]!.ok).toBe(false);
    expect(without.result.files[0]!.reason).toContain(
      "exception to a separation-of-duties conflict: the exception needs a Super Admin's approval (alice)",
    );
    const withAdmin = await checkOnGithub(excepted, 'dave-i', ['Carol-N', 'erin-b', 'alice-m']);
    expect(withAdmin.result.files[0]!.rules!.map((r) => `${r.rule} ${r.met}`)).toEqual([
      'the rule of payments true',
      'the payments owners false',
      'exception to a separation-of-duties conflict true',
    ]);
  });

  it('passes emergency access at once for someone the rule lets use it, and no one else', async () => {
    const emergency = {
      'grants/payments/dave.yaml':
        'user: dave\napp: payments\npermissions: [read]\nstart: 2026-11-27T12:00:00Z\nend: 2026-11-27T15:00:00Z\nemergency: true\nreason: INC-7 payouts stuck\n',
    };
    const byAdmin = await checkOnGithub(emergency, 'bob-o', []);
    expect(byAdmin.code).toBe(0);
    expect(byAdmin.result.files[0]).toMatchObject({ ok: true, emergency: true });
    expect(byAdmin.result.files[0]!.reason).toContain('emergency access by bob: applied without approval');
    expect(byAdmin.comment).toContain('🚨 emergency');
    const byDave = await checkOnGithub(emergency, 'dave-i', []);
    expect(byDave.code).toBe(1);
    expect(byDave.result.files[0]!.reason).toContain(
      'emergency: true is allowed only to super-admin, users-read-write',
    );
  });

  it('previews a tightened rule against every grant in force', async () => {
    const base = {
      ...rulesRepo,
      'grants/payments/dave.yaml': 'user: dave\napp: payments\npermissions: [submit]\nend: 2027-02-20\n',
      'grants/payments/frank.yaml': 'user: frank\napp: payments\npermissions: [submit]\nend: 2027-02-01\n',
      'grants/payments/erin.yaml': null as unknown as string,
    };
    const tightened = {
      'grants/payments/_app.yaml': rulesRepo['grants/payments/_app.yaml']!.toString().replace(
        'maxDuration: P90D',
        'maxDuration: P30D\n  effective: 2027-01-01',
      ),
    };
    const { result, comment } = await checkOnGithub(tightened, 'alice-m', [], base);
    expect(result.preview?.summary).toBe(
      "2 grants exceed a new maximum duration (2 of them only from the rule's effective date)",
    );
    expect(comment).toContain(
      'Rule change against every grant in force: 2 grants exceed a new maximum duration',
    );
  });
});

describe('emergency access in a pull request', () => {
  it('may not be scheduled for later, to be let in without approval', async () => {
    const { result, code } = await checkOnGithub(
      {
        'grants/payments/dave.yaml':
          'user: dave\napp: payments\npermissions: [read]\nstart: 2026-12-24T12:00:00Z\nend: 2026-12-24T15:00:00Z\nemergency: true\nreason: later\n',
      },
      'bob-o',
      [],
    );
    expect(code).toBe(1);
    expect(result.files[0]!.reason).toContain(
      'does not validate: emergency access starts when it is asked for: start 2026-12-24T12:00:00Z is more than an hour from now',
    );
  });
});
