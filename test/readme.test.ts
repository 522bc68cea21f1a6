import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/util/package-root.js';
import { runCli } from './helpers/cli.js';
import { commitAll } from './helpers/git.js';

const root = packageRoot();
const readmePath = join(root, 'README.md');
const readme = readFileSync(readmePath, 'utf8');

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
  setup: string;
  command: string;
  output: string;
  /** Where the block's text starts and ends in the README. */
  start: number;
  end: number;
}

/** Every marked sample: a comment, then a fenced block whose first line is `$ iden …`. */
function samples(text: string): Sample[] {
  const found: Sample[] = [];
  for (const m of text.matchAll(/<!-- sample: (.+?) -->\n```\n\$ iden ([^\n]*)\n([\s\S]*?)```\n/g)) {
    const start = m.index! + m[0].indexOf('```\n') + 4;
    found.push({ setup: m[1]!, command: m[2]!, output: m[3]!, start, end: m.index! + m[0].length - 4 });
  }
  return found;
}

describe('the README', () => {
  const all = samples(readme);

  it('marks every sample of output with how it is made', () => {
    const blocks = [...readme.matchAll(/```\n\$ iden /g)].length;
    expect(all.length).toBe(blocks);
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const s of all) expect(Object.keys(setups)).toContain(s.setup);
  });

  // IDEN_UPDATE_README=1 npx vitest run test/readme.test.ts writes what the commands print into the README.
  it.each(all.map((s) => [s.command, s] as const))('shows what `iden %s` prints', async (_, sample) => {
    const dir = await setups[sample.setup]!();
    const result = await runCli([...sample.command.split(' '), '--repo', dir], { cwd: dir });
    const printed = `$ iden ${sample.command}\n${result.stdout}`;
    if (process.env.IDEN_UPDATE_README) {
      const current = readFileSync(readmePath, 'utf8');
      const at = current.indexOf(`$ iden ${sample.command}\n${sample.output}`);
      writeFileSync(
        readmePath,
        current.slice(0, at) + printed + current.slice(at + sample.end - sample.start),
      );
    }
    expect(printed).toBe(readme.slice(sample.start, sample.end));
  });

  it("names every setting of each connector's schema in the connector table", () => {
    const table = readme.slice(readme.indexOf('| connector | settings |'), readme.indexOf('## Commands'));
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
    const line = /`npm run bench` \(or one part: ([^)]*)\)/.exec(readme)![1]!;
    expect(parts.length).toBeGreaterThanOrEqual(5);
    for (const part of parts) expect(line.split(/[`\s,]+/)).toContain(part);
  });

  it('names, in its architecture, folders and files that exist, and every folder of src/', () => {
    const section = readme.slice(readme.indexOf('## Architecture'), readme.indexOf('## Benchmarks'));
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
