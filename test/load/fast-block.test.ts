import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain script shared with the benchmarks
import { generateRepo } from '../../bench/generate.mjs';
import { fastBlock } from '../../src/load/fast-block.js';
import { loadRepo } from '../../src/load/repo.js';
import { packageRoot } from '../../src/util/package-root.js';
import { validateRepo } from '../../src/validate/validate.js';
import { seeded } from '../helpers/seeded.js';
import { agreesWithYaml, yamlReference } from '../helpers/yaml-oracle.js';

/** Every text the fast reader accepts, yaml reads without a word and to the same value, keys in the same order. */
const agree = (text: string) => agreesWithYaml(text, fastBlock);

const KEYS = ['id', 'name', 'kind', 'role', 'rule', 'approvers', 'maxDuration', 'directGrant', 'super-admin'];
const BAD_KEYS = [
  'constructor',
  '__proto__',
  'true',
  'null',
  '1a',
  'a b',
  '"q"',
  '? a',
  '<<',
  'a:b',
  'ü',
  'id',
];
const SCALARS = ['alice', 'App 0', 'PT4H', 'engineering', 'a/b@c+d', 'Read every table', 'true', 'false'];
const NUMBERS = ['0', '1', '500', '0.5', '1.25', '10.0'];
const BAD_SCALARS = [
  'True',
  'FALSE',
  'null',
  '~',
  '',
  '-1',
  '+1',
  '01',
  '1e3',
  '0x1f',
  '.5',
  '1.',
  '1_000',
  '123456789012345678',
  '2026-12-01',
  '2026-12-01T09:00:00Z',
  'https://a.example/x',
  'a: b',
  'a #c',
  'a  b',
  "'q'",
  '"q"',
  '&a x',
  '*a',
  '!t x',
  '|',
  '>',
  '- x',
  'a:b',
  'a,b',
  '@x',
  '%x',
  'ü',
  'yes',
  'no',
];
const FLOWS = [
  '[]',
  '{}',
  '[a, b]',
  '[person-00002, person-00003]',
  '[app-000:ent-9, app-001:ent-9]',
  '{ approvals: 2 }',
  '{ approvals: 1, approvers: [manager], emergency: { maxDuration: PT4H } }',
  '{ attributes: { department: [engineering, finance] } }',
  '[[a], [b, c]]',
  '[{ a: b }, { c: 1 }]',
  '{ a: true, b: false, c: 0.5 }',
  '[2026-12-01, 2026-12-01T09:00Z]',
  '[http://a, a:b:c]',
  '{ id: ana, name: Ana Lima, email: ana@example.com }',
  '[Read every table, App 0]',
  '{ a: b (c), d: e:f g:h }',
];
const BAD_FLOWS = [
  '[ ]',
  '{ }',
  '[a,b]',
  '[a , b]',
  '[a, b,]',
  '[a, b] ',
  '[a',
  '{a: b}',
  '{ a: b}',
  '{ a:b }',
  '{ a: b, a: c }',
  '{ constructor: x }',
  '{ a: null }',
  '{ a: [b }',
  '[a: b]',
  '[a:]',
  '[:a]',
  '[a b]',
  '[a, [b]',
  '{ a: { b: c }',
  '[a]]',
  '[a] #c',
  '[a, #b]',
  '{ a: b c }',
  '[True]',
  '[~]',
  '["a"]',
  '[a, b]x',
  '{ a: b , c: d }',
  '[a ]',
  '{ a: b  c }',
  '{ a: b #c }',
  '{ a: b c}',
  '{ a: b: c }',
  '{ a: b ,c }',
  '[a b , c]',
  '{ a: 1 2 }',
  '{ a: true x }',
];

/** A random document of nested mappings and sequences, mostly well formed, with hostile pieces mixed in. */
function doc(r: ReturnType<typeof seeded>, good: boolean): string {
  const out: string[] = [];
  const bad = () => !good && r.next() < 0.08;
  const value = (): string => {
    const k = r.next();
    if (bad()) return r.pick([...BAD_SCALARS, ...BAD_FLOWS]);
    if (k < 0.5) return r.pick(SCALARS);
    if (k < 0.65) return r.pick(NUMBERS);
    return r.pick(FLOWS);
  };
  const step = () => (bad() ? r.pick([1, 3, 4]) : 2);
  const sep = () => (bad() ? r.pick([':  ', ':', ' : ', ':\t']) : ': ');
  const noise = () => {
    if (!bad()) return;
    out.push(
      r.pick(['# comment', '  # indented', '', '   ', '---', '...', '- stray', 'key', ' x: y', '\tx: y']),
    );
  };
  const mapping = (indent: number, depth: number, lead?: string) => {
    const n = 1 + Math.floor(r.next() * 4);
    const keys = new Set<string>();
    for (let e = 0; e < n; e++) {
      let key = bad() ? r.pick(BAD_KEYS) : r.pick(KEYS);
      while (good && keys.has(key)) key = r.pick(KEYS) + e;
      keys.add(key);
      const pad = e === 0 && lead !== undefined ? lead : ' '.repeat(indent);
      const k = r.next();
      if (depth < 3 && k < 0.2) {
        out.push(`${pad}${key}:`);
        noise();
        mapping(indent + step(), depth + 1);
      } else if (depth < 3 && k < 0.35) {
        out.push(`${pad}${key}:`);
        noise();
        sequence(r.next() < 0.3 ? indent : indent + step(), depth + 1);
      } else out.push(`${pad}${key}${sep()}${value()}${bad() ? r.pick([' ', ' # c', '  ']) : ''}`);
      noise();
    }
  };
  const sequence = (indent: number, depth: number) => {
    const n = 1 + Math.floor(r.next() * 3);
    for (let i = 0; i < n; i++) {
      const dash = `${' '.repeat(indent)}${bad() ? r.pick(['-', '-  ', '--']) : '- '}`;
      if (depth < 3 && r.next() < 0.5) mapping(indent + 2, depth + 1, dash);
      else out.push(`${dash}${value()}`);
      noise();
    }
  };
  if (bad()) out.push(r.pick(['- a', '  a: b', '---', '# only']));
  mapping(0, 0);
  return `${out.join('\n')}${r.pick(['\n', '\n', '', '\n\n'])}`;
}

describe('the fast path for app and settings files', () => {
  it('gives exactly what yaml gives, on 6,000 generated files good and hostile', () => {
    const r = seeded(20261207);
    let accepted = 0;
    let good = 0;
    for (let i = 0; i < 6_000; i++) {
      const g = r.next() < 0.5;
      if (agree(doc(r, g))) {
        accepted++;
        if (g) good++;
      }
    }
    // It must take a real share, or it speeds nothing up; most well-formed files are taken.
    expect(accepted).toBeGreaterThan(2_400);
    expect(good).toBeGreaterThan(2_100);
  });

  it('refuses what it cannot read exactly, leaving it to yaml', () => {
    for (const text of [
      '',
      '# only a comment\n',
      '- a\n',
      '[a]\n',
      'a: b\na: c\n',
      'a:\n  b: c\n  b: d\n',
      'a:\n',
      'a:\nb: c\n',
      'a: b\n  c\n',
      'a:\n  - b\n    c\n',
      'a:\n  b: c\n d: e\n',
      'a: b # c\n',
      'a: b\r\n',
      'a:\n\tb: c\n',
      '---\na: b\n',
      'a: &x b\nc: *x\n',
      'a: |\n  b\n',
      'a: "b"\n',
      'a: null\n',
      'a: 1e3\n',
      'constructor: x\n',
      'a: { constructor: x }\n',
      'a:\n  - constructor: x\n',
      '  a: b\n',
      'a: b\n  \n',
      'a: b \n',
      'a:\n- b\n- c: d\n  e\n',
      'a: { b: c , d: e }\n',
      'a: [b ]\n',
      'a: [b , c]\n',
      'a: { b: c d  }\n',
      'a: { b: c  d }\n',
      'a: { b: c #d }\n',
      'a: { b: c: d }\n',
      'a: { b: }\n',
      'a: { b: c d}\n',
      // Deeper than the stack goes: left to yaml, not an exception.
      `a: ${'['.repeat(200_000)}${']'.repeat(200_000)}\n`,
    ])
      expect(fastBlock(text), JSON.stringify(text)).toBeUndefined();
  });

  it("reads the benchmark's app files and settings, with and without rules, and the example's where it can", () => {
    const dir = generateRepo(mkdtempSync(join(tmpdir(), 'iden-block-')), {
      people: 50,
      apps: 4,
      grants: 100,
    });
    const grants = join(dir, 'grants');
    for (const app of readdirSync(grants, { withFileTypes: true })) {
      if (!app.isDirectory()) continue;
      const text = readFileSync(join(grants, app.name, '_app.yaml'), 'utf8');
      expect(agree(text), app.name).toBe(true);
      expect(agree(withRules(text)), app.name).toBe(true);
    }
    const settings = readFileSync(join(grants, '_settings.yaml'), 'utf8');
    expect(agree(settings)).toBe(true);
    expect(agree(settingsWithRules(settings))).toBe(true);
    // The example's: each either read exactly or left to yaml (a URL, a comment after a value).
    const example = join(packageRoot(), 'grants');
    for (const app of readdirSync(example, { withFileTypes: true }))
      if (app.isDirectory()) agree(readFileSync(join(example, app.name, '_app.yaml'), 'utf8'));
    agree(readFileSync(join(example, '_settings.yaml'), 'utf8'));
  });

  it('loads a repository the same whether its files are read fast or by yaml, and places findings in them', async () => {
    const dir = generateRepo(mkdtempSync(join(tmpdir(), 'iden-block-')), { people: 50, apps: 3, grants: 60 });
    const grants = join(dir, 'grants');
    for (const app of ['app-000', 'app-001']) {
      const file = join(grants, app, '_app.yaml');
      writeFileSync(file, withRules(readFileSync(file, 'utf8')));
    }
    // A rule naming an approver nobody is: a finding on the app file, placed on its line.
    const file = join(grants, 'app-002', '_app.yaml');
    writeFileSync(
      file,
      `${readFileSync(file, 'utf8')}rule:\n  approvals: 1\n  approvers: [person-00002, nobody-here]\n`,
    );
    const settings = join(grants, '_settings.yaml');
    writeFileSync(settings, settingsWithRules(readFileSync(settings, 'utf8')));
    const repo = await loadRepo(dir);
    for (const [id, app] of repo.apps) {
      const text = readFileSync(join(grants, id, '_app.yaml'), 'utf8');
      expect(app.parsed, id).toBeUndefined();
      expect(app.value, id).toEqual(yamlReference(text));
    }
    expect(repo.settings?.parsed).toBeUndefined();
    expect(repo.settings?.value).toEqual(yamlReference(readFileSync(settings, 'utf8')));
    const found = validateRepo(repo, Date.parse('2026-12-07T00:00:00Z')).diagnostics.filter(
      (d) => d.file === 'grants/app-002/_app.yaml',
    );
    expect(found.length).toBeGreaterThan(0);
    const lines = readFileSync(file, 'utf8').split('\n');
    for (const d of found) expect(lines[d.line - 1], JSON.stringify(d)).toContain('nobody-here');
  });

  it('reads a directory of people written a person a line as yaml does, and places findings in it', async () => {
    const dir = generateRepo(mkdtempSync(join(tmpdir(), 'iden-block-')), { people: 40, apps: 2, grants: 40 });
    const file = join(dir, 'grants', '_people.yaml');
    // `- { id: …, email: …, accounts: { github: … } }` a person a line, and one id twice.
    const block = readFileSync(file, 'utf8').split('\n  - ').slice(1);
    const oneLine = block.map(
      (person) =>
        `  - { ${person
          .trim()
          .split('\n')
          .map((f) => f.trim())
          .join(', ')} }`,
    );
    oneLine.push(oneLine[3]!.replace(/email: [^,]+/, 'email: twice@example.com'));
    const text = `people:\n${oneLine.join('\n')}\n`;
    writeFileSync(file, text);
    expect(agree(text)).toBe(true);
    const repo = await loadRepo(dir);
    expect(repo.people?.parsed).toBeUndefined();
    expect(repo.people?.value).toEqual(yamlReference(text));
    const found = validateRepo(repo, Date.parse('2026-12-07T00:00:00Z')).diagnostics.filter(
      (d) => d.code === 'duplicate-id',
    );
    expect(found).toHaveLength(1);
    expect(found[0]!.file).toBe('grants/_people.yaml');
    expect(found[0]!.line).toBe(oneLine.length + 1);
  });
});

/** What bench/rules.mjs writes into an app file. */
function withRules(text: string): string {
  return text
    .replace(
      '    kind: role\n    role: ',
      '    kind: role\n    rule: { approvals: 1, approvers: [manager], emergency: { maxDuration: PT4H } }\n    role: ',
    )
    .replace(
      /approvers: \[([^\]\n]*)\]\n/,
      'approvers: [$1]\nrule:\n  eligible: { attributes: { department: [engineering, finance] } }\n  privileged: true\n  directGrant: false\n  approvers: [person-00002, person-00003]\n',
    );
}

/** What bench/rules.mjs writes into the settings. */
function settingsWithRules(text: string): string {
  const pairs = Array.from({ length: 3 }, (_, i) => `  - [app-00${i}:ent-9, app-00${i + 1}:ent-9]`);
  return `${text}rules:\n  privileged: { approvals: 2 }\n  emergencyWindow: PT24H\nconflicts:\n${pairs.join('\n')}\n`;
}
