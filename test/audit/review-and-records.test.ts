import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReviewRow } from '../../src/audit/review.js';
import { packageRoot } from '../../src/util/package-root.js';
import { runCli } from '../helpers/cli.js';
import { commitAll, git } from '../helpers/git.js';

function example(): string {
  const dir = mkdtempSync(join(tmpdir(), 'iden-review-'));
  cpSync(join(packageRoot(), 'grants'), join(dir, 'grants'), { recursive: true });
  writeFileSync(join(dir, '.gitignore'), '.iden/\n');
  commitAll(dir, 'example', '2026-11-01T10:00:00Z');
  return dir;
}

describe('the access review export', () => {
  it("carries each grant's reason and end, in JSON, CSV and text", async () => {
    const dir = example();
    const args = ['audit', '--repo', dir, '--review', '--as-of', '2026-11-27', '--app', 'analytics'];
    const json = await runCli([...args, '--format', 'json']);
    expect(json.code).toBe(0);
    const rows = (JSON.parse(json.stdout) as { rows: ReviewRow[] }).rows;
    const carol = rows.find((r) => r.user === 'carol')!;
    // 2027-01-31 is a bare date: midnight in the settings' zone (Europe/Berlin).
    expect(carol).toMatchObject({
      reason: 'Q4 audit of the finance tables, AUD-7',
      end: '2027-01-30T23:00:00.000Z',
    });
    const alice = rows.find((r) => r.user === 'alice')!;
    expect(alice.reason).toBe('Owns the nightly loads, DATA-12');
    expect(alice.end).toBeUndefined();
    const csv = (await runCli([...args, '--format', 'csv'])).stdout.split('\r\n');
    // reason and end follow flags; the columns added after them (rules, last_review) come last.
    expect(csv[0]!.endsWith(',flags,reason,end,rules,last_review')).toBe(true);
    expect(csv.find((l) => l.startsWith('carol,'))).toMatch(
      /,"Q4 audit of the finance tables, AUD-7",2027-01-30T23:00:00\.000Z,[^,]*,[^,]*$/,
    );
    const text = (await runCli(args)).stdout;
    expect(text).toContain(
      'analytics/carol readonly  until 2027-01-30T23:00:00.000Z, reason: Q4 audit of the finance tables, AUD-7; requested by',
    );
  });
});

describe('the apply records an audit reads', () => {
  it("are not called fetched while origin's are newer than this clone's", async () => {
    const origin = example();
    git(origin, ['notes', '--ref=iden', 'add', '-m', '{"not": "a record"}', 'HEAD']);
    const clone = mkdtempSync(join(tmpdir(), 'iden-review-clone-'));
    git(clone, ['clone', '-q', origin, '.']);
    git(clone, ['fetch', '-q', 'origin', 'refs/notes/iden:refs/notes/iden']);
    const source = async () => {
      const out = await runCli(['audit', '--repo', clone, '--format', 'json']);
      const parsed = JSON.parse(out.stdout) as {
        source: { notesFetched: boolean };
        warnings: { code: string }[];
      };
      return { fetched: parsed.source.notesFetched, codes: parsed.warnings.map((w) => w.code) };
    };
    expect(await source()).toMatchObject({ fetched: true });
    expect((await source()).codes).not.toContain('records-behind');
    // A run elsewhere adds a record on origin; a pull would not bring it.
    git(origin, ['notes', '--ref=iden', 'append', '-m', '{"also": "not a record"}', 'HEAD']);
    const behind = await source();
    expect(behind.fetched).toBe(false);
    expect(behind.codes).toContain('records-behind');
    git(clone, ['fetch', '-q', 'origin', 'refs/notes/iden:refs/notes/iden']);
    expect(await source()).toMatchObject({ fetched: true });
  });
});
