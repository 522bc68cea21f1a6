// The words of `iden import`.
import type { ImportResult } from '../flow/import.js';
import { count } from '../util/plural.js';

export function importReport(result: ImportResult, dryRun: boolean, files: Map<string, string>): string {
  const lines: string[] = [];
  for (const file of result.written) lines.push(`${dryRun ? 'would write' : 'wrote'} ${file}`);
  if (dryRun)
    for (const text of files.values())
      lines.push(
        ...text
          .trimEnd()
          .split('\n')
          .map((l) => `    ${l}`),
      );
  for (const id of result.peopleAdded)
    lines.push(`${dryRun ? 'would add' : 'added'} ${id} to grants/_people.yaml (check the name and email)`);
  if (result.attributesFilled)
    lines.push(
      `${dryRun ? 'would fill' : 'filled'} attributes ${result.app} knows (department, title, manager) of ${result.attributesFilled.join(', ')} in grants/_people.yaml`,
    );
  for (const account of result.unowned)
    lines.push(
      result.adopt.includes(account)
        ? `${dryRun ? 'would adopt' : 'adopt'}: ${account}, which iden did not create, is listed in ${result.app}'s adopt: once merged, iden takes it over`
        : `unowned: ${account} was not created by iden: iden manages its access in ${result.app}, never the account itself (iden import --adopt hands it over, through review)`,
    );
  for (const c of result.conflicts) lines.push(`conflict: ${c.file}: ${c.reason}`);
  for (const account of result.unmatched)
    lines.push(
      `unmatched: ${account} holds access in ${result.app} but is no one's account there; add the person to grants/_people.yaml, or pass --add-people`,
    );
  lines.push(
    `Import: ${count(result.written.length, 'grant file')} ${dryRun ? 'to write' : 'written'}, ${count(result.conflicts.length, 'conflict')}, ${result.unmatched.length} unmatched, ${count(result.peopleAdded.length, 'person', 'people')} ${dryRun ? 'to add' : 'added'}.${dryRun || result.written.length === 0 ? '' : ' Review them, commit, and open a pull request.'}`,
  );
  return `${lines.join('\n')}\n`;
}
