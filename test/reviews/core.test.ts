import { describe, expect, it } from 'vitest';
import { CommitTree } from '../../src/git/tree.js';
import { loadTree } from '../../src/load/repo.js';
import { formatCampaign, parseCampaign } from '../../src/reviews/campaign.js';
import { decide } from '../../src/reviews/decide.js';
import { hasProposal, proposeEnd } from '../../src/reviews/propose.js';
import { selectItems } from '../../src/reviews/scope.js';
import { commitAll } from '../helpers/git.js';
import { NO_VERIFY, writeTree } from '../helpers/repo.js';

async function repoOf(tree: Record<string, string>) {
  const dir = writeTree(tree);
  commitAll(dir, 'access');
  return loadTree(await CommitTree.open(dir, 'HEAD'));
}

const people = `people:\n${['alice', 'bob', 'carol', 'dave'].map((id) => `  - { id: ${id}, name: ${id}, email: ${id}@example.com${id === 'bob' ? ', manager: dave' : ''} }\n`).join('')}`;

describe('the campaign core', () => {
  it('selects grants that outlast the campaign, never making the grantee their own reviewer', async () => {
    const repo = await repoOf({
      'grants/_settings.yaml': `roles:\n  super-admin: [alice]\n${NO_VERIFY}`,
      'grants/_people.yaml': people,
      'grants/db/_app.yaml':
        'name: DB\nconnector: { type: postgres }\nentitlements:\n  - { id: ro, kind: role, role: r }\n  - { id: admin, kind: role, role: a, privileged: true }\napprovers: [carol]\n',
      'grants/db/alice.yaml': 'user: alice\napp: db\npermissions: [ro]\n',
      'grants/db/bob.yaml': 'user: bob\napp: db\npermissions: [admin]\nend: 2026-12-01\n',
      'grants/db/carol.yaml': 'user: carol\napp: db\npermissions: [ro]\nend: 2027-05-01\n',
    });
    const end = Date.parse('2026-12-18T00:00:00Z');
    const now = Date.parse('2026-11-27T12:00:00Z');
    const { items, problems } = selectItems(repo, 'UTC', now, end, {
      apps: [],
      privileged: false,
      reviewer: 'approvers',
    });
    expect(problems).toEqual([]);
    expect(items.map((i) => [i.file, i.reviewer, i.fallback ?? ''])).toEqual([
      ['grants/db/alice.yaml', 'carol', ''],
      ['grants/db/carol.yaml', 'alice', 'carol never reviews their own access: a Super Admin reviews it'],
    ]);
    const later = selectItems(repo, 'UTC', now, Date.parse('2026-11-30T00:00:00Z'), {
      apps: ['db'],
      privileged: true,
      reviewer: 'manager',
    });
    expect(later.items.map((i) => [i.file, i.reviewer, i.privileged])).toEqual([
      ['grants/db/bob.yaml', 'dave', true],
    ]);
    expect(
      selectItems(repo, 'UTC', now, end, { apps: ['nope'], privileged: false, reviewer: 'owners' }).problems,
    ).toEqual(['--app nope: no app of that id in grants/']);
  });

  it('proposes an end with the marker, replacing an end line, and tells it apart', () => {
    const proposed = proposeEnd('user: a\napp: db\nend: 2027-05-01\n', '2026-12-18', 'q4');
    expect(proposed).toBe('user: a\napp: db\nend: 2026-12-18 # iden review q4: ends unless kept\n');
    expect(proposeEnd('user: a\napp: db', '2026-12-18', 'q4')).toBe(
      'user: a\napp: db\nend: 2026-12-18 # iden review q4: ends unless kept\n',
    );
    expect(hasProposal(proposed, 'q4')).toBe(true);
    expect(hasProposal(proposed, 'q1')).toBe(false);
  });

  it('decides from git: dropped, kept with its reason, ended by review or by default, an extension not taken', () => {
    const item = (user: string) => ({ file: `grants/db/${user}.yaml`, user, app: 'db', blob: `b-${user}` });
    const base = (u: string) => `user: ${u}\napp: db\npermissions: [ro]\n`;
    const users = ['a', 'b', 'c', 'd'];
    const input = {
      campaign: 'q4',
      reviewer: 'carol',
      items: users.map(item),
      baseText: new Map(users.map((u) => [`grants/db/${u}.yaml`, base(u)])),
      tipBlob: new Map(users.map((u) => [`grants/db/${u}.yaml`, u === 'd' ? 'changed' : `b-${u}`])),
      branchText: new Map([
        ['grants/db/a.yaml', base('a')],
        ['grants/db/b.yaml', proposeEnd(base('b'), '2026-12-18', 'q4')],
        ['grants/db/c.yaml', 'user: c\napp: db\npermissions: [ro, admin]\n'],
        ['grants/db/d.yaml', base('d')],
      ]),
      keeps: [
        { file: 'grants/db/a.yaml', by: 'carol', reason: 'needed', at: '2026-11-30T10:00:00Z', commit: 'k' },
      ],
      approved: undefined,
      closing: true,
      zone: 'UTC',
      headAt: '2026-11-30T10:00:00Z',
    };
    expect(decide(input).map((d) => [d.user, d.decision, d.reason ?? d.note ?? ''])).toEqual([
      ['a', 'kept', 'needed'],
      ['b', 'ended-by-default', ''],
      ['c', 'ended-by-default', 'edited to give more than the grant had: not taken, the proposed end stands'],
      ['d', 'dropped', 'changed on the protected branch during the campaign'],
    ]);
    expect(decide({ ...input, closing: false }).map((d) => d.decision)).toEqual([
      'kept',
      'not-answered',
      'not-answered',
      'dropped',
    ]);
    expect(decide({ ...input, approved: { at: 'x' } })[1]!.decision).toBe('ended-by-review');
  });

  it('reads a campaign file through its schema, pointing at the line', () => {
    const campaign = {
      name: 'q4',
      started: '2026-11-27T12:00:00.000Z',
      startedBy: 'alice',
      base: 'a'.repeat(40),
      due: '2026-12-11',
      end: '2026-12-11',
      scope: {},
      reviewer: 'approvers' as const,
      reviewers: [{ person: 'carol', branch: 'review/q4/carol', pr: 2, items: [] }],
    };
    const text = formatCampaign(campaign);
    expect(parseCampaign('reviews/q4.yaml', text)).toEqual(campaign);
    expect(() =>
      parseCampaign('reviews/q4.yaml', text.replace('reviewer: approvers', 'reviewer: everyone')),
    ).toThrow(
      /^reviews\/q4\.yaml:\d+:11 campaign-schema: reviewer must be equal to one of the allowed values/,
    );
    expect(() => parseCampaign('reviews/q5.yaml', text)).toThrow(
      /campaign-name: name is q4; it must equal the file name, q5/,
    );
  });
});
