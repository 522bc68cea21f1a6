/** How a connector names a person's account when _people.yaml gives none for the app. */
export type AccountRule = 'id' | 'email' | 'github';

/**
 * A person's account in an app: `accounts.<app>` when given, else what the
 * connector derives: their id, their email, or their GitHub login
 * (`accounts.github`, which every GitHub app shares and pull-request checks
 * and the audit read too). Undefined: the person has no account there.
 */
export function accountFor(
  person: { id: string; email?: string | undefined; accounts?: Record<string, string> | undefined },
  app: string,
  rule: AccountRule | undefined,
): string | undefined {
  const given = person.accounts?.[app];
  if (given !== undefined) return given;
  if (rule === 'id') return person.id;
  if (rule === 'email') return person.email;
  if (rule === 'github') return person.accounts?.github;
  return undefined;
}
