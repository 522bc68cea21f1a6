import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain script shared with the benchmarks
import { generateRepo } from '../../bench/generate.mjs';
import { fastLayout, fastPeople, fastYaml, locateFlat } from '../../src/load/fast-yaml.js';
import { locate, parseYaml } from '../../src/load/parse-yaml.js';
import { packageRoot } from '../../src/util/package-root.js';
import { seeded } from '../helpers/seeded.js';
import { agreesWithYaml } from '../helpers/yaml-oracle.js';

/** Every text the fast reader accepts, yaml reads to the same value; a flat grant file's findings land alike. */
function agree(text: string, read: (text: string) => unknown = fastYaml): boolean {
  if (!agreesWithYaml(text, read)) return false;
  if (read === fastYaml) placesAlike(text, read(text) as Record<string, unknown>);
  return true;
}

/** A finding in a flat file lands where the parsed document would put it, on every path a rule could name and some no rule does. */
function placesAlike(text: string, value: Record<string, unknown>): void {
  const layout = fastLayout(text);
  expect(layout, JSON.stringify(text)).toBeDefined();
  const parsed = parseYaml('grants/app/x.yaml', new TextEncoder().encode(text), 64 * 1024);
  const paths: (string | number)[][] = [[], ['nothing'], [0], ['nothing', 0]];
  for (const [key, v] of Object.entries(value)) {
    paths.push([key], [key, 0], [key, 'x'], [key, 0, 'x'], [key, -1]);
    if (Array.isArray(v)) for (let i = 0; i <= v.length; i++) paths.push([key, i], [key, i, 0]);
  }
  for (const path of paths)
    for (const part of ['key', 'value'] as const)
      expect(
        locateFlat(layout!, path, part),
        `${JSON.stringify(text)} ${JSON.stringify(path)} ${part}`,
      ).toEqual(locate(parsed, path, part));
}

const KEYS = [
  'user',
  'app',
  'permissions',
  'license',
  'start',
  'end',
  'reason',
  'constructor',
  '__proto__',
  'a_b',
  'User',
  'x',
];
const SCALARS = [
  'alice',
  'bob-o',
  'carol.n',
  'Platform lead',
  'Summer internship (Q3)',
  'a/b@c+d',
  'Owns the loads, DATA-12',
  'x',
  'a,b',
  'a, b',
  'a ,b',
  'a,',
  'a (b',
  'a)',
  'a, #b',
  'a,  b',
  'true',
  'True',
  'TRUE',
  'false',
  'null',
  'Null',
  'NULL',
  '~',
  'yes',
  'no',
  'on',
  'off',
  'y',
  'n',
  '123',
  '0x1f',
  '0o17',
  '1e3',
  '-1',
  '+1',
  '.5',
  '.inf',
  '.nan',
  '-.inf',
  '1_000',
  '2026-12-01',
  '2026-12-01T09:00:00+01:00',
  '2026-12-01T09:00:00Z',
  '2026-12-01T09:00Z',
  '2026-12-01T09:00:00.123Z',
  '2026-12-01 09:00:00',
  '2026-13-45',
  '20261201',
  '2026-12-01T09:00:00+0100',
  "'quoted'",
  '"double"',
  '&anchor x',
  '*alias',
  '!tag x',
  '|',
  '>',
  '- item',
  '? key',
  '%x',
  '@x',
  '`x',
  'a: b',
  'a #c',
  'a# c',
  'a  b',
  'a ',
  ' a',
  'a,b',
  'a[b]',
  'a{b}',
  'ü',
  'a\tb',
  '',
  '#',
  'a:b',
  'a -b',
  'a --- b',
];
const ITEMS = [
  'readonly',
  'writer',
  'engineering-org',
  'a.b',
  'a_b',
  'x1',
  '1x',
  'true',
  'null',
  'a b',
  'A',
  "'q'",
  '*a',
  '',
];
const LISTS = [
  '[]',
  '[ ]',
  '[a]',
  '[a,b]',
  '[a, b]',
  '[a , b]',
  '[a,  b]',
  '[a, b,]',
  '[[a]]',
  '[a] ',
  '[a',
  'a]',
  '{a: b}',
];

function line(r: ReturnType<typeof seeded>): string {
  const kind = r.next();
  if (kind < 0.05)
    return r.pick([
      '# a comment',
      '#',
      ' # indented comment',
      '---',
      '...',
      '%YAML 1.2',
      '',
      '  ',
      'key',
      '- a',
      '  nested: x',
    ]);
  // Mostly well-formed lines, so whole files often pass; the rest is hostile.
  const good = r.next() < 0.85;
  const key = good ? r.pick(KEYS.slice(0, 7)) : r.pick(KEYS);
  const sep = good ? ': ' : r.pick([':  ', ':', ' : ', ':\t']);
  if (kind < 0.35) {
    const n = Math.floor(r.next() * 4);
    const items = Array.from({ length: n }, () => (good ? r.pick(ITEMS.slice(0, 5)) : r.pick(ITEMS)));
    return `${key}${sep}${good || r.next() < 0.5 ? `[${items.join(good ? ', ' : r.pick([',', ' ,', ',  ']))}]` : r.pick(LISTS)}`;
  }
  const value = good && r.next() < 0.6 ? r.pick(SCALARS.slice(0, 7)) : r.pick(SCALARS);
  return `${key}${sep}${value}${r.next() < 0.05 ? r.pick([' # trailing', ' ', '  ']) : ''}`;
}

describe('the fast path for flat grant files', () => {
  it('gives exactly what yaml gives, on 30,000 generated files good and hostile', () => {
    const r = seeded(20261127);
    let accepted = 0;
    for (let i = 0; i < 30_000; i++) {
      const lines = Array.from({ length: 1 + Math.floor(r.next() * 7) }, () => line(r));
      const text = lines.join('\n') + r.pick(['\n', '\n', '', '\n\n']);
      if (agree(text)) accepted++;
    }
    // It must take a real share, or it speeds nothing up.
    expect(accepted).toBeGreaterThan(1_000);
  });

  it('refuses what it cannot read exactly, leaving it to yaml', () => {
    for (const text of [
      'user: true\n',
      'user: 123\n',
      'user: alice\nuser: bob\n',
      'user: alice # comment\n',
      "user: 'alice'\n",
      'user: &a alice\napp: *a\n',
      'constructor: x\n',
      'permissions: [a,b]\n',
      'user:  alice\n',
      'user: alice\r\n',
      'reason: a: b\n',
      '---\nuser: alice\n',
      '',
      '# only a comment\n',
    ])
      expect(fastYaml(text), JSON.stringify(text)).toBeUndefined();
  });

  it('reads a directory of people exactly as yaml does, on 20,000 generated files good and hostile', () => {
    const r = seeded(7);
    const FIELDS = ['id', 'name', 'email', 'givenName', 'familyName', 'accounts', 'constructor', 'id'];
    const VALUES = [
      ...SCALARS.slice(0, 12),
      'alice@example.com',
      'bob.o+x@example.com',
      ...SCALARS.slice(12),
    ];
    const MAPS = [
      '{ github: alice-m }',
      '{ github: alice-m, salesforce: bob.okafor@example.com }',
      '{ github: a, github: b }',
      '{github: a}',
      '{ github: true }',
      '{ github: 12 }',
      '{ github: a b }',
      '{ github: "a" }',
      '{ github: a, }',
      '{ }',
      '{ constructor: x }',
      '{ github: {x: y} }',
      '{ a-b: c, d_e: f }',
    ];
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const good = r.next() < 0.7;
      const lines = [
        good || r.next() < 0.5 ? 'people:' : r.pick(['people: []', 'peoples:', ' people:', '# c']),
      ];
      const count = 1 + Math.floor(r.next() * 4);
      for (let p = 0; p < count; p++) {
        const fields = 1 + Math.floor(r.next() * 4);
        for (let f = 0; f < fields; f++) {
          const lead = f === 0 ? '  - ' : good ? '    ' : r.pick(['    ', '   ', '     ', '  - ', '\t']);
          const key = good ? r.pick(FIELDS.slice(0, 5)) : r.pick(FIELDS);
          const value =
            key === 'accounts'
              ? r.pick(good ? MAPS.slice(0, 2) : MAPS)
              : good
                ? r.pick(VALUES.slice(0, 14))
                : r.pick(VALUES);
          lines.push(`${lead}${key}: ${value}`);
          if (!good && r.next() < 0.05) lines.push(r.pick(['# comment', '', '    # indented', '  -', '---']));
        }
      }
      if (agree(`${lines.join('\n')}\n`, fastPeople)) accepted++;
    }
    expect(accepted).toBeGreaterThan(500);
  });

  it('reads every grant file of the example and of the benchmark repository', () => {
    const example = join(packageRoot(), 'grants');
    const dir = generateRepo(mkdtempSync(join(tmpdir(), 'iden-fast-')), {
      people: 200,
      apps: 10,
      grants: 2_000,
    });
    for (const root of [example, join(dir, 'grants')]) {
      for (const app of readdirSync(root, { withFileTypes: true })) {
        if (!app.isDirectory()) continue;
        for (const name of readdirSync(join(root, app.name))) {
          if (name.startsWith('_')) continue;
          const text = readFileSync(join(root, app.name, name), 'utf8');
          expect(agree(text), `${app.name}/${name}`).toBe(true);
        }
      }
      expect(agree(readFileSync(join(root, '_people.yaml'), 'utf8'), fastPeople), root).toBe(true);
    }
  });
});
