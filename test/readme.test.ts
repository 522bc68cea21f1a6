import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/util/package-root.js';
import { runCli } from './helpers/cli.js';
import { commitAll } from './helpers/git.js';

const root = packageRoot();
const readmePath = join(root, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
/** The README and every page of docs/: the reference lives in docs/, one page per subject. */
const pagePaths = [
  readmePath,
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join(root, 'docs', name)),
];
const pages = pagePaths.map((path) => ({
  path,
  name: relative(root, path),
  text: readFileSync(path, 'utf8'),
}));
const page = (name: string) => pages.find((p) => p.name === name)!.text;

/** A copy of the example grants/ in a new git repository. */
function example(): string {
  const dir = mkdtempSync(join(tmpdir(), 'iden-readme-'));
  cpSync(join(root, 'grants'), join(dir, 'grants'), { recursive: true });
  writeFileSync(join(dir, '.gitignore'), '.iden/\n');
  commitAll(dir, 'Example access repository');
  return dir;
}

/** How each sample's repository is made; the README's `<!-- sample: … -->` comment names one. */
const setups: Record<string, () => Promise<string>> = {
  'example with a typo': async () => {
    const dir = example();
    const file = join(dir, 'grants/github/alice.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('engineering-org,', 'engineerng-org,'));
    return dir;
  },
  'example applied on 2026-11-27': async () => {
    const dir = example();
    const applied = await runCli(['apply', '--repo', dir, '--at', '2026-11-27', '--yes', '--no-push']);
    if (applied.code !== 0) throw new Error(applied.stdout + applied.stderr);
    return dir;
  },
};

interface Sample {
  /** The page it is on, relative to the repository. */
  page: string;
  setup: string;
  command: string;
  output: string;
  /** Where the block's text starts and ends in the README. */
  start: number;
  end: number;
}

/** Every marked sample: a comment, then a fenced block whose first line is `$ iden …`. */
function samples(page: string, text: string): Sample[] {
  const found: Sample[] = [];
  for (const m of text.matchAll(/<!-- sample: (.+?) -->\n```\n\$ iden ([^\n]*)\n([\s\S]*?)```\n/g)) {
    const start = m.index! + m[0].indexOf('```\n') + 4;
    found.push({ page, setup: m[1]!, command: m[2]!, output: m[3]!, start, end: m.index! + m[0].length - 4 });
  }
  return found;
}

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Pages other engineers are writing on their branches, linked before they land. */
const comingPages = new Set(['docs/reviews.md', 'docs/rules.md']);

describe('the README and docs/', () => {
  const all = pages.flatMap((p) => samples(p.name, p.text));

  it('marks every sample of output with how it is made', () => {
    const blocks = pages.reduce((n, p) => n + [...p.text.matchAll(/```\n\$ iden /g)].length, 0);
    expect(all.length).toBe(blocks);
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const s of all) expect(Object.keys(setups)).toContain(s.setup);
  });

  // IDEN_UPDATE_README=1 npx vitest run test/readme.test.ts writes what the commands print into the page each sample is on.
  it.each(all.map((s) => [s.command, s] as const))(
    'shows what `iden %s` prints',
    async (_, sample) => {
      const dir = await setups[sample.setup]!();
      const result = await runCli([...sample.command.split(' '), '--repo', dir], { cwd: dir });
      const printed = `$ iden ${sample.command}\n${result.stdout}`;
      const path = join(root, sample.page);
      if (process.env.IDEN_UPDATE_README) {
        const current = readFileSync(path, 'utf8');
        const at = current.indexOf(`$ iden ${sample.command}\n${sample.output}`);
        writeFileSync(path, current.slice(0, at) + printed + current.slice(at + sample.end - sample.start));
      }
      expect(printed).toBe(page(sample.page).slice(sample.start, sample.end));
      // Making an embedded database takes seconds, more on a busy machine.
    },
    120_000,
  );

  it('is a guide: under 400 lines, a table of contents, the two commands first, then the first day', () => {
    expect(readme.split('\n').length).toBeLessThan(400);
    const headings = [...readme.matchAll(/^##+ (.+)$/gm)].map((m) => m[1]!);
    expect(headings[0]).toBe('Contents');
    const contents = readme.slice(
      readme.indexOf('## Contents'),
      readme.indexOf('\n## ', readme.indexOf('## Contents') + 1),
    );
    for (const heading of headings.slice(1)) expect(contents, heading).toContain(`(#${slug(heading)})`);
    expect(headings.indexOf('Two commands')).toBe(1);
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test ');
    for (const need of ['Chromium', 'PostgreSQL', 'slapd', 'Samba', '.ci/run'])
      expect(readme).toContain(need);
  });

  it('links only to pages, files and headings that exist', () => {
    const missing: string[] = [];
    for (const p of pages) {
      for (const m of p.text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = m[1]!;
        if (/^[a-z]+:/.test(link)) continue;
        const [file, anchor] = link.split('#') as [string, string | undefined];
        const target = file === '' ? p.path : join(dirname(p.path), file);
        const name = relative(root, target);
        if (comingPages.has(name)) continue;
        if (!existsSync(target)) {
          missing.push(`${p.name}: ${link}`);
          continue;
        }
        if (anchor === undefined || !target.endsWith('.md')) continue;
        const text = readFileSync(target, 'utf8').replace(/```[\s\S]*?```/g, '');
        const anchors = [...text.matchAll(/^#+ (.+)$/gm)].map((h) => slug(h[1]!));
        if (!anchors.includes(anchor)) missing.push(`${p.name}: ${link}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('gives a minimal _app.yaml for every connector, and each validates with no finding', async () => {
    const apps = [...readme.matchAll(/<!-- app: ([\w-]+) -->\n```yaml\n([\s\S]*?)```\n/g)];
    const connectors = readdirSync(join(root, 'src/connectors'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(apps.map((m) => m[1]).sort()).toEqual([...connectors].sort());
    const dir = mkdtempSync(join(tmpdir(), 'iden-readme-apps-'));
    mkdirSync(join(dir, 'grants'));
    writeFileSync(
      join(dir, 'grants/_people.yaml'),
      'people:\n  - { id: alice, name: Alice, email: alice@example.com, accounts: { github: alice-m } }\n',
    );
    for (const [, type, text] of apps) {
      mkdirSync(join(dir, 'grants', type!));
      writeFileSync(join(dir, 'grants', type!, '_app.yaml'), text!);
    }
    commitAll(dir, 'One app of each connector, as the README writes them');
    const result = await runCli(['validate', '--repo', dir, '--format', 'json']);
    expect(JSON.parse(result.stdout)).toEqual({ ok: true, diagnostics: [] });
  });

  it("names every setting of each connector's schema in the connector table", () => {
    const connectorsPage = page('docs/connectors.md');
    const from = connectorsPage.indexOf('| connector | settings |');
    const table = connectorsPage.slice(from, connectorsPage.indexOf('\n\n', from));
    for (const folder of readdirSync(join(root, 'src/connectors'), { withFileTypes: true })) {
      if (!folder.isDirectory()) continue;
      const schema = JSON.parse(
        readFileSync(join(root, 'src/connectors', folder.name, 'schema.json'), 'utf8'),
      );
      const row = table.split('\n').find((line) => line.startsWith(`| \`${folder.name}\` |`));
      expect(row, folder.name).toBeDefined();
      const settings = Object.keys(schema.$defs.connector.properties).filter((k) => k !== 'type');
      const removeForm = schema.$defs.connector.properties.removeForm?.enum ?? [];
      for (const name of [...settings, ...removeForm]) expect(row, `${folder.name}: ${name}`).toContain(name);
    }
  });

  it('lists every part of npm run bench', () => {
    const bench = readFileSync(join(root, 'bench/run.mjs'), 'utf8');
    const parts = [...new Set([...bench.matchAll(/only === '([a-z]+)'/g)].map((m) => m[1]!))];
    const line = /`npm run bench` \(or one part: ([^)]*)\)/.exec(page('docs/benchmarks.md'))![1]!;
    expect(parts.length).toBeGreaterThanOrEqual(5);
    for (const part of parts) expect(line.split(/[`\s,]+/)).toContain(part);
  });

  it('names, in its architecture, folders and files that exist, and every folder of src/', () => {
    const section = page('docs/architecture.md');
    const named = [...section.matchAll(/`(src\/[\w./-]+)`/g)].map((m) => m[1]!);
    expect(named.filter((path) => !existsSync(join(root, path)))).toEqual([]);
    // A bare file name in a folder's bullet is that folder's file.
    for (const bullet of section.split('\n- ').slice(1)) {
      const folder = /^`(src\/[\w/]+\/)`/.exec(bullet)?.[1];
      if (!folder) continue;
      for (const m of bullet.matchAll(/`([\w.-]+\.(?:ts|json))`/g)) {
        const inFolder = existsSync(join(root, folder, m[1]!));
        const inSub = readdirSync(join(root, folder), { withFileTypes: true }).some(
          (d) => d.isDirectory() && existsSync(join(root, folder, d.name, m[1]!)),
        );
        expect(inFolder || inSub, `${folder}${m[1]}`).toBe(true);
      }
    }
    const folders = readdirSync(join(root, 'src'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => `src/${d.name}/`);
    expect(folders.filter((f) => !named.some((n) => n.startsWith(f)))).toEqual([]);
  });
});
