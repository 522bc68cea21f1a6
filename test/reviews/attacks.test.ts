import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { git } from '../helpers/git.js';
import { type World, world } from './world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

describe('attacks on a campaign', () => {
  it('an edit that extends access is a change needing approval and is not taken at close; a grant changed on main drops out', async () => {
    w = await world();
    expect((await w.iden(['review', 'start', '--due', '2026-12-11', '--name', 'q4'], 'alice')).code).toBe(0);

    // dave edits his campaign pull request: alice kept by hand, bob given more than he had.
    const dave = w.clone('dave');
    git(dave, ['fetch', '-q', 'origin']);
    git(dave, ['checkout', '-q', '-b', 'edit', 'origin/review/q4/dave']);
    writeFileSync(join(dave, 'grants/wh/alice.yaml'), 'user: alice\napp: wh\npermissions: [readonly]\n');
    writeFileSync(join(dave, 'grants/wh/bob.yaml'), 'user: bob\napp: wh\npermissions: [readonly, admin]\n');
    git(dave, ['commit', '-qam', 'keep both, and bob administers']);
    git(dave, ['push', '-q', 'origin', 'HEAD:review/q4/dave']);

    const alice = w.clone('alice');
    git(alice, ['fetch', '-q', 'origin']);
    const check = await runCli(
      [
        'check-pr',
        '--repo',
        alice,
        '--base',
        'origin/main',
        '--head',
        'origin/review/q4/dave',
        '--author',
        'alice-gh',
        '--contributor',
        'dave-gh',
        '--format',
        'json',
      ],
      { env: {} },
    );
    expect(check.code).toBe(1);
    const verdicts = JSON.parse(check.stdout).files as {
      file: string;
      classification: string;
      ok: boolean;
    }[];
    expect(verdicts.find((f) => f.file === 'grants/wh/bob.yaml')).toMatchObject({
      classification: 'change',
      ok: false,
    });
    // Putting alice's grant back as main has it is a keep: a revocation of nothing, no approval needed.
    expect(verdicts.find((f) => f.file === 'grants/wh/alice.yaml')).toBeUndefined();

    // Meanwhile a Super Admin changes carol's grant on main: it drops out of bob's pull request.
    git(alice, ['checkout', '-q', 'main']);
    git(alice, ['pull', '-q', '--ff-only']);
    writeFileSync(
      join(alice, 'grants/db/carol.yaml'),
      'user: carol\napp: db\npermissions: [readonly]\nend: 2027-01-31\n',
    );
    git(alice, ['commit', '-qam', 'carol until January']);
    git(alice, ['push', '-q', 'origin', 'main']);

    const closed = await w.iden(['review', 'close', 'q4', '--at', '2026-12-11'], 'alice');
    expect(closed.stderr).toBe('');
    expect(closed.stdout).toContain('bob #1: merged (0 kept, 0 ending (0 by default), 1 dropped out)');
    expect(closed.stdout).toContain('dave #3: merged (1 kept, 1 ending (1 by default), 0 dropped out)');
    const main = (path: string) => git(w!.remote, ['show', `main:${path}`]);
    expect(main('grants/db/carol.yaml')).toBe(
      'user: carol\napp: db\npermissions: [readonly]\nend: 2027-01-31\n',
    );
    expect(main('grants/wh/bob.yaml')).toBe(
      'user: bob\napp: wh\npermissions: [readonly]\nend: 2026-12-11 # iden review q4: ends unless kept\n',
    );
    expect(main('grants/wh/alice.yaml')).toBe('user: alice\napp: wh\npermissions: [readonly]\n');
    const said = w.server.comments.map((c) => c.body).join('\n');
    expect(said).toContain(
      '`grants/db/carol.yaml`: dropped out of the campaign: changed on the protected branch during the campaign',
    );
    expect(said).toContain(
      '`grants/wh/bob.yaml`: ends 2026-12-11 by default: not kept by the due date (edited to give more than the grant had',
    );
    expect(w.server.errors).toEqual([]);
  }, 180_000);
});
