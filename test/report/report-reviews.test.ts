// The report shows each app's last and next access review (issue 31), as
// `iden review due` computes them, from a campaign really started and closed
// through the loopback GitHub server.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { commitAll, git } from '../helpers/git.js';
import { writeTree } from '../helpers/repo.js';
import { files, type World, world } from '../reviews/world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

const text = (path: string) =>
  readFileSync(path, 'utf8')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/ ([.,:)])/g, '$1');

describe("the report's access reviews", () => {
  it('shows the last campaign that closed over each app and when the next review is due', async () => {
    w = await world({
      ...files,
      'grants/db/_app.yaml': `${files['grants/db/_app.yaml']}review: { every: P90D }\n`,
    });
    const started = await w.iden(
      ['review', 'start', '--app', 'db', '--app', 'wh', '--due', '2026-12-11', '--name', 'q4'],
      'alice',
      '2026-11-27T10:00:00Z',
    );
    expect(started.code, started.stderr).toBe(0);
    const site = join(mkdtempSync(join(tmpdir(), 'iden-report-reviews-')), 'site');
    const before = await w.iden(['report', '--out', site, '--at', '2026-12-01'], 'alice');
    expect(before.code, before.stderr).toBe(0);
    expect(text(join(site, 'apps/db.html'))).toContain(
      'Reviewed every P90D. Last review: never. Next review: now overdue.',
    );

    const closed = await w.iden(
      ['review', 'close', 'q4', '--at', '2026-12-11'],
      'alice',
      '2026-12-11T00:00:00Z',
    );
    expect(closed.code, closed.stderr).toBe(0);
    git(w.clone('alice'), ['pull', '-q', '--ff-only']);
    const after = await w.iden(['report', '--out', site, '--at', '2026-12-12'], 'alice');
    expect(after.code, after.stderr).toBe(0);
    expect(text(join(site, 'apps/db.html'))).toContain(
      'Reviewed every P90D. Last review: 2026-12-11 (q4). Next review: 2027-03-11.',
    );
    // An app without a cadence still shows its last review.
    expect(text(join(site, 'apps/wh.html'))).toContain(
      'No review cadence: review: { every: P90D } in its _app.yaml sets one. Last review: 2026-12-11 (q4). Next review: no cadence.',
    );
    expect(text(join(site, 'index.html'))).toMatch(
      /Warehouse db \d+ with access or scheduled 2026-12-11 \(q4\) 2027-03-11 /,
    );
  }, 180_000);

  it('still writes the report when a campaign file does not read, saying why reviews are missing', async () => {
    const dir = writeTree({ ...files, 'reviews/broken.yaml': 'name: [not, a, campaign\n' });
    commitAll(dir, 'a broken campaign file');
    const site = join(dir, 'site');
    const made = await runCli(['report', '--repo', dir, '--out', site, '--at', '2026-12-01']);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toContain('notice: access reviews left out of the report: ');
    expect(text(join(site, 'apps/db.html'))).toContain('Reviews not shown: the campaign files do not read (');
  });
});
