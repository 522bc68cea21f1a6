import { describe, expect, it } from 'vitest';
import { resolveFinding } from '../../src/load/parse-yaml.js';
import { loadFile } from '../../src/load/read-file.js';
import { loadRepo } from '../../src/load/repo.js';
import type { Finding } from '../../src/model/diagnostics.js';
import { buildContext } from '../../src/validate/context.js';
import { placeFindings, rules } from '../../src/validate/validate.js';
import { rulesRepoWith } from '../rules/fixture.js';

const NOW = Date.parse('2026-11-27T12:00:00Z');

describe('placing the findings of grant files read again', () => {
  it('puts each where a full parse of the file would, whatever order the grants are in', async () => {
    const repo = await loadRepo(
      rulesRepoWith({
        // A conflict, and no end under a capped rule.
        'grants/payments/dave.yaml': 'user: dave\napp: payments\npermissions: [submit, approve]\n',
        // Comments and blank lines before the keys; not eligible.
        'grants/payments/erin.yaml':
          '# asked in ACC-1\n\nuser: erin\napp: payments\n# the form\npermissions: [read, submit]\nend: 2027-01-01\n',
        // Not the flat shape: a comment after a value, a block list; the full parse places it.
        'grants/payments/frank.yaml':
          'user: frank # the finance lead\napp: payments\npermissions:\n  - approve\n  - submit\n',
        // Sorts before dave.yaml as a file, after it as a name; no such person.
        'grants/payments/dave-o.yaml': 'user: dave-o\napp: payments\npermissions: [bogus]\nend: 2027-01-01\n',
      }),
    );
    const findings = rules.flatMap((rule) => rule(buildContext(repo, NOW)));
    const files = ['dave', 'dave-o', 'erin', 'frank'].map((n) => `grants/payments/${n}.yaml`);
    for (const file of files)
      expect(
        findings.some((f) => f.file === file),
        file,
      ).toBe(true);

    const placed = placeFindings(repo, findings);
    const reference = (f: Finding) =>
      files.includes(f.file)
        ? resolveFinding(loadFile(f.file, repo.tree, f.file, 'grant', true).parsed, f)
        : undefined;
    expect(
      placed.filter((d) => files.includes(d.file)),
      JSON.stringify(findings),
    ).toEqual(findings.map(reference).filter((d) => d !== undefined));
    // Out of the loader's order the search misses, and the index of every grant places them the same.
    expect(placeFindings({ ...repo, grants: [...repo.grants].reverse() }, findings)).toEqual(placed);
  });
});
