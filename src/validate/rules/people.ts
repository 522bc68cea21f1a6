import { didYouMean, error, type Finding, warning, type YamlPath } from '../../model/diagnostics.js';
import type { RuleContext } from '../context.js';

/** Ids and emails are unique in the directory, and accounts name apps that exist. */
export function peopleDirectory(ctx: RuleContext): Finding[] {
  const people = ctx.repo.people;
  const entries = people?.raw?.people;
  if (!people || !Array.isArray(entries)) return [];
  const findings: Finding[] = [];
  const ids = new Map<string, number>();
  const emails = new Map<string, string>();
  for (const [i, person] of entries.entries()) {
    if (!person || typeof person !== 'object') continue;
    const { id, email, accounts } = person as Record<string, unknown>;
    if (typeof id === 'string') {
      const first = ids.get(id);
      if (first === undefined) ids.set(id, i);
      else
        findings.push(
          error(people.file, 'duplicate-id', `person id "${id}" is already used by entry ${first + 1}`, [
            'people',
            i,
            'id',
          ]),
        );
    }
    if (typeof email === 'string') {
      const other = emails.get(email.toLowerCase());
      if (other === undefined) emails.set(email.toLowerCase(), String(id));
      else
        findings.push(
          error(people.file, 'duplicate-email', `email ${email} is already used by "${other}"`, [
            'people',
            i,
            'email',
          ]),
        );
    }
    if (!accounts || typeof accounts !== 'object') continue;
    for (const app of Object.keys(accounts)) {
      // accounts.github is also the login pull-request checks know a person by, with or without a github app.
      if (ctx.repo.apps.has(app) || app === 'github') continue;
      findings.push(
        error(
          people.file,
          'unknown-app',
          `accounts names app "${app}", which has no folder under grants/${didYouMean(app, ctx.repo.apps.keys())}`,
          ['people', i, 'accounts', app],
          'key',
        ),
      );
    }
  }
  return findings;
}

/**
 * Pull requests know people by their GitHub login: an approver or role member
 * without one can never approve, nor grant directly.
 */
function withoutLogin(ctx: RuleContext, file: string, id: string, path: YamlPath, what: string): Finding[] {
  if (ctx.people.get(id)?.accounts.github !== undefined) return [];
  return [
    warning(
      file,
      'approver-without-login',
      `${what} "${id}" has no GitHub login: pull requests cannot count them; add accounts: { github: <login> } to their entry in grants/_people.yaml`,
      path,
    ),
  ];
}

/** Role members and approvers must be people, or the check that reads them silently trusts nobody. */
export function peopleReferences(ctx: RuleContext): Finding[] {
  if (!Array.isArray(ctx.repo.people?.raw?.people)) return [];
  const findings: Finding[] = [];
  const check = (file: string, ids: unknown, path: string[], what: string) => {
    if (!Array.isArray(ids)) return;
    for (const [i, id] of ids.entries()) {
      if (typeof id !== 'string') continue;
      if (ctx.people.has(id)) {
        findings.push(...withoutLogin(ctx, file, id, [...path, i], what));
        continue;
      }
      findings.push(
        error(
          file,
          'unknown-person',
          `${what} "${id}" is not a person in grants/_people.yaml${didYouMean(id, ctx.people.keys())}`,
          [...path, i],
        ),
      );
    }
  };
  const settings = ctx.repo.settings;
  const roles = settings?.raw?.roles as Record<string, unknown> | undefined;
  if (settings && roles && typeof roles === 'object') {
    check(settings.file, roles['super-admin'], ['roles', 'super-admin'], 'super-admin member');
    check(settings.file, roles['users-read-write'], ['roles', 'users-read-write'], 'users-read-write member');
  }
  for (const app of ctx.apps.values()) {
    for (const { id, index } of app.approvers) {
      if (ctx.people.has(id)) {
        findings.push(...withoutLogin(ctx, app.file, id, ['approvers', index], 'approver'));
        continue;
      }
      findings.push(
        error(
          app.file,
          'unknown-person',
          `approver "${id}" is not a person in grants/_people.yaml${didYouMean(id, ctx.people.keys())}`,
          ['approvers', index],
        ),
      );
    }
  }
  return findings;
}
