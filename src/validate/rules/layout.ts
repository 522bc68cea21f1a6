import { error, type Finding } from '../../model/diagnostics.js';
import type { RuleContext } from '../context.js';

/** A grant's app must equal its folder, and its user its file name: the path is the grant's identity. */
export function grantMatchesPath(ctx: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const { file, folder, name, app, user } of ctx.grants) {
    if (app !== folder) {
      findings.push(
        error(
          file,
          'app-mismatch',
          `app is "${app}" but the file is in grants/${folder}/; set app: ${folder} or move the file`,
          ['app'],
        ),
      );
    }
    if (user !== name) {
      findings.push(
        error(
          file,
          'user-mismatch',
          `user is "${user}" but the file is ${name}.yaml; name the file ${user}.yaml`,
          ['user'],
        ),
      );
    }
  }
  return findings;
}

/** One grant per (user, app): a second grant for someone who has one must be an edit of the first. */
export function oneGrantPerUserAndApp(ctx: RuleContext): Finding[] {
  const owners = new Map<string, string>();
  // The grant whose file name matches its user owns the pair; visit those first.
  const ordered = [...ctx.grants].sort((a, b) => Number(b.user === b.name) - Number(a.user === a.name));
  const findings: Finding[] = [];
  for (const { file, app, user } of ordered) {
    const key = `${app}\u0000${user}`;
    const owner = owners.get(key);
    if (owner === undefined) {
      owners.set(key, file);
      continue;
    }
    findings.push(
      error(
        file,
        'duplicate-grant',
        `${user} already has a grant for app "${app}" in ${owner}; edit that file instead (a change to existing access goes through a request)`,
        ['user'],
      ),
    );
  }
  return findings;
}
