import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/package-root.js';
import { runCli } from '../helpers/cli.js';
import { commitAll } from '../helpers/git.js';

function example(): string {
  const dir = mkdtempSync(join(tmpdir(), 'iden-site-'));
  cpSync(join(packageRoot(), 'grants'), join(dir, 'grants'), { recursive: true });
  writeFileSync(join(dir, '.gitignore'), '.iden/\nsite/\n');
  commitAll(dir, 'example');
  return dir;
}

const report = (dir: string, out: string) =>
  runCli(['report', '--repo', dir, '--out', out, '--at', '2026-12-15'], { cwd: dir });

describe('iden report --out', () => {
  it('removes only the pages it wrote before, keeps everything else, and never writes over a file it did not write', async () => {
    const dir = example();
    const out = join(dir, 'site');
    const first = await report(dir, out);
    expect(first.code, first.stderr).toBe(0);
    expect(readdirSync(join(out, 'people'))).toContain('heidi.html');
    // Someone else's file beside the report, such as GitHub Pages' CNAME.
    writeFileSync(join(out, 'CNAME'), 'access.example.com\n');
    mkdirSync(join(out, 'people/notes'), { recursive: true });
    writeFileSync(join(out, 'people/notes/kept.txt'), 'mine\n');

    // heidi leaves: her page must not go on showing her old access.
    rmSync(join(dir, 'grants/salesforce/heidi.yaml'));
    commitAll(dir, 'heidi leaves');
    const second = await report(dir, out);
    expect(second.code, second.stderr).toBe(0);
    // Her page, and the search index files only she was in (the search loads one per name prefix).
    expect(second.stdout).toMatch(/^Wrote \d+ pages to .*, removed \d+ pages? of an earlier report; open /);
    expect(existsSync(join(out, 'people/heidi.html'))).toBe(false);
    expect(readFileSync(join(out, 'CNAME'), 'utf8')).toBe('access.example.com\n');
    expect(readFileSync(join(out, 'people/notes/kept.txt'), 'utf8')).toBe('mine\n');

    // A page changed by hand since is no longer the report's: refused, and nothing written.
    writeFileSync(join(out, 'apps/github.html'), 'edited by hand\n');
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    const third = await report(dir, out);
    expect(third.code).toBe(1);
    expect(third.stderr).toBe(
      `iden: ${out} has files iden report did not write (or that changed since): apps/github.html; nothing was written: give --out an empty or new folder, or one an earlier report wrote\n`,
    );
    expect(readFileSync(join(out, 'apps/github.html'), 'utf8')).toBe('edited by hand\n');
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toBe(index);
  });

  it('refuses a folder holding a page of its own before any report', async () => {
    const dir = example();
    const out = join(dir, 'site');
    mkdirSync(out);
    writeFileSync(join(out, 'index.html'), '<h1>Our own page</h1>\n');
    const result = await report(dir, out);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'has files iden report did not write (or that changed since): index.html;',
    );
    expect(readdirSync(out)).toEqual(['index.html']);
  });

  it('says a file is not a folder, without a stack trace', async () => {
    const dir = example();
    writeFileSync(join(dir, 'README.md'), '# Access\n');
    const result = await report(dir, 'README.md');
    expect([result.code, result.stderr]).toEqual([
      2,
      `iden: --out ${join(dir, 'README.md')}: a file, not a folder; give a folder for the report's pages\n`,
    ]);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('# Access\n');
  });
});
