import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { ReviewRow } from '../../src/audit/review.js';
import { commitAs, mergeAs } from '../helpers/audit.js';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/git.js';
import { GithubPullServer } from '../helpers/github-server.js';
import { writeTree } from '../helpers/repo.js';
import { rulesRepo } from './fixture.js';

describe('access rules in the audit', () => {
  it('gives each review row the rule it was approved under and whose approvals counted, and flags emergency access', async () => {
    const server = new GithubPullServer();
    await server.start();
    try {
      const dir = writeTree({ ...rulesRepo, '.gitignore': '.iden/\n' });
      git(dir, ['init', '-q', '-b', 'main']);
      commitAs(dir, 'setup', '2026-11-20T09:00:00Z');
      const pull = (
        number: number,
        author: string,
        files: Record<string, string>,
        approvers: string[],
        mergedAt: string,
      ) => {
        const base = git(dir, ['rev-parse', 'HEAD']).trim();
        git(dir, ['checkout', '-q', '-b', `pr-${number}`]);
        writeTree(files, dir);
        const head = commitAs(dir, `pr ${number}`, '2026-11-27T09:00:00Z', 'Dave');
        git(dir, ['checkout', '-q', 'main']);
        const merge = mergeAs(
          dir,
          `pr-${number}`,
          `Merge pull request #${number} from acme/pr-${number}`,
          mergedAt,
        );
        server.pulls.set(number, {
          number,
          author,
          head,
          base,
          reviews: approvers.map((login) => ({
            login,
            state: 'APPROVED',
            commit: head,
            at: '2026-11-27T09:30:00Z',
          })),
          commits: [{ sha: head, author, committer: author }],
          merged: { commit: merge, at: mergedAt, by: 'Carol-N' },
        });
      };
      pull(
        1,
        'dave-i',
        {
          'grants/payments/dave.yaml': 'user: dave\napp: payments\npermissions: [approve]\nend: 2026-12-20\n',
        },
        ['Carol-N', 'frank-r'],
        '2026-11-27T10:00:00Z',
      );
      pull(
        2,
        'bob-o',
        {
          'grants/payments/frank.yaml':
            'user: frank\napp: payments\npermissions: [read]\nstart: 2026-11-27T11:00:00Z\nend: 2026-11-27T14:00:00Z\nemergency: true\nreason: INC-7\n',
        },
        [],
        '2026-11-27T11:00:00Z',
      );
      const env = {
        GITHUB_TOKEN: 't',
        GITHUB_API_URL: server.url,
        GITHUB_REPOSITORY: 'acme/access',
        XDG_CACHE_HOME: mkdtempSync(`${tmpdir()}/iden-cache-`),
      };
      const result = await runCli(
        [
          'audit',
          '--repo',
          dir,
          '--review',
          '--app',
          'payments',
          '--format',
          'json',
          '--as-of',
          '2026-11-27T12:00:00Z',
        ],
        { env },
      );
      if (!result.stdout) throw new Error(result.stderr);
      const { rows } = JSON.parse(result.stdout) as { rows: ReviewRow[] };
      const row = (user: string) => rows.find((r) => r.user === user)!;
      expect(row('dave')).toMatchObject({
        approvedBy: ['carol', 'frank'],
        rules: [{ rule: 'the payments owners', needed: 2, counted: ['carol', 'frank'] }],
      });
      expect(row('dave').flags).toContain('privileged');
      expect(row('frank').flags).toContain('emergency-unapproved');
      const csv = await runCli(
        [
          'audit',
          '--repo',
          dir,
          '--review',
          '--app',
          'payments',
          '--format',
          'csv',
          '--as-of',
          '2026-11-27T12:00:00Z',
        ],
        { env },
      );
      // flags, then the grant's reason and end, then the rules (the columns added last).
      expect(csv.stdout).toMatch(
        /,privileged,[^,\r\n]*,[^,\r\n]*,the payments owners: 2\/2 \(carol frank\),[^,\r\n]*\r\n/,
      );
      expect(server.errors).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
