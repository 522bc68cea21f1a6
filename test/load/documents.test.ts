import { describe, expect, it } from 'vitest';
import { loadRepo } from '../../src/load/repo.js';
import { repoWith } from '../helpers/repo.js';
import { cases } from '../validate/malformed-cases.js';

/** What a load keeps of each file but its YAML document: values, raw values and diagnostics. */
async function read(dir: string, documents: boolean) {
  const repo = await loadRepo(dir, { documents });
  const strip = (f: { value?: unknown; raw?: unknown } | undefined) => f && { value: f.value, raw: f.raw };
  return {
    settings: strip(repo.settings),
    people: strip(repo.people),
    apps: [...repo.apps].map(([id, app]) => [id, strip(app)]),
    grants: repo.grants.map((g) => [g.file, g.value, g.raw]),
    diagnostics: repo.diagnostics,
  };
}

/**
 * `documents: false` (the audit's read of HEAD's settings, people and apps)
 * reads flat settings and apps without composing a YAML document, and gives
 * exactly the values and diagnostics the full read gives, for well-formed and
 * malformed files alike.
 */
describe('loading without documents', () => {
  it.each([
    { name: 'the example repository', changes: {} },
    { name: 'flat settings', changes: { 'grants/_settings.yaml': 'timezone: Europe/Paris\n' } },
    {
      name: 'flat settings of a wrong zone',
      changes: { 'grants/_settings.yaml': 'timezone: Mars/Olympus\n' },
    },
    {
      name: 'settings of an unknown key',
      changes: { 'grants/_settings.yaml': 'timezone: UTC\ncolour: red\n' },
    },
    { name: 'settings that YAML reads as a number', changes: { 'grants/_settings.yaml': 'timezone: 12\n' } },
    { name: 'a flat app', changes: { 'grants/db/_app.yaml': 'name: DB\nconnector: postgres\n' } },
    ...cases.filter((c) => c.name !== 'a folder inside an app folder'),
  ])('$name: the same values and diagnostics', async ({ changes, ...rest }) => {
    const dir = repoWith(changes);
    (rest as { setup?: (dir: string) => void }).setup?.(dir);
    expect(await read(dir, false)).toEqual(await read(dir, true));
  });
});
