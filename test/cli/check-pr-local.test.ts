// iden check-pr by hand, with no flags: the protected branch as the clone
// knows it, HEAD, and the git user's login from the directory.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { commitAll, git } from '../helpers/git.js';
import { baseRepo, writeTree } from '../helpers/repo.js';

function clone(email: string): string {
  const dir = writeTree(baseRepo, join(mkdtempSync(join(tmpdir(), 'iden-check-local-')), 'work'));
  commitAll(dir, 'the access repository');
  git(dir, ['checkout', '-q', '-b', 'grant/db/carol']);
  writeFileSync(join(dir, 'grants/db/carol.yaml'), 'user: carol\napp: db\npermissions: [readonly]\n');
  commitAll(dir, 'grant: carol → db');
  git(dir, ['config', 'user.email', email]);
  return dir;
}

describe('iden check-pr by hand', () => {
  it('judges HEAD against main as the git user, with no flags', async () => {
    // bob is Users Read/Write: his grant of someone else is a direct grant.
    const asBob = await runCli(['check-pr', '--format', 'json'], { cwd: clone('Bob@example.com') });
    expect(asBob.code, asBob.stderr).toBe(0);
    expect(JSON.parse(asBob.stdout)).toMatchObject({ ok: true, files: [{ classification: 'direct-grant' }] });
    // carol asks for herself: an access request, waiting for an approver.
    const asCarol = await runCli(['check-pr', '--format', 'json'], { cwd: clone('carol@example.com') });
    expect(asCarol.code).toBe(1);
    expect(JSON.parse(asCarol.stdout).files[0].classification).toBe('access-request');
  });

  it('says what to pass when the git user has no login in the directory', async () => {
    const r = await runCli(['check-pr'], { cwd: clone('someone@elsewhere.example') });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'iden: no GitHub login for the git user someone@elsewhere.example in grants/_people.yaml: pass --author LOGIN\n',
    );
  });
});
